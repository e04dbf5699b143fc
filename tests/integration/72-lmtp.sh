#!/bin/bash
# SPDX-License-Identifier: ISC
# Inbound mail to Dovecot by LMTP (unix socket and TCP), read back over
# IMAP byte-identical; a recipient outside [inbound] domains is refused
# (never a relay); Dovecot down: mail waits in the queue, then goes.
# The mail comes in through ternd's inbound (ETRN callback) listener.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-30000}
on_exit peers_stop_all
on_exit '[ -n "${tpid:-}" ] && kill $tpid 2>/dev/null'
peers_init && dovecot_start || fail "dovecot did not start"
LP=$((PEERS_PORT_BASE + 125))

start() {	# lmtp target, [lmtp_user]
	write_conf "submit off" "[inbound]" "method etrn" "host 127.0.0.1" \
	    "port 9" "tls none" "domains home.example" "listen 127.0.0.1:$LP" \
	    "[deliver]" "method lmtp" "lmtp $1" ${2:+"lmtp_user $2"} \
	    "[retry]" "schedule 1s"
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	tpid=$!
	for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$LP) 2>/dev/null && break; sleep 0.05; done
	"$TERN" up > /dev/null
}
stop() { kill $tpid; wait $tpid 2>/dev/null; tpid=; }
imap_get() {	# user pass -> prints the newest message's body bytes to a file
	python3 - "$PEERS_IMAP_PORT" "$1" "$2" "$3" <<'PY'
import imaplib, sys
port, user, pw, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
m.select("INBOX")
typ, data = m.search(None, "ALL")
ids = data[0].split()
typ, msg = m.fetch(ids[-1], "(RFC822)")
open(out, "wb").write(msg[0][1])
print(len(ids))
PY
}

printf 'From: far@remote.test\nSubject: inbound\nMessage-ID: <in1@remote.test>\n\n.dot line\n\xc3\xa9t\xc3\xa9 8-bit\nend\n' > "$T/msg"
start "unix:$PEERS_LMTP_SOCKET"
# smtplib, not swaks: swaks adds an empty line before the final dot.
python3 - "$LP" "$T/msg" <<'PY' || fail "smtplib to the inbound listener"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("far@remote.test", ["alice@home.example"],
           open(sys.argv[2], "rb").read().replace(b"\n", b"\r\n"))
s.quit()
PY
for i in $(seq 100); do [ "$(mailbox_count alice)" -ge 1 ] && break; sleep 0.1; done
[ "$(mailbox_count alice)" = 1 ] || { cat "$T/ternd.log"; fail "not delivered to Dovecot"; }
n=$(imap_get alice secret "$T/got") || fail "IMAP"
python3 - "$T/got" "$T/msg" <<'PY' || fail "IMAP copy differs"
import sys
got, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
want = want.replace(b"\n", b"\r\n")
i = got.index(b"From: far@remote.test")
assert got[i:] == want, (got[i:], want)
PY
ok "inbound mail by LMTP (unix socket), read back over IMAP byte-identical"

swaks --server 127.0.0.1:$LP --from far@remote.test --to victim@elsewhere.test \
	--data "$T/msg" > "$T/sw" 2>&1
grep -q '550 5.7.1' "$T/sw" || { cat "$T/sw"; fail "relay not refused"; }
ok "recipient outside [inbound] domains: 550 5.7.1"

dovecot_stop
swaks --server 127.0.0.1:$LP --from far@remote.test --to alice@home.example \
	--data "$T/msg" > "$T/sw" 2>&1 || fail "tern must accept while Dovecot is down"
sleep 1.5
[ "$(qcount)" = 1 ] || fail "message not waiting in the queue"
[ "$(qjson | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["recipients"][0]["state"])')" = pending ] || fail "not pending"
ok "Dovecot down: the message waits in the queue"
dovecot_start || fail "dovecot restart"
"$TERN" flush > /dev/null
for i in $(seq 100); do [ "$(mailbox_count alice)" -ge 2 ] && break; sleep 0.1; done
[ "$(mailbox_count alice)" = 2 ] || fail "not delivered after Dovecot returned"
[ "$(qcount)" = 0 ] || fail "queue not empty"
ok "Dovecot back: delivered"
stop

start "127.0.0.1:$PEERS_LMTP_PORT" bob
swaks --server 127.0.0.1:$LP --from far@remote.test --to anyone@home.example \
	--data "$T/msg" > "$T/sw" 2>&1 || fail "swaks"
for i in $(seq 100); do [ "$(mailbox_count bob)" -ge 1 ] && break; sleep 0.1; done
[ "$(mailbox_count bob)" = 1 ] || fail "lmtp_user over TCP not honoured"
imap_get bob hunter2 "$T/got2" > /dev/null || fail "IMAP bob"
ok "LMTP over TCP with lmtp_user: delivered to bob"
stop
echo "$checks checks passed"
