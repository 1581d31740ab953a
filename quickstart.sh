#!/usr/bin/env bash
# One command from a fresh clone: set up .venv, then run the whole loop on the embedded
# default (profile both CPU models on all roles, search, export coalition.yaml, run it).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
exec .venv/bin/rolecast quickstart "$@"
