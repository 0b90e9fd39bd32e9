#include "tests/support/tls_fixtures.h"

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace geosteer::testing {
namespace {

constexpr long kDay = 24 * 3600;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls fixtures: ") + what + " failed");
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

// Validity relative to now, in seconds.
struct Validity {
  long not_before, not_after;
};

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, signed by `issuer_key` (and named
// after `issuer`, or after itself when issuer is null: self-signed).
Cert make_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                      EVP_PKEY* issuer_key, Validity validity, bool is_ca,
                      const std::string& subject_alt_names) {
  static long serial = 1;
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);  // v3, for extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extension(cert.get(), signer, NID_basic_constraints,
                is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (is_ca) {
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, subject_alt_names);
  }
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

struct File {
  explicit File(const std::filesystem::path& path) : handle(std::fopen(path.c_str(), "w")) {
    check(handle != nullptr, "fopen");
  }
  ~File() { std::fclose(handle); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  FILE* handle;
};

CertificateFiles write_pair(const std::filesystem::path& directory, const std::string& stem,
                            X509* cert, EVP_PKEY* key) {
  CertificateFiles files{directory / (stem + ".crt"), directory / (stem + ".key")};
  {
    File out(files.certificate);
    check(PEM_write_X509(out.handle, cert) == 1, "PEM_write_X509");
  }
  File out(files.private_key);
  check(PEM_write_PrivateKey(out.handle, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_PrivateKey");
  return files;
}

std::string alt_names(const std::vector<std::string>& dns_names, bool with_loopback) {
  std::vector<std::string> entries;
  for (const std::string& name : dns_names) entries.push_back("DNS:" + name);
  if (with_loopback) entries.push_back("IP:127.0.0.1");
  std::string joined;
  for (const std::string& entry : entries) {
    if (!joined.empty()) joined += ',';
    joined += entry;
  }
  return joined;
}

}  // namespace

TlsFixtures make_tls_fixtures(const std::filesystem::path& directory,
                              const std::vector<std::string>& dns_names) {
  std::filesystem::create_directories(directory);
  const Validity current{-kDay, 30 * kDay};
  const Validity past{-30 * kDay, -kDay};
  const std::string names = alt_names(dns_names, true);
  const std::string subject = dns_names.empty() ? "127.0.0.1" : dns_names.front();

  Key ca_key = new_key();
  Cert ca = make_certificate(ca_key.get(), "geosteer test CA", nullptr, ca_key.get(),
                             {-kDay, 365 * kDay}, true, "");
  TlsFixtures fixtures;
  fixtures.ca = write_pair(directory, "ca", ca.get(), ca_key.get());

  auto signed_by_ca = [&](const std::string& stem, Validity validity, const std::string& cn,
                          const std::string& sans) {
    Key key = new_key();
    Cert cert = make_certificate(key.get(), cn, ca.get(), ca_key.get(), validity, false, sans);
    return write_pair(directory, stem, cert.get(), key.get());
  };
  fixtures.server = signed_by_ca("server", current, subject, names);
  fixtures.expired = signed_by_ca("expired", past, subject, names);
  fixtures.wrong_host =
      signed_by_ca("wrong-host", current, "wrong-host.invalid", "DNS:wrong-host.invalid");

  Key self_key = new_key();
  Cert self = make_certificate(self_key.get(), subject, nullptr, self_key.get(), current, false,
                               names);
  fixtures.self_signed = write_pair(directory, "self-signed", self.get(), self_key.get());
  return fixtures;
}

}  // namespace geosteer::testing
