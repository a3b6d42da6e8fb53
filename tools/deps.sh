#!/bin/sh
# deps.sh PKG... - installs the Debian packages that are missing (apt-get; sudo when not root). Never downloads
# anything else. Prints what it installs; silent when everything is present.
set -e
missing=""
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "efichat needs these Debian packages:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install$missing by hand" >&2; exit 1; }
    SUDO=sudo
fi
echo "  DEPS    installing:$missing"
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
