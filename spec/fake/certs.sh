#!/bin/sh
# Test certificates for the fake GitLab server (EC keys: fast).
#   spec/fake/certs.sh DIR
# Writes into DIR:
#   ca.pem ca.key                 test CA
#   server.pem server.key         127.0.0.1 / localhost / ::1, signed by ca.pem
#   wrong-ca.pem wrong-ca.key     an unrelated CA (verification must fail)
#   expired.pem expired.key       127.0.0.1, signed by ca.pem, expired
#   wrong-host.pem wrong-host.key signed by ca.pem for wrong.example.invalid
# Existing files are kept (delete DIR to regenerate).
set -eu

dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

[ -f server.pem ] && [ -f expired.pem ] && [ -f wrong-host.pem ] && [ -f wrong-ca.pem ] && exit 0

ossl() { openssl "$@" 2>/dev/null; }

key() { ossl ecparam -name prime256v1 -genkey -noout -out "$1"; }

ca() { # name subject
  key "$1.key"
  ossl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

leaf() { # name cn san days|expired
  key "$1.key"
  ossl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$3" > "$1.ext"
  if [ "$4" = expired ]; then
    # x509 -days cannot go backwards; the "ca" command can set both dates.
    mkdir -p "$1.db"
    : > "$1.db/index.txt"
    printf '1000\n' > "$1.db/serial"
    cat > "$1.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
dir = $1.db
database = $1.db/index.txt
serial = $1.db/serial
new_certs_dir = $1.db
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[ any ]
commonName = supplied
EOF
    ossl ca -batch -config "$1.cnf" -cert ca.pem -keyfile ca.key \
      -startdate 20200101000000Z -enddate 20200201000000Z \
      -extfile "$1.ext" -in "$1.csr" -out "$1.pem" -notext
    rm -rf "$1.db" "$1.cnf"
  else
    ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days "$4" -sha256 -extfile "$1.ext" -out "$1.pem"
  fi
  rm -f "$1.csr" "$1.ext"
}

ca ca "/CN=lua-gitlab test CA"
ca wrong-ca "/CN=lua-gitlab unrelated CA"
leaf server 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" 3650
leaf expired 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" expired
leaf wrong-host wrong.example.invalid "DNS:wrong.example.invalid" 3650
rm -f ca.srl
