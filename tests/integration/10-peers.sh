#!/bin/bash
# SPDX-License-Identifier: ISC
# 10-peers.sh: proves the peers harness (tests/lib/peers.sh) before any
# tern test leans on it: the Postfix smarthost does STARTTLS-then-AUTH
# submission and implicit TLS, refuses relaying and bare LFs, answers 450
# and 550 on cue; Dovecot takes LMTP and gives mail back over IMAP; the
# fault proxy cuts a session mid-DATA and nothing gets delivered.
# Run as `sh 10-peers.sh` by tests/run: re-exec under bash.
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"

top=${TERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/peers.sh" || exit 1
peers_init || exit 1
trap 'peers_stop_all' EXIT
trap 'exit 1' INT TERM HUP

fails=0 n=0
out=$PEERS_DIR/out
mkdir -p "$out"

# check DESC CMD...: runs CMD, prints the verdict.
check()
{
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok   $n $desc ($(elapsed "$tstart")s)"
	else
		echo "FAIL $n $desc"
		fails=$((fails + 1))
	fi
}

# replied FILE CODE: swaks' transcript FILE has a server reply CODE...
replied()
{
	grep -Eq "^<[-~*]+ +$2" "$1" || { tail -n 8 "$1" | sed 's/^/    /'; false; }
}

# swk NAME swaks-args...: runs swaks quietly, transcript in $out/NAME.
swk()
{
	local name=$1 where=(--server 127.0.0.1)
	shift
	[ "$1" = --socket ] && where=()
	timeout 20 swaks "${where[@]}" --from alice@home.example \
	    --helo client.test "$@" >"$out/$name" 2>&1
}

# delivered_with TOKEN: the newest smarthost message contains TOKEN.
delivered_with()
{
	local f
	f=$(smarthost_messages | tail -n 1)
	[ -n "$f" ] && grep -q "$1" "$f"
}

# lost_connection N: the smarthost logged N "lost connection after DATA".
lost_connection()
{
	local i=0
	while [ "$i" -lt 100 ]; do
		[ "$(grep -c 'lost connection after DATA' \
		    "$PEERS_DIR/postfix/maillog")" -ge "$1" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# elapsed T0: seconds since T0 (date +%s.%N).
elapsed()
{
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

t0=$(date +%s.%N) tstart=$t0
check "peers_ca makes the certificates" peers_ca
check "dovecot_start" dovecot_start
check "postfix_smarthost_start" postfix_smarthost_start
check "second start is a no-op" postfix_smarthost_start
echo "#   started in $(elapsed "$t0")s, dir $PEERS_DIR"
ca=$PEERS_DIR/ca/ca.pem
auth=(--auth-user alice --auth-password secret)

# 1. STARTTLS (verified against the test CA), AUTH PLAIN, delivered.
c0=$(smarthost_count)
swk plain --port "$PEERS_SUBMISSION_PORT" --tls --tls-verify \
    --tls-ca-path "$ca" --auth PLAIN "${auth[@]}" --to bob@example.org \
    --header "Subject: token-plain-$$"
check "submission: STARTTLS + AUTH PLAIN accepted" replied "$out/plain" \
    '250 2\.0\.0 Ok: queued'
check "submission: advertises SCRAM-SHA-256 and CRAM-MD5 after STARTTLS" \
    grep -Eq '^<~ +250-AUTH .*CRAM-MD5.*SCRAM-SHA-256' "$out/plain"
check "submission: message lands in the smarthost maildir" \
    smarthost_wait_count $((c0 + 1)) 5
check "submission: delivered content is ours" delivered_with "token-plain-$$"

# 2. Wrong password.
swk badpw --port "$PEERS_SUBMISSION_PORT" --tls --auth PLAIN \
    --auth-user alice --auth-password wrong --to bob@example.org
check "submission: wrong password gets 535" replied "$out/badpw" '535 5\.7\.8'

# 3. AUTH before STARTTLS: not offered, and refused when sent anyway.
python3 - "$PEERS_SUBMISSION_PORT" >"$out/notls" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.rstrip())
        if l[3:4] != "-":
            return lines
print(reply())
s.sendall(b"EHLO client.test\r\n")
ehlo = reply()
print(ehlo)
s.sendall(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
r = reply()
print(r)
ok = not any("AUTH" in l for l in ehlo) and r[-1][:1] == "5"
sys.exit(0 if ok else 1)
EOF
rc=$?
check "submission: AUTH before STARTTLS refused" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    /' "$out/notls"
grep -o "\['5.*" "$out/notls" | sed 's/^/#   /'

# 4. Implicit TLS port.
c0=$(smarthost_count)
swk tlsc --port "$PEERS_SMTPS_PORT" --tlsc --tls-verify --tls-ca-path "$ca" \
    --auth LOGIN --auth-user bob --auth-password hunter2 \
    --to carol@example.net --header "Subject: token-tlsc-$$"
check "smtps: implicit TLS + AUTH LOGIN accepted" replied "$out/tlsc" \
    '250 2\.0\.0 Ok: queued'
check "smtps: delivered" smarthost_wait_count $((c0 + 1)) 5
check "smtps: delivered content is ours" delivered_with "token-tlsc-$$"
swk cram --port "$PEERS_SMTPS_PORT" --tlsc --auth CRAM-MD5 "${auth[@]}" \
    --to carol@example.net
check "smtps: AUTH CRAM-MD5 accepted" replied "$out/cram" '235 '

# 5. No relaying without AUTH.
swk relay --port "$PEERS_SMTP_PORT" --to victim@example.org
check "plain port: unauthenticated relay gets 554 5.7.1" \
    replied "$out/relay" '554 5\.7\.1'
swk relay2 --port "$PEERS_SUBMISSION_PORT" --tls --to victim@example.org
check "submission: TLS without AUTH cannot relay (554 5.7.1)" \
    replied "$out/relay2" '554 5\.7\.1'

# 6. Per-recipient replies, and tempfail turning good.
swk tempfail --port "$PEERS_SUBMISSION_PORT" --tls --auth PLAIN "${auth[@]}" \
    --to tempfail@example.org
check "tempfail@ gets 450 4.2.0" replied "$out/tempfail" '450 4\.2\.0'
swk reject --port "$PEERS_SUBMISSION_PORT" --tls --auth PLAIN "${auth[@]}" \
    --to reject@example.org
check "reject@ gets 550 5.1.1" replied "$out/reject" '550 5\.1\.1'
check "postfix_smarthost_allow_tempfail" postfix_smarthost_allow_tempfail
swk tempfail2 --port "$PEERS_SUBMISSION_PORT" --tls --auth PLAIN \
    "${auth[@]}" --to tempfail@example.org
check "tempfail@ accepted after allow_tempfail" replied "$out/tempfail2" \
    '250 2\.0\.0 Ok: queued'
postfix_smarthost_deny_tempfail

# 7. A bare LF in DATA is refused (RFC 5321 section 2.3.8).
smarthost_wait_count $((c0 + 2)) 5
c0=$(smarthost_count)
swk barelf --port "$PEERS_SUBMISSION_PORT" --tls --auth PLAIN "${auth[@]}" \
    --to bob@example.org --no-data-fixup \
    --data $'Subject: bare\r\n\r\nline one\nline two\r\n.\r\n'
check "bare LF in DATA gets 550 5.5.2" replied "$out/barelf" '550 5\.5\.2'
sleep 0.3
check "bare LF message not delivered" [ "$(smarthost_count)" -eq "$c0" ]

# 8. LMTP to Dovecot, read back over IMAP.
swk lmtp --protocol LMTP --port "$PEERS_LMTP_PORT" --to alice@mx.test \
    --header "Subject: token-lmtp-$$"
check "LMTP (TCP) to alice: 250" replied "$out/lmtp" '250 2\.0\.0 <alice@mx\.test>'
swk lmtpu --socket "$PEERS_LMTP_SOCKET" --protocol LMTP --to nobody@mx.test
check "LMTP (unix socket) to an unknown user: 550" replied "$out/lmtpu" '550 '
check "IMAP reads alice's LMTP message back" python3 - "$PEERS_IMAP_PORT" \
    "token-lmtp-$$" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("alice", "secret")
m.select("INBOX")
typ, data = m.search(None, "SUBJECT", sys.argv[2])
ok = typ == "OK" and data[0].split()
if ok:
    typ, msg = m.fetch(data[0].split()[-1], "(RFC822)")
    ok = ("Subject: " + sys.argv[2]).encode() in msg[0][1]
m.logout()
sys.exit(0 if ok else 1)
EOF

# 9. The fault proxy in front of the plain port (mx.test is accepted
# there without AUTH): connection 1 is cut after 40 body bytes, connection
# 2 passes. Then one cut just before the final dot.
pp=$(free_port)
check "faultproxy starts" faultproxy_start "$pp" 127.0.0.1 \
    "$PEERS_SMTP_PORT" --count-from '^DATA\r\n' --drop-after-bytes 40 \
    --fault-connections 1 --idle-timeout 20
c0=$(smarthost_count)
swk cut --port "$pp" --to someone@mx.test --header "Subject: token-cut-$$"
rc=$?
check "faultproxy: swaks sees the mid-DATA drop" [ "$rc" != 0 ]
check "faultproxy: and no 250 for the message" eval \
    '! grep -Eq "^<[-~*]+ +250 2\.0\.0" "$out/cut"'
check "faultproxy: smarthost saw the connection lost in DATA" lost_connection 1
check "faultproxy: nothing delivered" [ "$(smarthost_count)" -eq "$c0" ]
swk clean --port "$pp" --to someone@mx.test --header "Subject: token-ok-$$"
check "faultproxy: connection 2 passes through" replied "$out/clean" \
    '250 2\.0\.0 Ok: queued'
check "faultproxy: and is delivered" smarthost_wait_count $((c0 + 1)) 5
faultproxy_stop "$pp"
pp=$(free_port)
faultproxy_start "$pp" 127.0.0.1 "$PEERS_SMTP_PORT" \
    --drop-on '\r\n\.\r\n' --idle-timeout 20
c0=$(smarthost_count)
swk dot --port "$pp" --to someone@mx.test
rc=$?
check "faultproxy: drop before the final dot fails the session" \
    [ "$rc" != 0 ]
check "faultproxy: smarthost saw it" lost_connection 2
check "faultproxy: still nothing delivered" [ "$(smarthost_count)" -eq "$c0" ]
check "faultproxy: logged its FAULTs" \
    [ "$(cat "$PEERS_DIR"/proxy/*.log | grep -c FAULT)" -eq 2 ]

# 10. Stop is clean.
t0=$(date +%s.%N)
check "postfix_smarthost_stop closes the ports" postfix_smarthost_stop
check "dovecot_stop" dovecot_stop
check "no listener left" wait_port_closed 127.0.0.1 "$PEERS_SMTP_PORT" 0
echo "#   stopped in $(elapsed "$t0")s"

if [ "$fails" -ne 0 ]; then
	echo "$fails of $n checks failed; logs:"
	peers_logs 20
	exit 1
fi
echo "all $n checks passed"
exit 0
