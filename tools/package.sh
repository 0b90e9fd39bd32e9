#!/usr/bin/env bash
# Builds the Debian package of geosteer with CPack and checks it with lintian.
#
#   tools/package.sh            # -> build-package/geosteer_<version>_<arch>.deb
#
# The build has a directory of its own (GEOSTEER_PACKAGE_BUILD_DIR, default
# build-package/): Release, prefix /usr, no tests, Debian's hardening flags from
# dpkg-buildflags, as a Debian build would use. lintian's errors fail the script;
# its warnings and notes are printed. The last line is the path of the .deb.
# Needs cmake, ninja, dpkg-dev (dpkg-shlibdeps, dpkg-buildflags) and lintian.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GEOSTEER_PACKAGE_BUILD_DIR:-build-package}

for tool in cmake cpack ninja dpkg-shlibdeps dpkg-buildflags lintian; do
  command -v "$tool" >/dev/null 2>&1 || { echo "package.sh: $tool is missing (apt-get install lintian dpkg-dev cmake ninja-build)" >&2; exit 1; }
done

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Debian's flags (fortify, stack protector, relro, bindnow), which lintian checks for;
# the file prefix map keeps the build directory out of the binary.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DBUILD_TESTING=OFF "-DCMAKE_CXX_FLAGS=$cxxflags" "-DCMAKE_EXE_LINKER_FLAGS=$ldflags" \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

# One package per run: an older .deb of another version must not be taken for it.
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "package.sh: cpack made no single .deb" >&2; exit 1; }
deb=$(realpath "${debs[0]}")

dpkg-deb --field "$deb"
dpkg-deb --contents "$deb"

# --fail-on error: E: tags fail, W: and I: are printed. As root lintian warns that
# root is not recommended, and goes on.
echo "lintian:"
lintian --fail-on error --display-info --tag-display-limit 0 "$deb" || {
  echo "package.sh: lintian found errors in $deb" >&2
  exit 1
}
echo "package.sh: lintian found no error"
echo "$deb"
