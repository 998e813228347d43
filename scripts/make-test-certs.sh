#!/usr/bin/env bash
# Regenerates the committed test certificates in test/fixtures/tls/ (run by hand, never by
# `npm test`, which only reads the committed files): a CA, a server certificate for
# localhost / 127.0.0.1 and a client certificate, both signed by that CA, and a second CA that
# signed nothing (a client trusting only it must refuse the server). P-256 keys, valid for
# 100 years, so the fixtures do not expire under the tests. Needs openssl. The same commands
# make a test CA by hand (docs/security.md §TLS).
#
#   bash scripts/make-test-certs.sh
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/tls"
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
days=36500

ca() { # NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=$1" -keyout "$dir/$1.key" -out "$dir/$1.crt" 2>/dev/null
}
leaf() { # NAME CA EXTENSIONS
  printf '%b' "$3" >"$tmp/$1.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$dir/$1.key" -out "$tmp/$1.csr" 2>/dev/null
  openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/$2.crt" -CAkey "$dir/$2.key" \
    -CAserial "$tmp/$2.srl" -CAcreateserial -days "$days" -extfile "$tmp/$1.ext" \
    -out "$dir/$1.crt" 2>/dev/null
}

ca ca
ca other-ca
leaf server ca 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
leaf client ca 'extendedKeyUsage=clientAuth\n'
rm -f "$dir/other-ca.key"
echo "wrote $(ls "$dir" | tr '\n' ' ')"
