;;; guix.scm: geosteer built from this checkout with Guix's own packages.
;;;
;;;   guix build -f guix.scm            # build it
;;;   guix shell -D -f guix.scm         # a shell with its build dependencies
;;;
;;; The source is the files Git knows in this checkout (git-predicate): a file that is
;;; not yet `git add'ed is not built, and build/ and data/ are never copied.
;;;
;;; Written against Guix as of mid-2025 (package names and modules checked in its
;;; source then), but never evaluated or built with Guix: the machine this project is
;;; developed on cannot run Guix.  tests/deploy/guix_test.sh reads this file with
;;; Guile and checks that every dependency CMakeLists.txt requires is an input here.

(use-modules (guix packages)
             (guix gexp)
             (guix git-download)             ;git-predicate, git-fetch
             (guix build-system cmake)
             ((guix licenses) #:prefix license:)
             (gnu packages boost)            ;boost
             (gnu packages check)            ;googletest
             (gnu packages cmake)            ;cmake
             (gnu packages cpp)              ;nlohmann-json
             (gnu packages dns)              ;ldns
             (gnu packages gcc)              ;gcc-12
             (gnu packages geo)              ;libmaxminddb
             (gnu packages pkg-config)       ;pkg-config
             (gnu packages serialization)    ;yaml-cpp
             (gnu packages tls)              ;openssl
             (ice-9 regex)
             (ice-9 textual-ports))

(define %source-dir (dirname (current-filename)))

;; The version is the one in CMakeLists.txt's project(), so the two cannot drift.
(define %version
  (let* ((text (call-with-input-file (string-append %source-dir "/CMakeLists.txt")
                 get-string-all))
         (m (string-match "project\\(geosteer VERSION ([0-9.]+)" text)))
    (if m
        (match:substring m 1)
        (error "guix.scm: no 'project(geosteer VERSION ...)' in CMakeLists.txt"))))

;; prometheus-cpp is not packaged in Guix (not as of mid-2025), so it is defined here,
;; at the version Debian 12 ships and the project is tested with.  Only the core
;; library is built: geosteer serves /metrics itself (Boost.Beast) and never pushes,
;; so pull (civetweb), push (curl) and compression (zlib) are off.
;; The hash is the NAR hash of the tree at tag v1.0.1 (commit 76470b3e), computed from
;; Debian's orig tarball of that tag, which is GitHub's archive of it; the same method
;; gives exactly Guix's hash for googletest 1.12.1.
(define prometheus-cpp
  (package
    (name "prometheus-cpp")
    (version "1.0.1")
    (source
     (origin
       (method git-fetch)
       (uri (git-reference
             (url "https://github.com/jupp0r/prometheus-cpp")
             (commit (string-append "v" version))))
       (file-name (git-file-name name version))
       (sha256
        (base32 "0yl6893fb30pcvi56jfpzs9bh03axffhh1gxnj6c64bd38k5mjhp"))))
    (build-system cmake-build-system)
    (arguments
     (list
      #:configure-flags
      #~(list "-DBUILD_SHARED_LIBS=ON"
              ;; 3rdparty/ holds Git submodules (civetweb, googletest) that are
              ;; not fetched; use Guix's googletest instead.
              "-DUSE_THIRDPARTY_LIBRARIES=OFF"
              "-DENABLE_PULL=OFF"
              "-DENABLE_PUSH=OFF"
              "-DENABLE_COMPRESSION=OFF"
              ;; By default it forces -std=c++11, which googletest releases after
              ;; 1.12 no longer accept; the compiler's default standard is newer.
              "-DOVERRIDE_CXX_STANDARD_FLAGS=OFF")))
    (native-inputs (list googletest))
    (home-page "https://github.com/jupp0r/prometheus-cpp")
    (synopsis "Prometheus client library for C++")
    (description
     "This library instruments C++ programs with Prometheus metrics: counters,
gauges, histograms and summaries, collected into a registry and serialized in
the Prometheus text format.")
    (license license:expat)))

(define geosteer
  (package
    (name "geosteer")
    (version %version)
    (source (local-file %source-dir "geosteer-checkout"
                        #:recursive? #t
                        #:select? (git-predicate %source-dir)))
    (build-system cmake-build-system)
    (arguments
     (list
      ;; CMakeLists.txt requires CMake 3.25; cmake-build-system's default,
      ;; cmake-minimal, was 3.24 in mid-2025.
      #:cmake cmake
      ;; No tests.  Every test binary needs the MMDB fixtures that
      ;; tools/make-mmdb-fixtures.pl writes with the Perl module
      ;; MaxMind::DB::Writer, which Guix does not package (Debian's
      ;; libmaxmind-db-writer-perl has no Guix counterpart); and most of the
      ;; suite needs what a build container lacks anyway: dig and kdig, nginx,
      ;; unbound, network namespaces and root.  The tests run on Debian 12 with
      ;; tools/test.sh.  For the same reason only the `geosteer' target is
      ;; built: `all' includes the test binaries, whose fixtures need that module.
      ;; googletest stays a native input because CMakeLists.txt requires GTest at
      ;; configure time.
      #:tests? #f
      #:phases
      #~(modify-phases %standard-phases
          (replace 'build
            (lambda* (#:key parallel-build? #:allow-other-keys)
              (invoke "cmake" "--build" "." "--target" "geosteer"
                      "--parallel" (number->string
                                    (if parallel-build? (parallel-job-count) 1)))))
          ;; The install() rules of CMakeLists.txt are Debian's layout (the
          ;; binary in sbin, a systemd unit and a sysusers.d file); on Guix
          ;; System the Shepherd service of deploy/guix/geosteer.scm runs
          ;; bin/geosteer, so the binary, the README and the deployment
          ;; examples are installed here by hand.
          (replace 'install
            (lambda* (#:key source #:allow-other-keys)
              (let ((doc (string-append #$output "/share/doc/geosteer-"
                                        #$%version)))
                (install-file "geosteer" (string-append #$output "/bin"))
                (install-file (string-append source "/README.md") doc)
                (copy-recursively (string-append source "/deploy")
                                  (string-append doc "/deploy"))))))))
    (native-inputs
     ;; GCC 12 is the compiler geosteer is developed and tested with (Debian 12);
     ;; Guix's default GCC was 11 in mid-2025, whose libstdc++ lacks parts of
     ;; C++20 that the code may use.
     (list gcc-12 googletest pkg-config))
    (inputs
     (list boost ldns libmaxminddb nlohmann-json openssl prometheus-cpp yaml-cpp))
    ;; No public home page yet.
    (home-page #f)
    (synopsis "Authoritative DNS server that steers clients to the nearest mirror")
    (description
     "geosteer is an authoritative DNS server for a network of mirrors, such as
the substitute mirrors of GNU Guix.  It answers a query for a service name with
the addresses of the mirrors nearest the client, located from the EDNS Client
Subnet option (RFC 7871) or else from the resolver's address in a MaxMind-format
GeoIP database, and leaves out the mirrors its HTTP(S) health checks find down,
stale or drained.  Answers carry an ECS scope as wide as the network that gets
the same answer, so that resolvers cache them well.")
    ;; The repository does not state a license yet: set it here when it does.
    (license #f)))

geosteer
