#!/bin/bash
# SPDX-License-Identifier: ISC
# The submission listener with clients nobody here wrote (swaks, Python's
# smtplib) and a raw client for what those refuse to send: pipelining,
# 8-bit and SMTPUTF8, dot lines, SIZE (552), a 100 KB command line, NUL,
# unknown commands, every smuggling sequence, STARTTLS with pipelined
# plaintext (discarded), a stalled client (others still served), and a
# stranger refused (never an open relay).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
P=${PORT:-29025}
sh "$TERN_TOP/tests/lib/mkca.sh" "$T/ca" > /dev/null || fail "mkca"
write_conf "submit 127.0.0.1:$P" "submit unix:$T/submit.sock" \
	"max_message_size 200K" "tls_cert $T/ca/server.pem" "tls_key $T/ca/server-key.pem"
"$TERND" -c "$CONF" 2> "$T/ternd.log" &
tpid=$!
on_exit "kill $tpid 2>/dev/null"
for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.05; done
RAW="python3 $TERN_TOP/tests/lib/smtpclient.py 127.0.0.1 $P"
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- swaks: pipelining, 8-bit, dot lines -----------------------------------
printf 'Subject: swaks\n\n.leading dot\n..two\n\xc3\xa9t\xc3\xa9\n' > "$T/body"
swaks --server 127.0.0.1:$P --from me@node.test --to a@x.test,b@x.test \
	--pipeline --data "$T/body" > "$T/swaks.log" 2>&1 || { cat "$T/swaks.log"; fail "swaks"; }
grep -q "250 2.0.0 Ok: queued as" "$T/swaks.log" || fail "no queue id in the 250"
id=$(qjson | field 'd[-1]["id"]')
"$TERN" show --raw "$id" > "$T/raw"
grep -q '^Received: from ' "$T/raw" || fail "no Received header"
grep -q '^\.leading dot' "$T/raw" && grep -q '^\.\.two' "$T/raw" || fail "dot lines not unstuffed right"
grep -q 'été' "$T/raw" || fail "8-bit body altered"
[ "$(qjson | field 'len(d[-1]["recipients"])')" = 2 ] || fail "recipients"
ok "swaks with PIPELINING: two recipients, dot lines and 8-bit intact"
swaks --server 127.0.0.1:$P --tls --tls-ca-path "$T/ca/ca.pem" --from me@node.test \
	--to c@x.test > "$T/swaks2.log" 2>&1 || { cat "$T/swaks2.log"; fail "swaks STARTTLS"; }
grep -q "with ESMTPS" <("$TERN" show --raw "$(qjson | field 'd[-1]["id"]')") || fail "not ESMTPS"
ok "swaks with STARTTLS: Received says ESMTPS"

