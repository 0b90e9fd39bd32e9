;;; deploy/guix/geosteer.scm: geosteer as a Guix System service.
;;;
;;; The module is (geosteer): put this folder on Guix's load path with
;;; `-L DIR/deploy/guix' (not `-L DIR': the checkout's own guix.scm would then
;;; shadow Guix's (guix) module).  An operating-system declaration uses it so:
;;;
;;;   (use-modules (gnu) (geosteer))
;;;
;;;   (operating-system
;;;     ;; ... host-name, bootloader, file-systems, users ...
;;;     (services
;;;      (cons* (service geosteer-service-type
;;;                      (geosteer-configuration
;;;                       (config-file (local-file "geosteer.yaml"))))
;;;             %base-services)))
;;;
;;;   guix system -L /path/to/geosteer/deploy/guix reconfigure config.scm
;;;   herd status geosteer
;;;   herd check geosteer            # geosteer check -c on the configuration
;;;   herd reload geosteer           # SIGHUP: configuration and GeoIP databases
;;;
;;; What it sets up:
;;;   - a `geosteer' system user and group (for the default user and group);
;;;   - the configuration file as /etc/geosteer.yaml when it is a file-like object
;;;     (a fixed name, so that `herd reload' after `guix system reconfigure' reads
;;;     the new one), or the file name as given when it is a string;
;;;   - /var/lib/geosteer, owned by that user, as the working directory: relative
;;;     paths in the YAML (GeoIP databases, zone files) are relative to it;
;;;   - unless the service runs as root, a copy of the binary at
;;;     /run/privileged/bin/geosteer with the capability CAP_NET_BIND_SERVICE,
;;;     so that the unprivileged user can listen on port 53 (geosteer does not
;;;     drop privileges itself).  Any user can run that copy and bind low ports
;;;     with it; set bind-privileged-ports? to #f when the configuration listens
;;;     on ports above 1023 only;
;;;   - the Shepherd service `geosteer', which runs `geosteer serve -c CONFIG'
;;;     and logs to /var/log/geosteer.log;
;;;   - geosteer in the system profile, for `geosteer locate' and `probe'.
;;;
;;; Written against Guix and the Shepherd 1.0 as of mid-2025
;;; (privileged-program-service-type appeared in late 2024), but never run with
;;; Guix: tests/deploy/guix_test.sh only reads it with Guile.

(define-module (geosteer)
  #:use-module (gnu services)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system privilege)
  #:use-module (gnu system shadow)
  #:use-module ((gnu packages admin) #:select (shadow))
  #:use-module ((gnu packages bash) #:select (bash-minimal))
  #:use-module (guix diagnostics)
  #:use-module (guix gexp)
  #:use-module (guix i18n)
  #:use-module (guix records)
  #:use-module (guix utils)
  #:use-module (srfi srfi-34)
  #:export (geosteer-configuration
            geosteer-configuration?
            geosteer-configuration-package
            geosteer-configuration-config-file
            geosteer-configuration-user
            geosteer-configuration-group
            geosteer-configuration-directory
            geosteer-configuration-log-level
            geosteer-configuration-log-file
            geosteer-configuration-bind-privileged-ports?
            geosteer-configuration-open-files-limit
            geosteer-configuration-requirement
            geosteer-configuration-extra-options
            geosteer-service-type))

;;; The package: by default the one guix.scm at the top of this checkout builds.

(define %checkout
  ;; deploy/guix/ -> the top of the checkout.
  (dirname (dirname (current-source-directory))))

(define %geosteer-from-checkout
  ;; Loaded once, when a configuration without a package is made, in a module
  ;; of its own so that guix.scm's definitions stay out of the caller's.
  (delay
    (let ((file (string-append %checkout "/guix.scm")))
      (save-module-excursion
       (lambda ()
         (set-current-module (make-fresh-user-module))
         (load file))))))

