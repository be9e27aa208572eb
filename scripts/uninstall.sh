#!/usr/bin/env bash
# Removes pafcast's service and application. Config (/etc/pafcast) and state (/var/lib/pafcast:
# models, TensorRT engines, the remote-config version that stops replays) are kept unless --purge.
# Safe to run again: what is already gone is skipped.
#
#   sudo scripts/uninstall.sh [--root DIR] [--prefix DIR] [--purge]
#
#   --root DIR     uninstall from a scratch tree (see install.sh --root); users and systemctl
#                  are only reported
#   --prefix DIR   application directory (default /opt/pafcast)
#   --purge        also remove /etc/pafcast, /var/lib/pafcast and the pafcast user and group
set -euo pipefail

ROOT=""
PREFIX=/opt/pafcast
PURGE=0

say() { printf 'pafcast uninstall: %s\n' "$*"; }
die() { printf 'pafcast uninstall: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
done
case $PREFIX in
  /*/*|/[!/]*) ;;
  *) die "--prefix must be an absolute directory below / (got \"$PREFIX\")" ;;
esac
case $PREFIX in *..*) die "--prefix must not contain \"..\"" ;; esac
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
SCRATCH=0; [ -n "$ROOT" ] && SCRATCH=1
[ "$SCRATCH" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0), or pass --root DIR"

remove() { # path (inside ROOT), what it is
  if [ -e "$ROOT$1" ] || [ -L "$ROOT$1" ]; then rm -rf -- "$ROOT$1"; say "removed $1 ($2)"; fi
}

unit=/etc/systemd/system/pafcast.service
if [ "$SCRATCH" = 1 ]; then
  say "would run systemctl disable --now pafcast.service"
elif [ -d /run/systemd/system ] && [ -e "$unit" ]; then
  systemctl disable --now pafcast.service || true
fi
remove "$unit" "systemd unit"
remove "$PREFIX" "application"
remove "$PREFIX.new" "interrupted install"
if [ "$SCRATCH" = 0 ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

if [ "$PURGE" = 1 ]; then
  remove /etc/pafcast "config"
  remove /var/lib/pafcast "models, engines and state"
  if [ "$SCRATCH" = 1 ]; then
    say "would remove user pafcast and group pafcast"
  else
    getent passwd pafcast >/dev/null && userdel pafcast && say "removed user pafcast"
    getent group pafcast >/dev/null && groupdel pafcast && say "removed group pafcast"
  fi
else
  say "kept /etc/pafcast (config) and /var/lib/pafcast (models, engines, remote-config state); --purge removes them"
fi
say "done"
