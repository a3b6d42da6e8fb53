#!/bin/sh
# unpack_deb.sh PKG:ARCH DIR - unpacks a Debian package of another architecture into DIR instead of installing it,
# for a package that cannot be installed beside the native one: gnu-efi:arm64 puts its libraries at the same paths
# as gnu-efi (amd64), so apt would remove the x86 one (and break `make efi`). Downloads with apt-get (the archive's
# signed lists, nothing else); adds ARCH as a dpkg foreign architecture first when it is missing. Idempotent:
# DIR/.unpacked names the package and version, and nothing happens when it is already the candidate's.
set -e
pkg=$1 dir=$2
[ -n "$pkg" ] && [ -n "$dir" ] || { echo "usage: unpack_deb.sh PKG:ARCH DIR" >&2; exit 2; }
arch=${pkg#*:}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "  DEPS    dpkg --add-architecture $arch"
    $SUDO dpkg --add-architecture "$arch"
    $SUDO apt-get update -qq || true
fi
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    $SUDO apt-get update -qq || true
    ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
fi
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "$pkg: no such package in the apt lists" >&2; exit 1; }
[ "$(cat "$dir/.unpacked" 2>/dev/null)" = "$pkg $ver" ] && exit 0
echo "  DEPS    unpacking $pkg $ver into $dir"
tmp=$(mktemp -d)
# apt-get download writes as the _apt user when it can (else it warns and writes as root)
[ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$tmp"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null)
$SUDO rm -rf "$dir"
$SUDO mkdir -p "$dir"
$SUDO dpkg-deb -x "$tmp"/*.deb "$dir"
echo "$pkg $ver" | $SUDO tee "$dir/.unpacked" >/dev/null
