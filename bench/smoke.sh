#!/usr/bin/env bash
# Smoke run of the benchmark (npm run bench:smoke, CI): every workload × system × transport once,
# tiny sizes. Asserts only that each cell completed (run.ts exits non-zero otherwise); the
# figures mean nothing at this size. Installs bench/'s dependencies with `npm ci` first and
# typechecks bench/ against them (the root typecheck leaves out bench/peers, whose packages it
# does not have).
#
#   bash bench/smoke.sh [run.ts options]      e.g. bash bench/smoke.sh --system raw-coalesced,zeromq
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
started=$SECONDS

extra=()
status=0
bash "$here/setup.sh" --ci || status=$?
if ((status == 3)); then
  # Only Debian's nats-server is missing (an apt mirror down): every other row still runs.
  echo "bench/smoke.sh: WARNING: nats-server could not be installed; the nats row is skipped" >&2
  extra=(--skip-system nats)
elif ((status != 0)); then
  exit "$status"
fi

cd "$root"
npx tsc -p bench/tsconfig.json --noEmit

# A hard ceiling on the whole run, on top of run.ts's own per-step timeouts.
timeout --kill-after=10 300 node --import tsx bench/run.ts --smoke "${extra[@]}" "$@"
echo "bench/smoke.sh: done in $((SECONDS - started)) s" >&2
