#!/bin/bash
# SPDX-License-Identifier: ISC
# Delivery to a real Postfix smarthost (STARTTLS + Dovecot SASL, implicit
# TLS), started by the suite: 1000 messages by one flush, each exactly once
# and byte-identical; AUTH failure; wrong certificate name; 4xx then
# success; 5xx bounced to the local maildir while the others go; the line
# dropped mid-DATA; smarthost down (nothing counted toward give_up).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-24000}
on_exit peers_stop_all
on_exit 'peers_logs 20 >&2'
peers_init && peers_ca && dovecot_start && postfix_smarthost_start ||
	fail "peers did not start"
CA=$PEERS_DIR/ca/ca.pem
N=${N:-1000}

smarthost_conf() {	# port [tls] [password command]
	write_conf "[smarthost]" "host localhost" "port $1" "tls ${2:-starttls}" \
	    "ca_file $CA" "user alice" "password_command ${3:-echo secret}" \
	    "[retry]" "schedule 1s" "give_up ${GIVE_UP:-5d}" \
	    "[deliver]" "maildir $T/Maildir"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- 1000 messages, one flush, exactly once, byte-identical -----------------
smarthost_conf "$PEERS_SUBMISSION_PORT"
mkdir -p "$T/in"
python3 - "$T/in" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    body = "".join(
        (".dot line %d\n" % j) if j % 7 == 0 else
        ("8-bit \u00e9\u00e8 line %d\n" % j) if j % 5 == 0 else
        ("text line %d %s\n" % (j, "x" * (j % 60))) for j in range(60))
    open("%s/%d" % (d, i), "w").write(
        "From: me@node.test\nTo: rcpt%d@x.test\n"
        "Date: Fri, 04 Dec 2026 10:00:00 +0000\n"
        "Message-ID: <bulk%d@node.test>\nSubject: bulk %d\n\n%s" % (i, i, i, body))
PY
seq 0 $((N - 1)) | xargs -P 4 -I{} sh -c \
	'"$TERN" sendmail -i "rcpt{}@x.test" < "$0/in/{}" || echo FAIL {}' "$T" > "$T/inj"
grep -q FAIL "$T/inj" && fail "injection failed"
[ "$(qcount)" = "$N" ] || fail "queue holds $(qcount), not $N"
ok "$N messages queued"
expect_rc 0 "one flush delivers all" -- "$TERN" flush
[ "$(grep -c 'status=sent' "$T/out")" = "$N" ] || fail "flush reported $(grep -c status=sent "$T/out") sent"
ok "flush printed one line per recipient"
smarthost_wait_count "$N" 60 || fail "smarthost has $(smarthost_count) of $N"
sleep 1
[ "$(smarthost_count)" = "$N" ] || fail "smarthost has $(smarthost_count), not exactly $N"
[ "$(qcount)" = 0 ] || fail "queue not empty after delivery"
python3 - "$T/in" "$PEERS_SMARTHOST_MAIL" "$N" <<'PY' || fail "delivered copies differ"
import os, re, sys
src, mail, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {}
for sub in ("new", "cur"):
    for f in os.listdir(os.path.join(mail, sub)):
        b = open(os.path.join(mail, sub, f), "rb").read()
        # Postfix's trace headers come first, then ours, then the message.
        k = b.index(b"\nReceived: by node.test (tern")
        rest = b[b.index(b"\n", k + 1) + 1:]
        i = int(re.search(rb"Message-ID: <bulk(\d+)@", rest).group(1))
        assert i not in seen, "duplicate %d" % i
        seen[i] = rest
assert sorted(seen) == list(range(n)), "missing messages"
for i, got in seen.items():
    want = open("%s/%d" % (src, i), "rb").read()
    assert got == want, "message %d differs" % i
PY
ok "each of the $N delivered exactly once, byte-identical after trace headers"

# --- implicit TLS (port 465 style) ------------------------------------------
smarthost_conf "$PEERS_SMTPS_PORT" implicit
printf 'Subject: implicit\n\nhi\n' | "$TERN" sendmail ok@x.test || fail inject
expect_rc 0 "implicit TLS delivery" -- "$TERN" flush
smarthost_wait_count $((N + 1)) 10 || fail "implicit TLS mail not delivered"
ok "implicit TLS delivered"

# --- AUTH failure: 535 keeps the mail, status shows the reply ----------------
smarthost_conf "$PEERS_SUBMISSION_PORT" starttls "echo wrong"
printf 'Subject: auth\n\nhi\n' | "$TERN" sendmail ok@x.test || fail inject
expect_rc 69 "flush with a wrong password" -- "$TERN" flush
"$TERN" status --json | field 'd["last_flush"]["error"]' | grep -q 535 ||
	fail "status does not show the 535"
[ "$(qcount)" = 1 ] || fail "mail not kept after 535"
[ "$(qjson | field 'd[0]["recipients"][0]["attempts"]')" = 0 ] || fail "535 counted as an attempt"
ok "535: mail kept, status shows the server's reply"

# --- certificate for the wrong name: nothing sent, clear error ---------------
WP=$((PEERS_PORT_BASE + 466))
gnutls-serv --port "$WP" --x509certfile "$PEERS_DIR/ca/wrong.pem" \
	--x509keyfile "$PEERS_DIR/ca/wrong-key.pem" > "$T/gs.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_port 127.0.0.1 "$WP" 5 || fail "gnutls-serv did not start"
smarthost_conf "$WP" implicit
expect_rc 69 "wrong certificate name" -- "$TERN" flush
grep -q "wrong.test" "$T/err" || { cat "$T/err"; fail "error does not name the certificate's name"; }
ok "wrong-name certificate refused with a clear error"

# --- 4xx then success --------------------------------------------------------
smarthost_conf "$PEERS_SUBMISSION_PORT"
"$TERN" delete "$(qjson | field 'd[0]["id"]')"
printf 'Subject: temp\n\nhi\n' | "$TERN" sendmail tempfail@x.test || fail inject
expect_rc 75 "4xx defers" -- "$TERN" flush
[ "$(qjson | field 'd[0]["recipients"][0]["state"]')" = pending ] || fail "not pending"
[ "$(qjson | field 'd[0]["recipients"][0]["attempts"]')" = 1 ] || fail "attempt not counted"
postfix_smarthost_allow_tempfail || fail "reload"
c0=$(smarthost_count)
expect_rc 0 "then delivered" -- "$TERN" flush
smarthost_wait_count $((c0 + 1)) 10 || fail "not delivered after the 4xx cleared"
postfix_smarthost_deny_tempfail
ok "4xx retried, then delivered"

# --- 5xx: a DSN in the local maildir, the other recipient delivered ----------
c0=$(smarthost_count)
printf 'From: me@node.test\nSubject: mixed\n\nhi\n' |
	"$TERN" sendmail -f me@node.test reject@x.test good@x.test || fail inject
expect_rc 65 "5xx for one recipient" -- "$TERN" flush
smarthost_wait_count $((c0 + 1)) 10 || fail "good recipient not delivered"
[ "$(qcount)" = 0 ] || fail "message not finished"
dsn=$(ls "$T/Maildir/new/"* 2>/dev/null | head -1)
[ -n "$dsn" ] || fail "no DSN in the local maildir"
python3 - "$dsn" <<'PY' || fail "DSN content"
import sys, email
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m["Return-Path"] == "<>", m["Return-Path"]
assert m["Auto-Submitted"] == "auto-replied"
assert m.get_content_type() == "multipart/report"
assert m.get_param("report-type") == "delivery-status"
parts = [p.get_content_type() for p in m.walk()]
assert "message/delivery-status" in parts, parts
t = open(sys.argv[1]).read()
assert "Final-Recipient: rfc822; reject@x.test" in t
assert "Action: failed" in t and "Status: 5.1.1" in t
assert "good@x.test" not in t.split("message/delivery-status")[1].split("--")[0]
PY
ok "5xx: RFC 3464 DSN in the local maildir, the other recipient delivered"

# --- connection dropped mid-DATA: retried, delivered once --------------------
PP=$((PEERS_PORT_BASE + 588))
faultproxy_start "$PP" 127.0.0.1 "$PEERS_SMTP_PORT" \
	--drop-after-bytes 300 --count-from 'DATA' --fault-connections 1 ||
	fail "proxy"
# A byte-counting proxy needs plaintext: the port-25 style service, which
# takes mail for mx.test.
write_conf "[smarthost]" "host 127.0.0.1" "port $PP" "tls none" "[retry]" "schedule 1s"
c0=$(smarthost_count)
python3 -c 'print("Subject: drop\n\n" + "line of the body\n" * 200)' |
	"$TERN" sendmail ok@mx.test || fail inject
"$TERN" flush > "$T/out" 2>&1; rc=$?
[ $rc = 75 ] || [ $rc = 69 ] || fail "dropped line: exit $rc"
[ "$(qcount)" = 1 ] || fail "message lost after the drop"
expect_rc 0 "retry after the drop" -- "$TERN" flush
sleep 1
[ "$(smarthost_count)" = $((c0 + 1)) ] || fail "delivered $(( $(smarthost_count) - c0 )) times"
ok "line dropped mid-DATA: kept, retried, delivered exactly once"

# --- smarthost down: exit 69, nothing counted toward give_up -----------------
postfix_smarthost_stop
GIVE_UP=1s smarthost_conf "$PEERS_SUBMISSION_PORT"
printf 'Subject: offline\n\nhi\n' | "$TERN" sendmail ok@x.test || fail inject
expect_rc 69 "smarthost down" -- "$TERN" flush
sleep 2
expect_rc 69 "still down, past give_up" -- "$TERN" flush
[ "$(qcount)" = 1 ] || fail "offline time bounced the message"
[ "$(qjson | field 'd[0]["recipients"][0]["attempts"]')" = 0 ] || fail "offline counted as an attempt"
[ "$(qjson | field 'd[0]["recipients"][0]["state"]')" = pending ] || fail "not pending"
ok "offline: exit 69, no attempt counted, nothing bounced past give_up"
echo "$checks checks passed"
