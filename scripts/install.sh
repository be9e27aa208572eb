#!/usr/bin/env bash
# Installs pafcast as a systemd service. Safe to run again: it converges to the same result,
# replaces the application and the unit, and never touches an existing config.
#
#   sudo scripts/install.sh [options]
#
#   --root DIR           install into DIR as if it were / (tests, image builds); users, groups,
#                        ownership, systemctl and TensorRT builds are only reported, not done
#   --prefix DIR         application directory (default /opt/pafcast)
#   --node PATH          node binary the service runs (default: `node` on PATH)
#   --node-modules DIR   link this node_modules instead of running `npm ci` (development, tests)
#   --offline            npm ci from the local npm cache only (prepare it with `npm ci` once)
#   --models-from SRC    fetch the model files from SRC (base URL or directory) after installing
#   --no-tensorrt        skip building the TensorRT addon and engines on a Jetson
#   --no-mosquitto       do not install Mosquitto (the embedded broker then runs aedes: MQTT 3.1.1 only)
#   --start              (re)start the service at the end
#   -h, --help           this text
#
# Layout: $PREFIX (app), /etc/systemd/system/pafcast.service, /etc/pafcast/config.json (created
# only if absent), /var/lib/pafcast/{models,trt} (state), user `pafcast` in groups pafcast, video.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=""
PREFIX=/opt/pafcast
NODE=""
NODE_MODULES=""
OFFLINE=0
MODELS_FROM=""
TENSORRT=1
MOSQUITTO=1
START=0
# Node 20's official Linux builds need glibc 2.28 (Ubuntu 20.04 / JetPack 5 and later).
GLIBC_MIN=2.28
NODE_MIN=20

say() { printf 'pafcast install: %s\n' "$*"; }
die() { printf 'pafcast install: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --node) NODE=${2:?--node needs a path}; shift 2 ;;
    --node-modules) NODE_MODULES=${2:?--node-modules needs a directory}; shift 2 ;;
    --offline) OFFLINE=1; shift ;;
    --models-from) MODELS_FROM=${2:?--models-from needs a URL or directory}; shift 2 ;;
    --no-tensorrt) TENSORRT=0; shift ;;
    --no-mosquitto) MOSQUITTO=0; shift ;;
    --start) START=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
done

