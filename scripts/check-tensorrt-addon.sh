#!/usr/bin/env bash
# Compile-only check of the TensorRT addon: every source file is compiled to an object file against
# the TensorRT headers in $1 (no linking, so neither libnvinfer nor a GPU is needed).
#   usage: scripts/check-tensorrt-addon.sh TRT_INCLUDE_DIR [OUT_DIR]
# Also uses CUDA_INCLUDE (default /usr/local/cuda/include), node-addon-api from node_modules and the
# headers of the running node (NODE_INCLUDE overrides). Exit 0 = all files compiled.
set -euo pipefail

trt_include=${1:?usage: $0 TRT_INCLUDE_DIR [OUT_DIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$(mktemp -d)}
cxx=${CXX:-g++}
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda/include}
node_include=${NODE_INCLUDE:-$(dirname "$(dirname "$(command -v node)")")/include/node}
[ -f "$node_include/node_api.h" ] || node_include=/usr/include/node
# node-addon-api's include_dir is relative to the working directory, so ask from the repo root.
addon_api=$(cd "$repo" || exit; node -p "require('node-addon-api').include_dir" 2>/dev/null) || addon_api=""
addon_api=$repo/${addon_api:-node_modules/node-addon-api}

for need in "$trt_include/NvInferVersion.h" "$cuda_include/cuda_runtime_api.h" "$node_include/node_api.h" "$addon_api/napi.h"; do
  [ -f "$need" ] || { echo "check-tensorrt-addon: missing $need" >&2; exit 2; }
done

version=$(sed -nE 's/^#define NV_TENSORRT_(MAJOR|MINOR|PATCH) ([0-9]+).*/\2/p' "$trt_include/NvInferVersion.h" | paste -sd.)
echo "check-tensorrt-addon: TensorRT $version headers in $trt_include, CUDA headers in $cuda_include"
mkdir -p "$out"
status=0
for src in "$repo"/native/tensorrt/src/*.cc; do
  obj=$out/$(basename "${src%.cc}").o
  if "$cxx" -std=c++17 -Wall -Wextra -Werror -Wno-deprecated-declarations -fPIC -c "$src" -o "$obj" \
      -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION \
      -isystem "$trt_include" -isystem "$cuda_include" -isystem "$node_include" -isystem "$addon_api"; then
    echo "  ok   $(basename "$src") -> $obj"
  else
    echo "  FAIL $(basename "$src")"
    status=1
  fi
done
exit $status
