#!/usr/bin/env bash
# arm64-preview.sh: the live view in a Debian 11 arm64 userspace (glibc 2.31, as JetPack 5) under qemu, for
# the working tree as it is (uncommitted changes included). A reduced companion of
# ../shared/tools/arm64-bullseye.sh: that script builds the rootfs and puts Node 20 in it (run it first with
# STEPS="host rootfs packages node"); this one copies the project's files (git ls-files: tracked and
# untracked-not-ignored) and the host-built dist/, runs `npm ci --ignore-scripts` inside, installs the
# live view's GStreamer packages there, then:
#   1. `require('werift')` and the glibc the rootfs has;
#   2. `pafcast doctor --json`: the live view encoder and transport lines;
#   3. `pafcast run` with preview.enabled=true on a test pattern: waits for "preview ready", POSTs a real
#      WHEP offer from a werift client running inside the rootfs (arm64 Node), checks for 201 and an H.264
#      answer, then waits up to FRAMES_S seconds for frames at that client (under emulation the first
#      pipeline frame takes minutes; this part is reported, not required).
# Results go to $WORK/preview-results/ and a summary is printed. Needs root (chroot, mount).
#
#   usage (as root): test/agent/preview/arm64-preview.sh [PROJECT_DIR] [SHARED_DIR]
#   env: WORK=/var/tmp/arm64  ROOTFS=$WORK/rootfs  HTTP_PORT=18096  BROKER_PORT=18831  READY_S=900  FRAMES_S=420
set -euo pipefail

PROJECT=$(cd "${1:-$(dirname "$0")/../../..}" && pwd)
SHARED=$(cd "${2:-$PROJECT/../shared}" && pwd)
WORK=${WORK:-/var/tmp/arm64}
ROOTFS=${ROOTFS:-$WORK/rootfs}
HTTP_PORT=${HTTP_PORT:-18096}
BROKER_PORT=${BROKER_PORT:-18831}
READY_S=${READY_S:-900}
FRAMES_S=${FRAMES_S:-420}
RES=$WORK/preview-results
CH_PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PACKAGES="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly ca-certificates"

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'arm64-preview: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$ROOTFS/opt/node/bin/node" ] || die "no Node in $ROOTFS: run ../shared/tools/arm64-bullseye.sh $PROJECT with STEPS=\"host rootfs packages node\" first"
[ -f "$PROJECT/dist/src/agent/cli/main.js" ] || die "no $PROJECT/dist: build it on the host first (npx tsc -p $PROJECT)"
mkdir -p "$RES"
: > "$RES/summary.txt"
note() { printf '%s\n' "$*" | tee -a "$RES/summary.txt" >&2; }

inroot() { chroot "$ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH="$CH_PATH" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$@"; }
inproj() { inroot sh -c 'cd /opt/pafcast && exec "$@"' sh "$@"; }

MOUNTED=()
mnt() { mountpoint -q "$2" || { mount "${@:3}" "$1" "$2" && MOUNTED+=("$2"); }; }
cleanup() {
  local i p
  for p in ${PIDS:-}; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" || true; done
}
trap cleanup EXIT
mnt proc "$ROOTFS/proc" -t proc
mnt /sys "$ROOTFS/sys" --bind
mnt /dev "$ROOTFS/dev" --bind
mkdir -p "$ROOTFS/dev/pts"; mnt /dev/pts "$ROOTFS/dev/pts" --bind
# qemu-user shows the guest the host's x86 /proc/cpuinfo; onnxruntime's cpuinfo then crashes (see arm64-bullseye.sh).
if [ "$(uname -m)" != aarch64 ] && [ -f "$WORK/cpuinfo.arm64" ]; then mnt "$WORK/cpuinfo.arm64" "$ROOTFS/proc/cpuinfo" --bind; fi
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true

say "packages in the rootfs: $PACKAGES"
inroot DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@"' sh $PACKAGES > "$RES/apt.log" 2>&1 \
  || { tail -5 "$RES/apt.log" >&2; die "apt-get in the rootfs failed"; }
note "rootfs: $(inroot ldd --version | head -1); $(inroot gst-launch-1.0 --version | sed -n 2p); node $(inroot node -p 'process.version + " " + process.arch')"

say "copying the working tree and dist/"
# Tracked and untracked-not-ignored files that exist (a tracked file deleted in the tree is left out).
list=$RES/files.txt
(cd "$PROJECT" && git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done) > "$list"
stamp=$(cd "$PROJECT" && tr '\n' '\0' < "$list" | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ "$(cat "$ROOTFS/opt/pafcast/.preview-stamp" 2>/dev/null)" != "$stamp" ]; then
  keep=""; [ -d "$ROOTFS/opt/pafcast/node_modules" ] && keep=1 && mv "$ROOTFS/opt/pafcast/node_modules" "$ROOTFS/opt/node_modules.keep"
  rm -rf "$ROOTFS/opt/pafcast"; mkdir -p "$ROOTFS/opt/pafcast"
  (cd "$PROJECT" && tar -cf - -T "$list") | tar -xf - -C "$ROOTFS/opt/pafcast"
  cp -a "$PROJECT/dist" "$ROOTFS/opt/pafcast/dist"
  [ -z "$keep" ] || mv "$ROOTFS/opt/node_modules.keep" "$ROOTFS/opt/pafcast/node_modules"
  echo "$stamp" > "$ROOTFS/opt/pafcast/.preview-stamp"
  note "copied $(wc -l < "$list") files of the working tree and dist/ (stamp $stamp)"
fi
[ -d "$ROOTFS/opt/shared/models" ] || { mkdir -p "$ROOTFS/opt/shared"; cp -a "$SHARED/models" "$ROOTFS/opt/shared/"; }

