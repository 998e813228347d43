#!/usr/bin/env bash
# What the benchmark needs beyond the root's node_modules, installed only when missing:
#   - Debian packages through scripts/ensure-packages.sh: nats-server (the nats row's broker; the
#     runner starts its own on 127.0.0.1); the TLS rows use the committed test/fixtures/tls;
#   - bench/'s own npm dependencies (the peers, pinned in bench/package.json) with `npm ci` from
#     the committed bench/package-lock.json; install scripts are denied there (allowScripts).
#
#   bash bench/setup.sh [--ci]       --ci: always `npm ci` (else only when the lock file changed)
#
# Exit 3 when only nats-server could not be installed (everything else is in place).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

if [[ ! -d "$root/node_modules/tsx" ]]; then
  echo "bench/setup.sh: tsx is missing: run npm ci in $root first" >&2
  exit 1
fi

stamp="$here/node_modules/.package-lock.json"
if [[ "${1:-}" == "--ci" || ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! bash "$root/scripts/ensure-packages.sh" nats-server; then
  echo "bench/setup.sh: could not install nats-server" >&2
  exit 3
fi
