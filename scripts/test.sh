#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's chromium, Pango for WeasyPrint's
# PDFs) and run every check.
# Set TRUSTDESK_TEST_POSTGRES_URL to run the database tests on PostgreSQL too (.ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update -qq || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0.so.0; then
  $SUDO apt-get update -qq || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
fi
bash scripts/bootstrap.sh test
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest "$@"