case $PREFIX in
  /*/*|/[!/]*) ;;
  *) die "--prefix must be an absolute directory below / (got \"$PREFIX\")" ;;
esac
case $PREFIX in *..*) die "--prefix must not contain \"..\"" ;; esac
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT" || die "cannot create --root $ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
SCRATCH=0; [ -n "$ROOT" ] && SCRATCH=1
# In a scratch root, what needs the real system is described instead of done.
would() { say "would $*"; }

# --- preflight: Node and glibc, before anything is changed ---
NODE=${NODE:-$(command -v node || true)}
{ [ -n "$NODE" ] && [ -x "$NODE" ]; } || die "Node.js not found. pafcast needs Node >= $NODE_MIN (on a Jetson: the arm64 build from nodejs.org or NodeSource); or pass --node PATH"
NODE=$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")
case $NODE in
  /home/*|/root/*|/run/user/*) die "$NODE is under a home directory, which the service cannot see (ProtectHome=yes): install Node system-wide (/usr/bin, /usr/local/bin) or pass --node PATH" ;;
esac
node_version=$("$NODE" -p 'process.versions.node' 2>/dev/null) || die "$NODE does not run (wrong architecture or missing libraries?)"
[ "${node_version%%.*}" -ge "$NODE_MIN" ] 2>/dev/null || die "Node $node_version at $NODE is too old: pafcast needs Node >= $NODE_MIN"

glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || true
[ -n "$glibc" ] || die "glibc not found (musl or an unusual libc?): pafcast's native modules (onnxruntime, sharp, WebRTC) need glibc >= $GLIBC_MIN"
if [ "$(printf '%s\n%s\n' "$GLIBC_MIN" "$glibc" | sort -V | head -n1)" != "$GLIBC_MIN" ]; then
  die "glibc $glibc is too old: pafcast needs glibc >= $GLIBC_MIN (JetPack 4 / Ubuntu 18.04 ships 2.27: use JetPack 5 or later)"
fi
[ "$SCRATCH" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0), or pass --root DIR to install into a scratch tree"
[ -f "$SRC/dist/src/agent/cli/main.js" ] || die "$SRC/dist is missing: run \`npm ci && npm run build\` in $SRC first (release tarballs from \`npm pack\` include it)"
if [ -z "$NODE_MODULES" ]; then
  command -v npm >/dev/null || die "npm not found (it comes with Node); or pass --node-modules DIR"
elif [ ! -d "$NODE_MODULES" ]; then
  die "--node-modules $NODE_MODULES is not a directory"
fi
say "Node $node_version ($NODE), glibc $glibc"

# --- user and group: the service runs as `pafcast`, in `video` for cameras and GPU nodes ---
if [ "$SCRATCH" = 1 ]; then
  would "create system group pafcast and system user pafcast (home /var/lib/pafcast, no login) in groups pafcast, video"
else
  getent group video >/dev/null || { say "group video missing (not a Jetson?): creating it"; groupadd --system video; }
  getent group pafcast >/dev/null || groupadd --system pafcast
  if getent passwd pafcast >/dev/null; then
    usermod -a -G video pafcast
  else
    useradd --system --gid pafcast --groups video --home-dir /var/lib/pafcast --no-create-home \
      --shell "$(command -v nologin || echo /usr/sbin/nologin)" --comment "pafcast pose agent" pafcast
  fi
fi

# --- application: staged beside the target and swapped in, so a failed install leaves the old one ---
dest=$ROOT$PREFIX
stage=$dest.new
rm -rf "$stage"
mkdir -p "$stage/dist" "$stage/models" "$stage/scripts"
cp -a "$SRC/bin" "$stage/"
cp -a "$SRC/dist/src" "$stage/dist/src"
cp -a "$SRC"/models/*.json "$stage/models/"
[ -d "$SRC/models/schema" ] && cp -a "$SRC/models/schema" "$stage/models/"
cp -a "$SRC"/scripts/*.sh "$stage/scripts/"
for item in systemd docs web config package.json package-lock.json .npmrc; do
  [ -e "$SRC/$item" ] && cp -a "$SRC/$item" "$stage/"
done
# Native addon sources only; they are built for this machine below.
for addon in "$SRC"/native/*/; do
  name=$(basename "$addon")
  [ "$name" = node_modules ] && continue
  mkdir -p "$stage/native"
  cp -a "$addon" "$stage/native/$name"
  rm -rf "$stage/native/$name/build"
done
# sd_notify is how the service reports READY and watchdog pings (Type=notify): without it
# systemd would kill the service at start, so a failed build stops the install.
[ -f "$stage/native/sd-notify/build.sh" ] || die "native/sd-notify is missing from $SRC"
NODE=$NODE sh "$stage/native/sd-notify/build.sh" >/dev/null \
  || die "cannot build the sd_notify addon (see above); on Debian/Ubuntu/JetPack: sudo apt install build-essential"

lock_sum=$(sha256sum "$stage/package-lock.json" 2>/dev/null | cut -d' ' -f1 || true)
if [ -n "$NODE_MODULES" ]; then
  ln -s "$(cd "$NODE_MODULES" && pwd)" "$stage/node_modules"
elif [ -d "$dest/node_modules" ] && [ ! -L "$dest/node_modules" ] && [ -n "$lock_sum" ] \
     && [ "$(cat "$dest/.deps-lock.sha256" 2>/dev/null)" = "$lock_sum" ]; then
  # Same lock file as the installed copy: reuse its dependencies instead of reinstalling them.
  mv "$dest/node_modules" "$stage/node_modules"
  printf '%s\n' "$lock_sum" > "$stage/.deps-lock.sha256"
else
  say "installing production dependencies (npm ci --omit=dev)"
  # --ignore-scripts: every native dependency ships prebuilt binaries, and nothing may download
  # code at install time; the TensorRT addon is built explicitly below.
  npm_flags=(--omit=dev --ignore-scripts --no-audit --no-fund)
  [ "$OFFLINE" = 1 ] && npm_flags+=(--offline)
  (cd "$stage" && npm ci "${npm_flags[@]}") \
    || die "npm ci failed; the previous installation (if any) is untouched"
  printf '%s\n' "$lock_sum" > "$stage/.deps-lock.sha256"
fi
rm -rf "$dest.old"
[ -d "$dest" ] && mv "$dest" "$dest.old"
mv "$stage" "$dest"
rm -rf "$dest.old"
say "application installed in $dest"

