#!/usr/bin/env bash
# The full benchmark (npm run bench): installs what is missing (bench/setup.sh), then runs
# bench/run.ts with the arguments given, e.g. `npm run bench -- --rounds 7 --workload echo`.
# Writes bench/RESULTS.md and bench/results.svg; see bench/README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
cd "$here/.."
exec node --import tsx bench/run.ts "$@"
