#!/usr/bin/env bash
# Installs the Debian packages the tests or the bench need, only when their command is missing
# (apt-get update runs only then). Arguments: PACKAGE or PACKAGE:COMMAND (default COMMAND =
# PACKAGE). Needs root (or sudo) only when something is missing.
#
#   bash scripts/ensure-packages.sh nats-server iproute2:ip
set -euo pipefail

missing=()
for spec in "$@"; do
  package="${spec%%:*}"
  command="${spec#*:}"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

echo "ensure-packages: installing ${missing[*]}" >&2
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