# --- unit ---
unit_dir=$ROOT/etc/systemd/system
mkdir -p "$unit_dir"
sed -e "s#@NODE@#$NODE#g" -e "s#@PREFIX@#$PREFIX#g" "$SRC/systemd/pafcast.service" > "$unit_dir/.pafcast.service.tmp"
chmod 0644 "$unit_dir/.pafcast.service.tmp"
mv "$unit_dir/.pafcast.service.tmp" "$unit_dir/pafcast.service"
say "unit installed: /etc/systemd/system/pafcast.service"

# --- config (never overwritten) and state ---
conf_dir=$ROOT/etc/pafcast
state_dir=$ROOT/var/lib/pafcast
mkdir -p "$conf_dir" "$state_dir/models" "$state_dir/trt"
if [ -e "$conf_dir/config.json" ]; then
  say "kept existing /etc/pafcast/config.json"
else
  if [ -f "$SRC/config/default.json" ]; then cp "$SRC/config/default.json" "$conf_dir/config.json"; else printf '{}\n' > "$conf_dir/config.json"; fi
  say "created /etc/pafcast/config.json (defaults; reference: $PREFIX/docs/config.md)"
fi
chmod 0750 "$conf_dir" "$state_dir" "$state_dir/models" "$state_dir/trt"
chmod 0640 "$conf_dir/config.json"
# The agent rewrites its config on remote updates (temp file + rename in /etc/pafcast), so it owns it.
if [ "$SCRATCH" = 1 ]; then
  would "chown pafcast:pafcast /etc/pafcast /etc/pafcast/config.json and, recursively, /var/lib/pafcast"
else
  chown pafcast:pafcast "$conf_dir" "$conf_dir/config.json"
  chown -R pafcast:pafcast "$state_dir"
fi

# --- models ---
if [ -n "$MODELS_FROM" ]; then
  if [ "$SCRATCH" = 1 ]; then
    "$NODE" "$dest/bin/pafcast.js" models fetch --from "$MODELS_FROM" --dir "$state_dir/models" || die "model fetch failed"
  else
    runuser -u pafcast -- "$NODE" "$dest/bin/pafcast.js" models fetch --from "$MODELS_FROM" --dir /var/lib/pafcast/models \
      || die "model fetch failed (the rest is installed; run \`pafcast models fetch\` again later)"
  fi
elif [ -z "$(ls -A "$state_dir/models")" ]; then
  say "no model files in /var/lib/pafcast/models yet: run \`sudo -u pafcast $NODE $PREFIX/bin/pafcast.js models fetch --from URL|DIR --dir /var/lib/pafcast/models\`"
fi

# --- TensorRT on a Jetson: the addon and the engines for the scale ladder ---
is_jetson=0
{ [ -f /etc/nv_tegra_release ] || grep -qa 'NVIDIA Jetson' /proc/device-tree/model 2>/dev/null; } && is_jetson=1
has_trt=0
for h in /usr/include/"$(uname -m)"-linux-gnu/NvInferVersion.h /usr/include/NvInferVersion.h; do [ -f "$h" ] && has_trt=1; done
if [ "$TENSORRT" = 0 ]; then
  say "TensorRT: skipped (--no-tensorrt); the service uses onnxruntime on the CPU"
elif [ "$is_jetson" = 0 ]; then
  say "TensorRT: not a Jetson (no /etc/nv_tegra_release), skipped; the service uses onnxruntime on the CPU"
elif [ "$has_trt" = 0 ]; then
  say "TensorRT: headers not found; install nvidia-tensorrt-dev (JetPack 6) or libnvinfer-dev (JetPack 5) and run this again"
elif [ "$SCRATCH" = 1 ]; then
  would "build the TensorRT addon ($PREFIX/scripts/build-tensorrt-addon.sh) and, as pafcast, the engines (pafcast engines build -c /etc/pafcast/config.json)"
else
  say "TensorRT: building the addon (a few minutes)"
  if PATH=$(dirname "$NODE"):$PATH bash "$dest/scripts/build-tensorrt-addon.sh"; then
    say "TensorRT: building engines as pafcast (minutes per size on a Nano)"
    # The config names the model and the ladder the engines must cover.
    runuser -u pafcast -- "$NODE" "$dest/bin/pafcast.js" engines build -c /etc/pafcast/config.json \
      || say "TensorRT: engine build failed; the service falls back to onnxruntime. Retry: sudo -u pafcast $NODE $PREFIX/bin/pafcast.js engines build -c /etc/pafcast/config.json"
  else
    say "TensorRT: addon build failed (see above); the service falls back to onnxruntime"
  fi
