#!/usr/bin/env bash
# One command from a fresh clone: set up .venv, then run the tests (ruff, mypy, pytest).
# PostgreSQL tests run when ROLECAST_TEST_POSTGRES_URL is set (.ci/run starts a server).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
.venv/bin/ruff check rolecast tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
