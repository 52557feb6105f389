#!/usr/bin/env bash
# Install TrustDesk into ./.venv on a fresh Debian machine with Python 3.11.
# Usage: bash scripts/bootstrap.sh [EXTRAS]   (e.g. "test", which means "test,dask")
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
EXTRAS="${1:-}"
# The test profile also installs the Dask engine, so CI runs the Dask tests (docs/scale.md).
[ "$EXTRAS" = "test" ] && EXTRAS="test,dask"
if [ -n "$EXTRAS" ]; then
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]" >&2
else
  .venv/bin/python -m pip install -q -e . >&2
fi