lock=$(sha256sum "$PROJECT/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$ROOTFS/opt/pafcast/node_modules/.preview-lock" 2>/dev/null)" != "$lock" ]; then
  say "npm ci --ignore-scripts in the rootfs (slow under emulation)"
  t0=$(date +%s)
  reg=(); command -v npm >/dev/null && reg=("npm_config_registry=$(npm config get registry)")
  inroot "${reg[@]}" ONNXRUNTIME_NODE_INSTALL=skip npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
    sh -c 'cd /opt/pafcast && npm ci --ignore-scripts' > "$RES/npm-ci.log" 2>&1 || { tail -8 "$RES/npm-ci.log" >&2; die "npm ci failed"; }
  echo "$lock" > "$ROOTFS/opt/pafcast/node_modules/.preview-lock"
  note "npm ci --ignore-scripts: $(grep -E '^added ' "$RES/npm-ci.log" | tail -1) ($(( $(date +%s) - t0 )) s)"
fi

say "1. werift and glibc"
note "1. $(inproj node -e 'const t = Date.now(); import("werift").then(() => console.log(`werift ${JSON.parse(require("fs").readFileSync("node_modules/werift/package.json", "utf8")).version} loads (${Date.now() - t} ms); glibc ${process.report.getReport().header.glibcVersionRuntime}; @roamhq/wrtc installed: ${require("fs").existsSync("node_modules/@roamhq/wrtc")}`))' 2>&1 | tail -1)"

say "2. doctor"
inproj node bin/pafcast.js doctor --json > "$RES/doctor.json" 2> "$RES/doctor.err" || true
note "2. $(inroot node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); for (const c of r.checks.filter((c) => /^(preview|gstreamer|encoder|glibc)/.test(c.id))) console.log(`   ${c.verdict} ${c.id}: ${c.detail}`)' < "$RES/doctor.json" 2>&1)"

say "3. pafcast run with the live view"
t0=$(date +%s)
chroot "$ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH="$CH_PATH" sh -c 'cd /opt/pafcast && exec node bin/pafcast.js run "$@"' sh \
  --source 'test://?size=640x360&rate=5' --height 160 --broker-port "$BROKER_PORT" --log-level info \
  --set preview.enabled=true --set "http.port=$HTTP_PORT" --set telemetry.scale.enabled=false > "$RES/agent.log" 2>&1 &
APID=$!; PIDS="$APID"
ready=""
for ((i = 0; i < READY_S; i++)); do
  grep -q '"msg":"preview ready"' "$RES/agent.log" 2>/dev/null && { ready=$(( $(date +%s) - t0 )); break; }
  kill -0 "$APID" 2>/dev/null || break
  sleep 1
done
[ -n "$ready" ] || { tail -20 "$RES/agent.log" >&2; die "no \"preview ready\" in $READY_S s"; }
note "3. preview ready after ${ready} s: $(grep -m1 '"msg":"preview ready"' "$RES/agent.log" | inroot node -e 'const l = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(`encoder ${l.encoder} (${l.why}), transport ${l.transport}`)')"
cat > "$ROOTFS/tmp/arm64-viewer.mjs" <<'EOF'
// Inside the rootfs: a werift WHEP client posts a real offer, prints the answer's status and codec, then frames.
const { WhepClient } = await import('/opt/pafcast/dist/src/agent/preview/whep-client.js');
const [url, seconds] = process.argv.slice(2);
const t0 = Date.now();
const c = await WhepClient.connect(url);
const codec = (/a=rtpmap:\d+ ([A-Za-z0-9]+)\/90000/.exec(c.body) ?? [])[1] ?? 'none';
const fmtp = (/a=fmtp:\d+ (.*)/.exec(c.body) ?? [])[1] ?? '';
console.log(JSON.stringify({ event: 'answer', status: c.status, ms: Date.now() - t0, codec, fmtp, location: c.location }));
const end = Date.now() + Number(seconds) * 1000;
let last = -1;
while (Date.now() < end && c.status === 201) {
  if (c.frames !== last) console.log(JSON.stringify({ event: 'frames', s: Math.round((Date.now() - t0) / 1000), state: c.connectionState, frames: c.frames, decodable: c.decodableFrames, keyframes: c.keyframes }));
  last = c.frames;
  if (c.decodableFrames >= 3) break;
  await new Promise((r) => setTimeout(r, 2000));
}
await c.close();
process.exit(0);
EOF
inroot node /tmp/arm64-viewer.mjs "http://127.0.0.1:$HTTP_PORT/whep/live" "$FRAMES_S" > "$RES/viewer.log" 2> "$RES/viewer.err" || true
note "   WHEP: $(grep -m1 '"event":"answer"' "$RES/viewer.log" || echo "no answer: $(tail -2 "$RES/viewer.err")")"
note "   frames: $(grep '"event":"frames"' "$RES/viewer.log" | tail -1 || true) (waited up to $FRAMES_S s)"
note "   agent log: $(grep -cE '"msg":"preview encoder"' "$RES/agent.log") encoder start(s); $(grep -E '"level":(40|50)|"level":"(warn|error)"' "$RES/agent.log" | grep -E 'preview|encoder' | head -3 | cut -c1-300)"
kill -INT "$APID" 2>/dev/null || true
for ((i = 0; i < 120; i++)); do kill -0 "$APID" 2>/dev/null || break; sleep 1; done
kill -KILL "$APID" 2>/dev/null || true
wait "$APID" 2>/dev/null && rc=0 || rc=$?
note "   agent exit status after SIGINT: $rc"
grep -q '"status":201' "$RES/viewer.log" && grep -qiE '"codec":"h264"' "$RES/viewer.log" && note "RESULT: 201 with an H.264 answer" || { note "RESULT: no 201 H.264 answer"; exit 1; }
