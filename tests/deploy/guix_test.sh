#!/usr/bin/env bash
# guix.scm and deploy/guix/geosteer.scm, as far as a machine without Guix can check them:
#   1. Guile reads every top-level form of both files (with the #~ #$ #$@ #+ #+@
#      syntax of Guix's G-expressions registered, as (guix gexp) does); a read error
#      names the file, where it was and Guile's message.
#   2. Every dependency CMakeLists.txt requires (find_package(... REQUIRED) and the
#      modules of pkg_check_modules) is an input of the geosteer package in guix.scm,
#      by the table below from CMake names to Guix package variables, and the Guix
#      module that exports it is imported there (or guix.scm defines it itself).
#   3. The shape Guix relies on: guix.scm ends with the package; the service file is
#      the module (geosteer), named for its path under deploy/guix, and defines what
#      it exports.
# Nothing here evaluates the files with Guix or builds anything: that needs Guix.
#
# Usage: guix_test.sh SOURCE_DIR
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
source=$(realpath "$1")

if ! command -v guile >/dev/null 2>&1; then
  echo "FAIL: guile is not installed; this test reads guix.scm and deploy/guix/geosteer.scm" \
       "with it (Debian: apt-get install guile-3.0)" >&2
  exit 1
fi

# shellcheck disable=SC2016  # Scheme, not shell: nothing to expand.
program='
(use-modules (ice-9 match) (ice-9 regex) (ice-9 textual-ports) (srfi srfi-1))

