// Certificates for TLS tests, made with the OpenSSL 3 API into a directory as PEM
// files: a test CA, and server certificates good, expired, for the wrong host, and
// self-signed. Each server certificate names 127.0.0.1 too (except the wrong-host
// one), so that only the defect it stands for makes verification fail.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace geosteer::testing {

struct CertificateFiles {
  std::filesystem::path certificate;  // PEM
  std::filesystem::path private_key;  // PEM, unencrypted
};

struct TlsFixtures {
  CertificateFiles ca;           // the CA to trust (ca_file)
  CertificateFiles server;       // signed by the CA for the given names and 127.0.0.1
  CertificateFiles expired;      // likewise, but its notAfter has passed
  CertificateFiles wrong_host;   // signed by the CA for wrong-host.invalid only
  CertificateFiles self_signed;  // for the given names, signed by its own key
};

// Writes every file into `directory` (created if needed). Throws std::runtime_error.
TlsFixtures make_tls_fixtures(const std::filesystem::path& directory,
                              const std::vector<std::string>& dns_names);

}  // namespace geosteer::testing