(define %log-levels '("debug" "info" "warning" "error"))

(define (validate-config-file value)
  (if (or (file-like? value)
          (and (string? value) (absolute-file-name? value)))
      value
      (raise (formatted-message
              (G_ "geosteer-configuration: config-file must be a file-like \
object or an absolute file name, not ~s")
              value))))

(define (validate-log-level value)
  (if (member value %log-levels)
      value
      (raise (formatted-message
              (G_ "geosteer-configuration: log-level must be one of ~s, not ~s")
              %log-levels value))))

(define-record-type* <geosteer-configuration>
  geosteer-configuration make-geosteer-configuration
  geosteer-configuration?
  (package     geosteer-configuration-package          ;file-like
               (default (force %geosteer-from-checkout)))
  ;; The YAML configuration (deploy/examples/guix.yaml shows one): a file-like
  ;; object such as (local-file "geosteer.yaml"), or an absolute file name of a
  ;; file kept outside the store.  No default: it must be given.
  (config-file geosteer-configuration-config-file
               (sanitize validate-config-file))
  (user        geosteer-configuration-user             ;string
               (default "geosteer"))
  (group       geosteer-configuration-group            ;string
               (default "geosteer"))
  (directory   geosteer-configuration-directory        ;string
               (default "/var/lib/geosteer"))
  (log-level   geosteer-configuration-log-level        ;string
               (default "info")
               (sanitize validate-log-level))
  (log-file    geosteer-configuration-log-file         ;string
               (default "/var/log/geosteer.log"))
  ;; Give the binary CAP_NET_BIND_SERVICE (see above); ignored for root.
  (bind-privileged-ports? geosteer-configuration-bind-privileged-ports?
                          (default #t))
  ;; Soft and hard RLIMIT_NOFILE: geosteer raises its soft limit to the hard
  ;; one and needs tcp_max_connections descriptors per query thread.
  (open-files-limit geosteer-configuration-open-files-limit ;integer
                    (default 65536))
  ;; Shepherd services to start first, besides user-processes.
  (requirement geosteer-configuration-requirement      ;list of symbols
               (default '(networking)))
  ;; More command-line arguments for `geosteer serve'.
  (extra-options geosteer-configuration-extra-options  ;list of strings
                 (default '())))

(define (geosteer-config-path config)
  "The file name `geosteer serve -c' is given."
  (let ((file (geosteer-configuration-config-file config)))
    (if (string? file) file "/etc/geosteer.yaml")))

(define (geosteer-capability? config)
  (and (geosteer-configuration-bind-privileged-ports? config)
       (not (string=? (geosteer-configuration-user config) "root"))))

(define (geosteer-server-program config)
  "The binary the service runs: the privileged copy when it needs one."
  (if (geosteer-capability? config)
      "/run/privileged/bin/geosteer"
      (file-append (geosteer-configuration-package config) "/bin/geosteer")))

;;; Extensions.

(define (geosteer-accounts config)
  (match-record config <geosteer-configuration> (user group)
    (if (string=? user "root")
        '()
        (list (user-group
               (name group)
               (system? #t))
              (user-account
               (name user)
               (group group)
               (system? #t)
               (comment "geosteer DNS server")
               (home-directory "/var/empty")
               (shell (file-append shadow "/sbin/nologin")))))))

(define (geosteer-activation config)
  (match-record config <geosteer-configuration> (user group directory)
    (with-imported-modules '((guix build utils))
      #~(begin
          (use-modules (guix build utils))
          (mkdir-p #$directory)
          (chown #$directory
                 (passwd:uid (getpwnam #$user))
                 (group:gid (getgrnam #$group)))
          (chmod #$directory #o755)))))

(define (geosteer-etc-files config)
  (let ((file (geosteer-configuration-config-file config)))
    (if (string? file)
        '()
        `(("geosteer.yaml" ,file)))))

(define (geosteer-privileged-programs config)
  (if (geosteer-capability? config)
      (list (privileged-program
             (program (file-append (geosteer-configuration-package config)
                                   "/bin/geosteer"))
             (capabilities "cap_net_bind_service=+ep")))
      '()))

(define (geosteer-shepherd-service config)
  (match-record config <geosteer-configuration>
    (package user group directory log-level log-file open-files-limit
             (requirement extra-requirement) extra-options)
    (let ((server (geosteer-server-program config))
          (geosteer (file-append package "/bin/geosteer"))
          (config-path (geosteer-config-path config)))
      (list
       (shepherd-service
        (provision '(geosteer))
        (documentation "Run geosteer, the authoritative DNS server that steers
clients to the nearest healthy mirror.")
        (requirement `(user-processes ,@extra-requirement))
        (modules `((ice-9 textual-ports) ,@%default-modules))
        (start #~(make-forkexec-constructor
                  (list #$server "serve" "-c" #$config-path
                        "--log-level" #$log-level
                        #$@extra-options)
                  #:user #$user
                  #:group #$group
                  #:directory #$directory
                  #:log-file #$log-file
                  #:resource-limits
                  '((nofile #$open-files-limit #$open-files-limit))
                  ;; Guix's OpenSSL looks for CAs in the store; the health
                  ;; checks verify mirrors against the system's.
                  #:environment-variables
                  (list "SSL_CERT_DIR=/run/current-system/profile/etc/ssl/certs"
                        "SSL_CERT_FILE=/run/current-system/profile\
/etc/ssl/certs/ca-certificates.crt")))
        (stop #~(make-kill-destructor))
        (actions
         (list
          (shepherd-configuration-action config-path)
          (shepherd-action
           (name 'reload)
           (documentation "Send SIGHUP to geosteer: it loads the configuration
file and the GeoIP databases again without dropping a query.  A broken
configuration is logged and the running one keeps serving.")
           (procedure
            #~(lambda (running . _)
                (if running
                    ;; A PID with Shepherd 0.9, a <process> record since 0.10.
                    (let ((pid (if (integer? running)
                                   running
                                   (process-id running))))
                      (kill pid SIGHUP)
                      (format #t "geosteer (PID ~a) is reloading ~a; see ~a.~%"
                              pid #$config-path #$log-file)
                      #t)
                    (begin
                      (format #t "geosteer is not running.~%")
                      #f)))))
          (shepherd-action
           (name 'check)
           (documentation "Validate the configuration file as `serve' would
load it, with `geosteer check -c', and print what it reports.")
           (procedure
            #~(lambda _
                ;; The check runs in the service's directory, where relative
                ;; GeoIP and zone file names resolve, and its output is
                ;; relayed to herd through a temporary file.
                (let* ((port (mkstemp! (string-copy
                                        "/tmp/geosteer-check-XXXXXX")))
                       (output (port-filename port)))
                  (close-port port)
                  (let ((status
                         (system* #$(file-append bash-minimal "/bin/sh") "-c"
                                  "cd \"$1\" && exec \"$2\" check -c \"$3\" >\"$4\" 2>&1"
                                  "geosteer-check" #$directory #$geosteer
                                  #$config-path output)))
                    (display (call-with-input-file output get-string-all))
                    (delete-file output)
                    (and (integer? status)
                         (eqv? 0 (status:exit-val status)))))))))))))))

(define geosteer-service-type
  (service-type
   (name 'geosteer)
   (extensions
    (list (service-extension shepherd-root-service-type
                             geosteer-shepherd-service)
          (service-extension account-service-type
                             geosteer-accounts)
          (service-extension activation-service-type
                             geosteer-activation)
          (service-extension etc-service-type
                             geosteer-etc-files)
          (service-extension privileged-program-service-type
                             geosteer-privileged-programs)
          (service-extension profile-service-type
                             (lambda (config)
                               (list (geosteer-configuration-package config))))))
   ;; No default value: a geosteer-configuration with a config-file is required.
   (description
    "Run geosteer, an authoritative DNS server that answers each client with
the addresses of the mirrors nearest to it (GeoIP and EDNS Client Subnet) that
its health checks find up.")))
