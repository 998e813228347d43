#!/usr/bin/env bash
# Smoke run of the benchmarks: every workload × system × transport with tiny counts. Asserts only
# that each completed (run.ts exits non-zero otherwise); the figures mean nothing at this size.
#
#   bash bench/smoke.sh            (or: npm run bench:smoke)
#
# Extra arguments go to run.ts, e.g. `bash bench/smoke.sh --transport unix`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

# System packages the workloads need (openssl makes the TLS rows' test certificate).
bash "$root/scripts/ensure-packages.sh" openssl

# bench/'s own npm dependencies, only when it declares any.
if node -e 'const p = require(process.argv[1]); process.exit(Object.keys({ ...p.dependencies, ...p.devDependencies }).length > 0 ? 0 : 1)' "$here/package.json"; then
  if [[ -f "$here/package-lock.json" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund)
  else
    (cd "$here" && npm install --no-audit --no-fund)
  fi
fi

# tsx comes from the root's node_modules.
if [[ ! -d "$root/node_modules/tsx" ]]; then
  echo "bench/smoke.sh: tsx is missing: run npm ci in $root first" >&2
  exit 1
fi

cd "$root"
# A hard ceiling on the whole run, on top of run.ts's own per-wait timeouts.
exec timeout --kill-after=10 300 node --import tsx bench/run.ts --smoke "$@"
