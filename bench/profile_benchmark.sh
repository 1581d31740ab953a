#!/usr/bin/env bash
# Profiles a benchmark project (bench/projects/*.yaml) and prints the report with intervals.
# Usage: bench/profile_benchmark.sh bench/projects/toolalpaca_real.yaml [DB]
# Re-running reuses every stored step; delete the DB to measure from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
project="$1"
db="${2:-bench/.results/$(basename "$project" .yaml).db}"
mkdir -p "$(dirname "$db")"
start=$(date +%s)
.venv/bin/rolecast profile -c "$project" --db "$db" --no-progress | grep -E "^(profiling|run|skipped)" | grep -v "^skipped" || true
echo "profile wall time: $(( $(date +%s) - start )) s"
.venv/bin/rolecast report -c "$project" --db "$db" --format markdown
