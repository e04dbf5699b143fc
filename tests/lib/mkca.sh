#!/bin/sh
# SPDX-License-Identifier: ISC
# mkca.sh DIR: a throwaway CA and certificates for the TLS tests, with
# certtool (gnutls-bin). ECDSA P-256 keys, so the whole set takes well
# under a second. Idempotent: when every file is already there it does
# nothing; otherwise it makes the whole set again.
#
#   ca.pem, ca-key.pem            the test CA
#   server.pem, server-key.pem    CN localhost; SAN DNS localhost, mx.test,
#                                 IP 127.0.0.1 and ::1; signed by the CA
#   wrong.pem, wrong-key.pem      SAN DNS wrong.test only; signed by the CA
#   expired.pem, expired-key.pem  CN/SAN localhost; signed by the CA, valid
#                                 only during 2020
#   self.pem, self-key.pem        CN/SAN localhost, self-signed (not the CA)
set -eu

dir=${1:?usage: mkca.sh DIR}
mkdir -p "$dir"
cd "$dir"

all="ca.pem ca-key.pem server.pem server-key.pem wrong.pem wrong-key.pem
expired.pem expired-key.pem self.pem self-key.pem"
have=1
for f in $all; do
	[ -s "$f" ] || have=0
done
[ "$have" = 1 ] && exit 0

command -v certtool >/dev/null 2>&1 || {
	echo "mkca.sh: certtool not found (apt-get install gnutls-bin)" >&2
	exit 69
}

key() {
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --outfile "$1" 2>/dev/null
}

# tmpl NAME: writes NAME.tmpl from stdin (certtool reads its answers there).
tmpl() {
	cat >"$1.tmpl"
}

tmpl ca <<'T'
cn = "tern test CA"
organization = "tern tests"
serial = 1
expiration_days = 3650
ca
cert_signing_key
crl_signing_key
T

tmpl server <<'T'
cn = "localhost"
organization = "tern tests"
serial = 2
expiration_days = 3650
dns_name = "localhost"
dns_name = "mx.test"
ip_address = "127.0.0.1"
ip_address = "::1"
tls_www_server
signing_key
digital_signature
T

tmpl wrong <<'T'
cn = "wrong.test"
organization = "tern tests"
serial = 3
expiration_days = 3650
dns_name = "wrong.test"
tls_www_server
signing_key
digital_signature
T

# Dates in the past: the only way to make an expired certificate without
# faking the clock (certtool refuses negative expiration_days).
tmpl expired <<'T'
cn = "localhost"
organization = "tern tests"
serial = 4
activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-12-31 23:59:59"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
digital_signature
T

tmpl self <<'T'
cn = "localhost"
organization = "tern tests, self-signed"
serial = 5
expiration_days = 3650
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
digital_signature
T

key ca-key.pem
certtool --generate-self-signed --load-privkey ca-key.pem \
    --template ca.tmpl --outfile ca.pem 2>/dev/null
for n in server wrong expired; do
	key "$n-key.pem"
	certtool --generate-certificate --load-privkey "$n-key.pem" \
	    --load-ca-certificate ca.pem --load-ca-privkey ca-key.pem \
	    --template "$n.tmpl" --outfile "$n.pem" 2>/dev/null
done
key self-key.pem
certtool --generate-self-signed --load-privkey self-key.pem \
    --template self.tmpl --outfile self.pem 2>/dev/null
rm -f ca.tmpl server.tmpl wrong.tmpl expired.tmpl self.tmpl