# --- smtplib: SMTPUTF8, SIZE, unix socket ----------------------------------------
python3 - "$P" "$T/submit.sock" <<'PY' || fail "smtplib"
import smtplib, socket, sys
port, sock = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo()
assert s.has_extn("smtputf8") and s.has_extn("pipelining") and s.has_extn("size")
assert s.has_extn("8bitmime") and s.has_extn("dsn") and s.has_extn("chunking")
msg = "From: δ@παράδειγμα.test\r\nSubject: utf8\r\n\r\nγεια\r\n".encode()
s.sendmail("δ@παράδειγμα.test", ["ω@x.test"], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
code, text = s.mail("me@node.test", ["SIZE=999999999"])
assert code == 552, (code, text)
s.rset()
big = b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 4000
s.mail("me@node.test")         # no SIZE= declared: caught by counting
s.rcpt("a@x.test")
code, text = s.data(big)
assert code == 552, (code, text)
s.quit()
u = smtplib.SMTP()
u.sock = socket.socket(socket.AF_UNIX); u.sock.connect(sock); u.file = None
u.getreply(); u.ehlo("localhost")
u.sendmail("me@node.test", ["unix@x.test"], b"Subject: unix\r\n\r\nhi\r\n")
u.quit()
PY
qjson | grep -q 'ω@x.test' || fail "SMTPUTF8 recipient not queued"
qjson | grep -q 'unix@x.test' || fail "unix socket mail not queued"
ok "smtplib: SMTPUTF8 accepted, SIZE 552 by parameter and by content, unix: socket"

# --- raw: smuggling never ends DATA; one message at most ----------------------
n0=$(qcount)
for form in '\n.\r\n' '\r.\r' '\n.\n' '\r\n.\n' '\r\n.\r' '\n.\r'; do
	cat > "$T/s" <<EOS
read 1
send b'EHLO x\r\n'
read 1
send b'MAIL FROM:<evil@x.test>\r\nRCPT TO:<v@x.test>\r\nDATA\r\n'
read 3
send b'Subject: smuggle\r\n\r\nbody${form}MAIL FROM:<spoof@x.test>\r\nRCPT TO:<victim@x.test>\r\nDATA\r\nspoofed\r\n.\r\n'
read 1
send b'QUIT\r\n'
read 1
EOS
	$RAW "$T/s" > "$T/s.out" || fail "raw client"
	grep -q '^550 5.6.0' "$T/s.out" || { cat "$T/s.out"; fail "smuggling form $form not rejected"; }
	grep -q '^250 2.0.0 Ok: queued' "$T/s.out" && fail "smuggling form $form queued something"
done
[ "$(qcount)" = "$n0" ] || fail "a smuggled message was queued"
qjson | grep -q victim && fail "spoofed recipient queued"
ok "six bare CR/LF dot forms: never end DATA, message refused 550 5.6.0, nothing smuggled"

# --- raw: 100 KB command line, NUL, unknown command -----------------------------
python3 -c "print(\"read 1\nsend b'EHLO \" + 'a'*102400 + \"\\\\r\\\\n'\nread 1\nsend b'NOOP\\\\r\\\\n'\nread 1\nsend b'FOO bar\\\\r\\\\n'\nread 1\nsend b'MA\\\\x00IL FROM:<a@b>\\\\r\\\\n'\nread 1\nsend b'QUIT\\\\r\\\\n'\nread 1\")" > "$T/l"
$RAW "$T/l" > "$T/l.out" || fail "raw"
sed -n 2p "$T/l.out" | grep -q '^500 5.5.6' || { cat "$T/l.out"; fail "100 KB line not 500 5.5.6"; }
sed -n 3p "$T/l.out" | grep -q '^250' || fail "session did not go on after the long line"
sed -n 4p "$T/l.out" | grep -q '^500' || fail "unknown command not 500"
sed -n 5p "$T/l.out" | grep -q '^500' || fail "NUL not refused"
sed -n 6p "$T/l.out" | grep -q '^221' || fail "no 221"
ok "100 KB command line 500 and the session goes on; unknown command 500; NUL 500"

# --- STARTTLS with pipelined plaintext after it: discarded ------------------
cat > "$T/tls" <<EOS
read 1
send b'EHLO x\r\n'
read 1
send b'STARTTLS\r\nRSET\r\n'
read 1
starttls $T/ca/ca.pem
send b'NOOP\r\n'
read 1
send b'QUIT\r\n'
read 1
EOS
$RAW "$T/tls" > "$T/tls.out" || fail "raw tls"
grep -q '^220 2.0.0' "$T/tls.out" || { cat "$T/tls.out"; fail "STARTTLS not 220"; }
# NOOP and RSET both say "250 2.0.0": exactly one means RSET was dropped.
[ "$(grep -c '^250 2.0.0' "$T/tls.out")" = 1 ] || { cat "$T/tls.out"; fail "the pipelined RSET was answered"; }
tail -1 "$T/tls.out" | grep -q '^221' || fail "no 221 over TLS"
ok "STARTTLS: plaintext pipelined after it is discarded (TLS-05)"

# --- a stalled client does not stall the daemon ------------------------------
( exec 3<>/dev/tcp/127.0.0.1/$P; sleep 20 ) &
stall=$!
sleep 0.3
printf 'Subject: while stalled\n\nhi\n' > "$T/b2"
timeout 10 swaks --server 127.0.0.1:$P --from me@node.test --to s@x.test --data "$T/b2" > /dev/null 2>&1 ||
	fail "another client was not served while one stalls"
kill $stall 2>/dev/null
ok "a stalled client does not hold up others"

# --- never an open relay: a client not on loopback is refused --------------
ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
if [ -n "$ip" ]; then
	printf 'hostname node.test\nstate %s/state2\nsubmit 0.0.0.0:%s\n' "$T" $((P + 1)) > "$T/c2"
	"$TERND" -c "$T/c2" 2> "$T/ternd2.log" &
	t2=$!
	on_exit "kill $t2 2>/dev/null"
	for i in $(seq 100); do (exec 3<>/dev/tcp/$ip/$((P + 1))) 2>/dev/null && break; sleep 0.05; done
	printf 'read 1\n' > "$T/r"
	python3 "$TERN_TOP/tests/lib/smtpclient.py" "$ip" $((P + 1)) "$T/r" > "$T/r.out"
	grep -q '^554 5.7.1' "$T/r.out" || { cat "$T/r.out"; fail "stranger not refused"; }
	ok "a client from $ip (not loopback) without submit_users: 554 5.7.1"
else
	echo "note: no global IPv4 address; stranger test skipped"
fi
echo "$checks checks passed"
