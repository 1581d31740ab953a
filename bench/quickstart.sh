#!/usr/bin/env bash
# Times the whole loop on the embedded default twice against a fresh database:
# the first run generates every step, the second must reuse all of them.
# Usage: bench/quickstart.sh [extra rolecast quickstart options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ROLECAST_DB="$work/rolecast.db"
for run in 1 2; do
  start=$(date +%s.%N)
  .venv/bin/rolecast quickstart --no-progress --out "$work/coalition.yaml" "$@" > "$work/run$run.log" 2>&1
  end=$(date +%s.%N)
  echo "run $run: $(echo "$end - $start" | bc) s wall"
  grep -E "^(generated|timings)" "$work/run$run.log" || true
done
diff <(grep -v "timings\|([0-9.]*s)" "$work/run1.log" | grep -A12 "Role × model" | head -14) \
     <(grep -v "timings\|([0-9.]*s)" "$work/run2.log" | grep -A12 "Role × model" | head -14) \
  && echo "role × model table identical across runs"
