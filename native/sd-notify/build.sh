#!/bin/sh
# Builds the sd_notify addon: native/sd-notify/build/sd_notify.node (or into the directory given).
# Needs only a C compiler and the N-API headers that come with Node (official tarballs, NodeSource
# and Debian's nodejs all install include/node/node_api.h); no node-gyp, no Python, no network.
#   usage: native/sd-notify/build.sh [OUT_DIR]      (NODE, NODE_INCLUDE, CC override the search)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "build sd-notify addon: $*" >&2; exit 1; }

node=${NODE:-$(command -v node || true)}
[ -n "$node" ] || fail "node not found on PATH (set NODE=/path/to/node)"
prefix=$(dirname "$(dirname "$(readlink -f "$node")")")
include=${NODE_INCLUDE:-}
if [ -z "$include" ]; then
  for d in "$prefix/include/node" /usr/include/node /usr/local/include/node; do
    [ -f "$d/node_api.h" ] && { include=$d; break; }
  done
fi
{ [ -n "$include" ] && [ -f "$include/node_api.h" ]; } || fail "node_api.h not found (looked in $prefix/include/node, /usr/include/node): install Node from nodejs.org or NodeSource, or set NODE_INCLUDE"
cc=${CC:-cc}
command -v "$cc" >/dev/null || fail "no C compiler ($cc): sudo apt install build-essential"

out_dir=${1:-$here/build}
mkdir -p "$out_dir"
out=$out_dir/sd_notify.node
"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -I"$include" -o "$out.tmp" "$here/sd_notify.c" || fail "compiler failed"
mv "$out.tmp" "$out"
"$node" -e 'const a = require(process.argv[1]); if (typeof a.sendDatagram !== "function") process.exit(1)' "$out" \
  || fail "built $out but node cannot load it"
echo "$out"