;; CMake name (a find_package package or a pkg-config module) -> the Guix package
;; variable that provides it and the module exporting that variable.  #f as module:
;; guix.scm defines the package itself.  #f as variable: nothing to add (the C library
;; and the compiler come with every Guix build).
(define %cmake->guix
  (quote (("PkgConfig"      pkg-config     (gnu packages pkg-config))
          ("ldns"           ldns           (gnu packages dns))
          ("libmaxminddb"   libmaxminddb   (gnu packages geo))
          ("yaml-cpp"       yaml-cpp       (gnu packages serialization))
          ("Boost"          boost          (gnu packages boost))
          ("Threads"        #f             #f)
          ("OpenSSL"        openssl        (gnu packages tls))
          ("prometheus-cpp" prometheus-cpp #f)            ;not in Guix: in guix.scm
          ("nlohmann_json"  nlohmann-json  (gnu packages cpp))
          ("GTest"          googletest     (gnu packages check)))))

(define source (cadr (command-line)))
(define (path relative) (string-append source "/" relative))
(define failures 0)
(define (fail fmt . args)
  (set! failures (+ failures 1))
  (display "FAIL: " (current-error-port))
  (apply format (current-error-port) fmt args)
  (newline (current-error-port)))
(define (ok fmt . args)
  (display "ok: ")
  (apply format #t fmt args)
  (newline))

;; G-expression syntax, read as (guix gexp) reads it.
(read-hash-extend #\~ (lambda (chr port) (list (quote gexp) (read port))))
(define (ungexp-reader plain splicing)
  (lambda (chr port)
    (if (eqv? (peek-char port) #\@)
        (begin (read-char port) (list splicing (read port)))
        (list plain (read port)))))
(read-hash-extend #\$ (ungexp-reader (quote ungexp) (quote ungexp-splicing)))
(read-hash-extend #\+ (ungexp-reader (quote ungexp-native) (quote ungexp-native-splicing)))

;; Every top-level form of FILE, or #f after reporting where reading failed.
(define unreadable (list (quote unreadable)))
(define (read-forms file)
  (call-with-input-file (path file)
    (lambda (port)
      (let loop ((forms (quote ())) (after-line 0))
        (let ((form (catch #t
                      (lambda () (read port))
                      (lambda (key . args)
                        (match args
                          ((subr message format-args . _)
                           (fail "~a: cannot be read, in the top-level form after line ~a: ~a"
                                 file after-line
                                 (apply format #f message (or format-args (quote ())))))
                          (_ (fail "~a: cannot be read, in the top-level form after line ~a: ~s ~s"
                                   file after-line key args)))
                        unreadable))))
          (cond ((eq? form unreadable) #f)
                ((eof-object? form)
                 (ok "~a: Guile reads its ~a top-level forms" file (length forms))
                 (reverse forms))
                (else (loop (cons form forms) (+ 1 (port-line port))))))))))

(define (flatten x)
  (cond ((pair? x) (append (flatten (car x)) (flatten (cdr x))))
        ((null? x) (quote ()))
        (else (list x))))

;; The (package ...) form with (name "NAME") anywhere in FORMS.
(define (find-package forms name)
  (let search ((x forms))
    (cond ((and (pair? x) (eq? (car x) (quote package))
                (list? x) (member (list (quote name) name) (cdr x)))
           x)
          ((pair? x) (or (search (car x)) (search (cdr x))))
          (else #f))))

;; The modules a use-modules form imports, as (MODULE . SELECTED-OR-#t).
(define (imports forms)
  (append-map (lambda (form)
                (match form
                  (((quote use-modules) specs ...)
                   (map (lambda (spec)
                          (match spec
                            (((? pair? module) options ...)
                             (let ((select (member #:select options)))
                               (cons module (if select (cadr select) #t))))
                            (module (cons module #t))))
                        specs))
                  (_ (quote ()))))
              forms))

(define (defined-names forms)
  (filter-map (lambda (form)
                (match form
                  (((or (quote define) (quote define-public)) (? symbol? name) . _) name)
                  (((or (quote define) (quote define-public)) ((? symbol? name) . _) . _) name)
                  (((quote define-record-type*) _ constructor . _) constructor)
                  (_ #f)))
              forms))

;; CMake dependencies: (NAME . "find_package" | "pkg_check_modules").
(define (cmake-dependencies file)
  (let* ((text (call-with-input-file (path file) get-string-all))
         (code (regexp-substitute/global #f "#[^\n]*" text (quote pre) (quote post)))
         (calls (lambda (command)
                  (map (lambda (m) (string-tokenize (match:substring m 1)
                                                    (char-set-complement
                                                     (char-set #\space #\tab #\newline))))
                       (list-matches (string-append command "\\(([^)]*)\\)") code)))))
    (append
     (filter-map (lambda (args)
                   (and (member "REQUIRED" args)
                        (cons (car args) "find_package")))
                 (calls "find_package"))
     (append-map (lambda (args)
                   ;; pkg_check_modules(PREFIX [REQUIRED] [QUIET] [IMPORTED_TARGET
                   ;; [GLOBAL]] ... MODULE[>=VERSION] ...)
                   (filter-map (lambda (arg)
                                 (and (not (member arg (quote ("REQUIRED" "QUIET" "IMPORTED_TARGET"
                                                               "GLOBAL" "NO_CMAKE_PATH"
                                                               "NO_CMAKE_ENVIRONMENT_PATH"))))
                                      (cons (car (string-split
                                                  (regexp-substitute/global
                                                   #f "[<>=].*" arg (quote pre))
                                                  #\space))
                                            "pkg_check_modules")))
                               (cdr args)))
                 (calls "pkg_check_modules")))))

(define guix-forms (read-forms "guix.scm"))
(define service-forms (read-forms "deploy/guix/geosteer.scm"))

;; 2. CMake dependencies against the package inputs.
(when guix-forms
  (let* ((package (find-package guix-forms "geosteer"))
         (inputs (if package
                     (append-map (lambda (field)
                                   (match field
                                     (((or (quote inputs) (quote native-inputs)
                                           (quote propagated-inputs)) . value)
                                      (filter symbol? (flatten value)))
                                     (_ (quote ()))))
                                 (cdr package))
                     (quote ())))
         (imported (imports guix-forms))
         (defined (defined-names guix-forms))
         (dependencies (delete-duplicates
                        (append (cmake-dependencies "CMakeLists.txt")
                                (cmake-dependencies "tests/CMakeLists.txt")))))
    (unless package
      (fail "guix.scm: no (package (name \"geosteer\") ...) form"))
    (when (null? dependencies)
      (fail "CMakeLists.txt: no find_package(... REQUIRED) or pkg_check_modules found"))
    (for-each
     (match-lambda
       ((name . how)
        (match (assoc name %cmake->guix)
          (#f (fail "CMakeLists.txt requires ~a (~a), which the table in ~a does not know: add its Guix package there and to guix.scm"
                    name how "tests/deploy/guix_test.sh"))
          ((_ #f _) (ok "~a (~a): comes with every Guix build, no input" name how))
          ((_ variable module)
           (cond ((not (memq variable inputs))
                  (fail "guix.scm: CMakeLists.txt requires ~a (~a) but ~a is not an input of geosteer"
                        name how variable))
                 ((not module)
                  (if (memq variable defined)
                      (ok "~a (~a): input ~a, defined in guix.scm" name how variable)
                      (fail "guix.scm: input ~a (for ~a) is not packaged in Guix, and guix.scm does not define it"
                            variable name)))
                 (else
                  (match (assoc module imported)
                    (#f (fail "guix.scm: input ~a (for ~a) needs (use-modules ~s)"
                              variable name module))
                    ((_ . #t) (ok "~a (~a): input ~a from ~s" name how variable module))
                    ((_ . selected)
                     (if (memq variable selected)
                         (ok "~a (~a): input ~a from ~s" name how variable module)
                         (fail "guix.scm: ~s is imported without ~a (for ~a) in its #:select"
                               module variable name))))))))))
     dependencies)))

;; 3. The shape Guix relies on.
(when guix-forms
  (match (last guix-forms)
    ((? symbol? name)
     (if (memq name (defined-names guix-forms))
         (ok "guix.scm: ends with ~a, which `guix build -f` builds" name)
         (fail "guix.scm: ends with ~a, which it does not define" name)))
    (form (fail "guix.scm: must end with the package variable, not ~s"
                (if (pair? form) (car form) form)))))
(when service-forms
  (match (car service-forms)
    (((quote define-module) (quote (geosteer)) options ...)
     (let* ((exports (let loop ((options options))
                       (match options
                         ((#:export names . _) names)
                         ((_ . rest) (loop rest))
                         (() (quote ())))))
            (defined (append (defined-names service-forms)
                             ;; the accessors define-record-type* makes
                             (append-map
                              (lambda (form)
                                (match form
                                  (((quote define-record-type*) _ _ _ predicate fields ...)
                                   (cons predicate
                                         (filter-map (match-lambda
                                                       ((_ (? symbol? accessor) . _) accessor)
                                                       (_ #f))
                                                     fields)))
                                  (_ (quote ()))))
                              service-forms)))
            (missing (remove (lambda (name) (memq name defined)) exports)))
       (cond ((not (and (memq (quote geosteer-service-type) exports)
                        (memq (quote geosteer-configuration) exports)))
              (fail "deploy/guix/geosteer.scm: must export geosteer-service-type and geosteer-configuration"))
             ((pair? missing)
              (fail "deploy/guix/geosteer.scm: exports what it does not define: ~s" missing))
             (else (ok "deploy/guix/geosteer.scm: module (geosteer) defines the ~a names it exports"
                       (length exports))))))
    (((quote define-module) name . _)
     (fail "deploy/guix/geosteer.scm: module ~s; with -L deploy/guix its path makes it (geosteer)" name))
    (_ (fail "deploy/guix/geosteer.scm: does not start with define-module"))))

(exit (if (and guix-forms service-forms (zero? failures)) 0 1))
'

guile --no-auto-compile -c "$program" "$source"
