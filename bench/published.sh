#!/usr/bin/env bash
# Profiles both CPU models on the published benchmarks (issue: ToolAlpaca eval_real with the
# IBM study's answers; BFCL v4 simple_python) and writes the reports under bench/.results/.
# Usage: bench/published.sh   (reads ../shared/data; takes about an hour on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/.results
for project in toolalpaca_real bfcl_simple_python; do
  bench/profile_benchmark.sh "bench/projects/$project.yaml" > "bench/.results/$project.md" 2>&1
done
.venv/bin/python bench/toolalpaca_ibm.py > bench/.results/toolalpaca_ibm.md
cat bench/.results/*.md
