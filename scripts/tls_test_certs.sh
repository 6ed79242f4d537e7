#!/usr/bin/env bash
# Writes the certificates tests/postgres_tls.rs runs with into DIR: a certificate authority of
# its own (ca.pem, ca.key), a server certificate for the name "localhost" only (server.pem,
# server.key) and a client certificate for the role shop_cert (client.pem, client.key), all
# P-256 and valid for two days. .ci/run gives the server ones to its throwaway cluster.
#
#   bash scripts/tls_test_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -days 2 -subj /CN=shopkeep-test-ca -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign

# issue NAME CN EXTENSIONS: a certificate for CN signed by the authority above.
issue() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf '%b' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm "$1.csr" "$1.ext"
}
issue server localhost "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
issue client shop_cert "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"
chmod 600 ./*.key
