#!/usr/bin/env bash
# Installs the Debian packages tssnet builds and tests against, only those that are missing.
# gmpy2 and libp2p's fastecdsa compile against GMP, so a compiler and libgmp-dev come first.
# The store tests run the Redis backend against a real redis-server they start themselves.
set -euo pipefail
needed=(build-essential libgmp-dev redis-server)
missing=()
for pkg in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
