#!/usr/bin/env bash
# Builds native/tensorrt/build/Release/pafcast_trt.node on a Jetson (or any machine with TensorRT).
# Finds the TensorRT headers and libnvinfer, CUDA and node-gyp, or says which one is missing and why.
#   usage: scripts/build-tensorrt-addon.sh        (TRT_INCLUDE, TRT_LIB, CUDA_HOME override the search)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "build-tensorrt-addon: $*" >&2; exit 1; }
first_with() { # first directory among $2.. that contains file $1
  local file=$1; shift
  for d in "$@"; do [ -e "$d/$file" ] && { echo "$d"; return 0; }; done
  return 1
}

arch_dir=$(uname -m)-linux-gnu
trt_include=${TRT_INCLUDE:-$(first_with NvInferVersion.h /usr/include/"$arch_dir" /usr/include /usr/local/tensorrt/include /opt/tensorrt/include || true)}
[ -n "$trt_include" ] || fail "TensorRT headers (NvInferVersion.h) not found. On JetPack: sudo apt install nvidia-tensorrt-dev (JetPack 6) or libnvinfer-dev (JetPack 4/5); elsewhere set TRT_INCLUDE."
trt_lib=${TRT_LIB:-$(first_with libnvinfer.so /usr/lib/"$arch_dir" /usr/local/tensorrt/lib /opt/tensorrt/lib || true)}
[ -n "$trt_lib" ] || fail "libnvinfer.so not found (the -dev package provides the unversioned link). Install libnvinfer-dev or set TRT_LIB."
cuda_home=${CUDA_HOME:-$(first_with include/cuda_runtime_api.h /usr/local/cuda /usr/local/cuda-* || true)}
[ -n "$cuda_home" ] || fail "CUDA not found under /usr/local/cuda. Install the JetPack CUDA toolkit (sudo apt install nvidia-jetpack, or cuda-toolkit-*) or set CUDA_HOME."
[ -e "$cuda_home/lib64/libcudart.so" ] || fail "$cuda_home/lib64/libcudart.so missing: the CUDA toolkit is incomplete."
command -v g++ >/dev/null || fail "g++ not found: sudo apt install build-essential"
command -v python3 >/dev/null || fail "python3 not found (node-gyp needs it): sudo apt install python3"

# npm ships node-gyp; use that copy so nothing is downloaded. Headers come from the node install itself.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
gyp=$(first_with node_modules/node-gyp/bin/node-gyp.js "$node_prefix/lib/node_modules/npm" /usr/lib/node_modules/npm || true)
[ -n "$gyp" ] || fail "node-gyp not found inside npm; install it: npm i -g node-gyp"
[ -f "$node_prefix/include/node/node_api.h" ] || fail "node headers missing in $node_prefix/include/node (use an official Node tarball, which includes them)"
[ -d "$repo/node_modules/node-addon-api" ] || fail "node-addon-api missing: run npm ci in $repo first"

version=$(sed -nE 's/^#define NV_TENSORRT_(MAJOR|MINOR|PATCH) ([0-9]+).*/\2/p' "$trt_include/NvInferVersion.h" | paste -sd.)
echo "build-tensorrt-addon: TensorRT $version ($trt_include, $trt_lib), CUDA $cuda_home"
cd "$repo/native/tensorrt"
node "$gyp/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="$node_prefix" \
  -- -Dtrt_include="$trt_include" -Dtrt_lib="$trt_lib" -Dcuda_home="$cuda_home"
out=$repo/native/tensorrt/build/Release/pafcast_trt.node
[ -f "$out" ] || fail "node-gyp finished but $out is missing"
node -e "const a=require(process.argv[1]); console.log('build-tensorrt-addon: loaded, info =', JSON.stringify(a.info()))" "$out"