fi

# --- Mosquitto: the MQTT 5 engine of the embedded broker (pafcast runs its own instance of it) ---
# MQTT 5 arrived in Mosquitto 1.6. Debian 11/12 ship 2.0.11, Ubuntu 20.04 1.6.9, 22.04 2.0.11,
# 24.04 2.0.18: all speak it. Ubuntu 18.04's 1.4.15 does not (and JetPack 4 cannot run pafcast anyway).
# `mosquitto -h` exits with 3 after printing its version.
mosquitto_version() { { "$1" -h 2>/dev/null || true; } | sed -n 's/^mosquitto version \([0-9][0-9.]*\).*/\1/p' | head -n1; }
speaks_mqtt5() { [ "$(printf '%s\n%s\n' 1.6 "$1" | sort -V | head -n1)" = 1.6 ]; }
mosquitto_installed_now=0
if [ "$MOSQUITTO" = 0 ]; then
  say "Mosquitto: skipped (--no-mosquitto); without it the embedded broker runs aedes (MQTT 3.1.1 only: Home Assistant 2027.1 and later cannot connect)"
else
  mosq=$(command -v mosquitto || true)
  if [ -z "$mosq" ]; then
    if [ "$SCRATCH" = 1 ]; then
      would "install Debian/Ubuntu's mosquitto package (apt-get install --no-install-recommends mosquitto) for the embedded MQTT 5 broker, and disable the package's own mosquitto.service"
    elif command -v apt-get >/dev/null; then
      say "installing Mosquitto (apt-get install mosquitto) for the embedded MQTT 5 broker"
      apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mosquitto >/dev/null; }
      if apt_install || { apt-get update -q >/dev/null && apt_install; }; then
        mosquitto_installed_now=1
        mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
      else
        say "Mosquitto: apt-get install failed (offline?); the embedded broker runs aedes (MQTT 3.1.1 only) until it is installed: sudo apt install mosquitto"
      fi
    else
      say "Mosquitto: no apt-get on this system: install Mosquitto >= 1.6 with its package manager for MQTT 5; until then the embedded broker runs aedes (MQTT 3.1.1 only)"
    fi
  fi
  if [ -n "$mosq" ]; then
    mosq_v=$(mosquitto_version "$mosq")
    if [ -z "$mosq_v" ]; then
      say "Mosquitto: $mosq did not report a version; the embedded broker may fall back to aedes (check: pafcast doctor)"
    elif speaks_mqtt5 "$mosq_v"; then
      say "Mosquitto $mosq_v ($mosq) speaks MQTT 5 and 3.1.1: the embedded broker uses it"
    else
      say "Mosquitto $mosq_v ($mosq) does not speak MQTT 5 (1.6 or later does; Ubuntu 18.04 ships 1.4): the embedded broker runs aedes (MQTT 3.1.1 only) until a newer Mosquitto is installed"
    fi
  fi
  # The package starts a system broker on port 1883, where pafcast's own one listens by default.
  if [ "$mosquitto_installed_now" = 1 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
    say "disabled the package's mosquitto.service: pafcast starts and stops its own Mosquitto (broker.port, default 1883)"
  elif [ "$SCRATCH" = 0 ] && [ -d /run/systemd/system ] && systemctl is-active --quiet mosquitto.service 2>/dev/null; then
    say "note: mosquitto.service is running here and holds port 1883: to use it, set mqtt.url to mqtt://127.0.0.1:1883 in /etc/pafcast/config.json; or set broker.port to run pafcast's own beside it"
  fi
fi

# --- systemd ---
if [ "$SCRATCH" = 1 ]; then
  would "run systemctl daemon-reload && systemctl enable pafcast.service$([ "$START" = 1 ] && echo ' && systemctl restart pafcast.service')"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable pafcast.service
  if [ "$START" = 1 ]; then systemctl restart pafcast.service; say "service (re)started"; else say "enabled; start it with: sudo systemctl start pafcast"; fi
else
  say "systemd is not running here (container?): the unit is installed but not enabled"
fi
say "done"
