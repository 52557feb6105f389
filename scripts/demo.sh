#!/usr/bin/env bash
# The main job: install, build the embedded database from the shipped real data, serve the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/trustdesk demo "$@"
