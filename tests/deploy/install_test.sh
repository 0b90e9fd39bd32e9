#!/usr/bin/env bash
# The install rules of CMakeLists.txt: `cmake --install BUILD_DIR --prefix TMP` under a
# DESTDIR of the test (so that a destination that is absolute, as /etc for the /usr
# prefix, cannot touch the machine) puts the binary, the manual page, the systemd unit,
# the sysusers.d file, the configuration and the documentation where the build's
# settings (its CMakeCache.txt) say, and nowhere else; the binary runs, man renders the
# page without a warning, and the unit names the installed binary and configuration.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(realpath "$1") source=$(realpath "$2")
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
command -v man >/dev/null || fail "man is missing (apt-get install man-db)"

work=$(mktemp -d /tmp/geosteer-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root" prefix="$work/prefix"

status=0
DESTDIR="$root" cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 || status=$?
[ $status -eq 0 ] || { cat "$work/install.log" >&2; fail "cmake --install: exit status $status"; }
ok "cmake --install --prefix $prefix with DESTDIR=$root: $(grep -c 'Installing:' "$work/install.log") files"

# Where each file belongs: a relative destination is under the prefix given to
# --prefix, an absolute one (the /usr prefix's /etc, systemd's directories) as is;
# both under DESTDIR.
# GNUInstallDirs leaves MANDIR and DOCDIR empty in the cache when they are derived
# from DATAROOTDIR, as by default.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
configured_prefix=$(cache CMAKE_INSTALL_PREFIX)
datarootdir=$(cache CMAKE_INSTALL_DATAROOTDIR) mandir=$(cache CMAKE_INSTALL_MANDIR) docdir=$(cache CMAKE_INSTALL_DOCDIR)
at() { case $1 in /*) echo "$root$1" ;; *) echo "$root$prefix/$1" ;; esac; }
if [ "$configured_prefix" = /usr ]; then etc=/etc; else etc=$(cache CMAKE_INSTALL_SYSCONFDIR); fi
sbin=$(at "$(cache CMAKE_INSTALL_SBINDIR)")
man8=$(at "${mandir:-$datarootdir/man}/man8")
doc=$(at "${docdir:-$datarootdir/doc/geosteer}")
unit_dir=$(at "$(cache GEOSTEER_SYSTEMD_UNIT_DIR)")
sysusers_dir=$(at "$(cache GEOSTEER_SYSUSERS_DIR)")
config_dir=$(at "$etc/geosteer")

expected=(
  "$sbin/geosteer"
  "$man8/geosteer.8.gz"
  "$unit_dir/geosteer.service"
  "$sysusers_dir/geosteer.conf"
  "$config_dir/geosteer.yaml"
  "$doc/README.md"
  "$doc/copyright"
  "$doc/changelog.gz"
  "$doc/examples/guix.yaml"
  "$doc/examples/mirror/nginx.conf"
)
for file in "${expected[@]}"; do
  [ -f "$file" ] || { find "$root" -type f | sort >&2; fail "${file#"$root"} is not installed"; }
done
ok "installed: $(for file in "${expected[@]}"; do printf '%s ' "${file#"$root"}"; done)"
# Nothing else: every file installed is one of these, or under the documentation.
while IFS= read -r file; do
  case " ${expected[*]} " in *" $file "*) continue ;; esac
  [[ $file == "$doc"/* ]] || fail "${file#"$root"} is installed, but no rule of this test expects it"
done < <(find "$root" -type f)
# With a prefix other than /usr every destination is relative: --prefix moves them all.
if [ "$configured_prefix" != /usr ]; then
  stray=$(find "$root" -type f ! -path "$root$prefix/*")
  [ -z "$stray" ] || fail "installed outside the prefix given to --prefix: $stray"
  ok "with the prefix $configured_prefix every file follows --prefix"
fi

# The binary runs and is executable by all; the configuration is the example,
# readable by all (the unit's user reads it) and writable by root only.
[ "$(stat -c %a "$sbin/geosteer")" = 755 ] || fail "geosteer has mode $(stat -c %a "$sbin/geosteer")"
version=$("$sbin/geosteer" --version) || fail "the installed geosteer does not run"
[[ $version == "geosteer "* ]] || fail "geosteer --version printed '$version'"
cmp -s "$config_dir/geosteer.yaml" "$source/deploy/examples/guix.yaml" ||
  fail "geosteer.yaml is not deploy/examples/guix.yaml"
[ "$(stat -c %a "$config_dir/geosteer.yaml")" = 644 ] || fail "geosteer.yaml has mode $(stat -c %a "$config_dir/geosteer.yaml")"
cmp -s "$sysusers_dir/geosteer.conf" "$source/deploy/systemd/geosteer.sysusers" ||
  fail "geosteer.conf is not deploy/systemd/geosteer.sysusers"
ok "the installed $version runs; the configuration is the Guix example, mode 644"

# The unit names where this build installs the binary and the configuration (for the
# configured prefix: --prefix cannot change what the unit says), and is the source's
# unit otherwise.
full_sbin=$configured_prefix/$(cache CMAKE_INSTALL_SBINDIR)
[ "$configured_prefix" = /usr ] && full_etc=/etc || full_etc=$configured_prefix/$etc
grep -qx "ExecStart=$full_sbin/geosteer serve -c $full_etc/geosteer/geosteer.yaml" "$unit_dir/geosteer.service" ||
  { grep '^Exec' "$unit_dir/geosteer.service" >&2; fail "the unit does not serve $full_etc/geosteer/geosteer.yaml with $full_sbin/geosteer"; }
grep -qx "ExecReload=$full_sbin/geosteer ctl reload" "$unit_dir/geosteer.service" ||
  fail "the unit does not reload with $full_sbin/geosteer ctl reload"
diff <(grep -v '^Exec' "$source/deploy/systemd/geosteer.service") \
     <(grep -v '^Exec' "$unit_dir/geosteer.service") >&2 ||
  fail "the installed unit differs from deploy/systemd/geosteer.service beyond its paths"
ok "the unit runs $full_sbin/geosteer with $full_etc/geosteer/geosteer.yaml"

# man renders the installed page, compressed, with no warning from man or groff.
zcat "$man8/geosteer.8.gz" | cmp -s - "$source/deploy/man/geosteer.8" || fail "geosteer.8.gz is not deploy/man/geosteer.8"
MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$man8/geosteer.8.gz" >"$work/page.txt" 2>"$work/man.log" ||
  { cat "$work/man.log" >&2; fail "man -l cannot render the installed page"; }
[ ! -s "$work/man.log" ] || { cat "$work/man.log" >&2; fail "man -l warns about the installed page"; }
for heading in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS SIGNALS FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  grep -qx "$heading" "$work/page.txt" || fail "the page has no $heading section"
done
grep -q "geosteer serve -c file" "$work/page.txt" || fail "the page's synopsis has no serve"
ok "man -l renders geosteer(8) ($(wc -l <"$work/page.txt") lines) with every section, no warning"
zcat "$doc/changelog.gz" | head -1 | grep -q "^geosteer (" || fail "changelog.gz is not a Debian changelog"
