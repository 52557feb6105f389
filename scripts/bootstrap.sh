#!/usr/bin/env bash
# Install TrustDesk into ./.venv on a fresh Debian machine with Python 3.11.
# Usage: bash scripts/bootstrap.sh [EXTRAS]   (e.g. "test")
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  $SUDO apt-get update -qq >&2 || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_install python3-venv
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
if [ -n "${1:-}" ]; then
  .venv/bin/python -m pip install -q -e ".[$1]" >&2
else
  .venv/bin/python -m pip install -q -e . >&2
fi
