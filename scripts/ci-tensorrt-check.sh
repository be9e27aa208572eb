#!/usr/bin/env bash
# CI entry point for the TensorRT addon: compile-checks it against every TensorRT include directory
# listed in PAFCAST_TRT_INCLUDE (colon-separated). Without that variable it skips, and says so.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PAFCAST_TRT_INCLUDE:-}" ]; then
  echo "ci-tensorrt-check: skipped: no TensorRT include dir configured (set PAFCAST_TRT_INCLUDE=dir[:dir...])"
  exit 0
fi

failed=0
IFS=: read -r -a dirs <<<"$PAFCAST_TRT_INCLUDE"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] || continue
  if "$here/check-tensorrt-addon.sh" "$dir"; then
    echo "ci-tensorrt-check: PASS $dir"
  else
    echo "ci-tensorrt-check: FAIL $dir"
    failed=1
  fi
done
exit $failed
