#!/bin/bash
# SPDX-License-Identifier: ISC
# Delivery under injected faults, one message per case, through
# tests/lib/faultproxy.py to the Postfix smarthost's plain port (mail for
# mx.test, no AUTH) and against tests/lib/badserver.py. Every case checks
# that nothing is lost (queued or delivered), the state (pending with the
# attempts and last reply, or gone) and that duplicates appear only in
# SMTP's own window: the connection lost after the final dot, before the
# reply (RFC 5321 section 4.1.1.4 leaves that ambiguous to the client).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-34000}
on_exit peers_stop_all
on_exit 'peers_logs 20 >&2'
peers_init && peers_ca && dovecot_start && postfix_smarthost_start ||
	fail "peers did not start"
PP=$((PEERS_PORT_BASE + 600))	# the fault proxy
BP=$((PEERS_PORT_BASE + 601))	# badserver.py
SP=$((PEERS_PORT_BASE + 602))	# ternd's submission listener
faults=0 losses=0 dups=0
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
rcpt() { qjson | field "d[0]['recipients'][0]['$1']"; }

smarthost() {	# port [tls]
	write_conf "submit 127.0.0.1:$SP" \
	    "[smarthost]" "host 127.0.0.1" "port $1" "tls ${2:-none}" \
	    "ca_file $PEERS_DIR/ca/ca.pem" "[retry]" "schedule 1s"
}

# copies ID: how many copies of Message-ID <ID> the smarthost delivered
copies() {
	grep -l "^Message-ID: <$1>" "$PEERS_SMARTHOST_MAIL"/new/* \
	    "$PEERS_SMARTHOST_MAIL"/cur/* 2>/dev/null | wc -l
}

inject() {	# tag [body lines]: one message, the only one queued
	{
		printf 'From: me@node.test\nTo: ok@mx.test\n'
		printf 'Message-ID: <%s@node.test>\nSubject: %s\n\n' "$1" "$1"
		python3 -c 'import sys
sys.stdout.write("body line of the fault test\n" * int(sys.argv[1]))' \
		    "${2:-120}"
	} | "$TERN" sendmail ok@mx.test || fail "$1: sendmail"
	[ "$(qcount)" = 1 ] || fail "$1: queue holds $(qcount), not 1"
}

# proxy_case TAG WINDOW faultproxy-options...: the first connection
# faults, the retry passes. WINDOW=1 where a duplicate is allowed.
proxy_case() {
	local tag=$1 window=$2 lines=$3 rc n
	shift 3
	faults=$((faults + 1))
	faultproxy_start "$PP" 127.0.0.1 "$PEERS_SMTP_PORT" \
	    --fault-connections 1 "$@" || fail "$tag: proxy"
	smarthost "$PP"
	inject "$tag" "$lines"
	"$TERN" flush > "$T/out" 2> "$T/err"; rc=$?
	case $rc in 69|75) ;; *) cat "$T/out" "$T/err"; fail "$tag: flush exit $rc";; esac
	grep -q FAULT "$PEERS_DIR/proxy/$PP.log" || fail "$tag: no fault injected"
	[ "$(qcount)" = 1 ] || { losses=$((losses + 1)); fail "$tag: message lost"; }
	[ "$(rcpt state)" = pending ] || fail "$tag: state $(rcpt state)"
	[ "$(rcpt attempts)" = 0 ] || fail "$tag: attempts $(rcpt attempts)"
	[ "$(rcpt last_reply)" = None ] || fail "$tag: last_reply $(rcpt last_reply)"
	echo "   $tag: exit $rc, attempts $(rcpt attempts), last_reply '$(rcpt last_reply)'"
	"$TERN" status --json | field 'd["last_flush"]["error"]' > "$T/lf"
	[ -s "$T/lf" ] && [ "$(cat "$T/lf")" != None ] ||
		fail "$tag: no last_flush.error"
	echo "   $tag: last_flush.error: $(cat "$T/lf")"
	expect_rc 0 "$tag: the retry delivers" -- "$TERN" flush
	[ "$(qcount)" = 0 ] || fail "$tag: still queued after delivery"
	smarthost_wait_count 1 10 >/dev/null
	sleep 0.5	# Postfix's queue manager delivers after the 250
	n=$(copies "$tag@node.test")
	if [ "$window" = 1 ]; then
		[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "$tag: $n copies"
		dups=$((dups + n - 1))
		ok "$tag: kept, retried, $n cop$([ "$n" = 1 ] && echo y || echo ies) delivered (SMTP's window)"
	else
		[ "$n" = 1 ] || fail "$tag: $n copies delivered, want exactly 1"
		ok "$tag: kept pending, retried, delivered exactly once"
	fi
	faultproxy_stop "$PP"
}

# --- connection resets at each step -----------------------------------------
# A connection that breaks is no verdict on the recipient: it stays
# pending with attempts 0 and no last_reply (only a server's reply is
# one), the error goes to last_flush, and the retry runs on the schedule.
proxy_case after-mail 0 120 --drop-on '^RCPT TO' --reset
proxy_case after-rcpt 0 120 --drop-on '^DATA' --reset
# 4 MB: the drop comes while tern is still writing the body.
proxy_case mid-data 0 150000 --drop-after-bytes 100000 \
	--count-from 'DATA\r\n' --reset
proxy_case before-dot 0 120 --drop-on '\r\n\.\r\n'
proxy_case after-dot 1 120 --drop-reply-on '250 2\.0\.0 Ok: queued' --reset

# --- a server that stalls after DATA: the daemon stays responsive ----------
# The engine's deadlines are RFC 5321's (2 min for the 354, 10 for the
# final reply, section 4.5.3.2), too long to wait here. What must hold
# meanwhile: status and the listener answer, SIGTERM ends ternd.
faults=$((faults + 1))
faultproxy_start "$PP" 127.0.0.1 "$PEERS_SMTP_PORT" --fault-connections 1 \
	--stall-on '^DATA' --stall-seconds 300 --idle-timeout 300 ||
	fail "stall: proxy"
smarthost "$PP"
"$TERND" -c "$CONF" 2> "$T/ternd.log" &
tpid=$!
on_exit "kill -KILL $tpid 2>/dev/null"
wait_port 127.0.0.1 "$SP" 10 || fail "ternd did not listen"
inject stall		# sendmail nudges the daemon: a flush starts
timeout 60 "$TERN" flush > "$T/flush.out" 2>&1 &
fpid=$!
for i in $(seq 100); do
	grep -q FAULT "$PEERS_DIR/proxy/$PP.log" && break
	sleep 0.1
done
grep -q FAULT "$PEERS_DIR/proxy/$PP.log" || fail "stall: no stall injected"
sleep 1
t0=$(date +%s%N)
timeout 5 "$TERN" status --json > "$T/st" || fail "stall: tern status hangs"
[ "$(field 'd["daemon"]' < "$T/st")" = running ] || fail "stall: daemon not running"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "stall: tern status answers in ${ms} ms while the flush hangs"
timeout 10 python3 - "$SP" <<'PY' || fail "stall: the listener does not take mail"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=5)
s.sendmail("me@node.test", ["ok@mx.test"], b"From: me@node.test\r\n"
           b"Message-ID: <stall2@node.test>\r\nSubject: stall2\r\n\r\nhi\r\n")
s.quit()
PY
[ "$(qcount)" = 2 ] || fail "stall: queue holds $(qcount), not 2"
ok "stall: a submission on the listener is accepted while the flush hangs"
t0=$(date +%s%N)
kill -TERM "$tpid"
for i in $(seq 300); do pid_running "$tpid" || break; sleep 0.1; done
pid_running "$tpid" && fail "stall: ternd still runs 30 s after SIGTERM"
wait "$tpid"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] || { cat "$T/ternd.log"; fail "stall: ternd exit $rc after SIGTERM"; }
ok "stall: SIGTERM ends ternd cleanly in ${ms} ms (exit 0)"
wait "$fpid"; rc=$?
echo "   stall: the waiting flush client exited $rc: $(tail -1 "$T/flush.out")"
[ "$rc" = 124 ] && fail "stall: the flush client hung after ternd left"
[ "$(qcount)" = 2 ] || { losses=$((losses + 1)); fail "stall: $(qcount) queued, not 2"; }
qjson | field '"\n".join(r["state"] for m in d for r in m["recipients"])' |
	grep -qv pending && fail "stall: a recipient is not pending"
ok "stall: both messages kept, pending"
expect_rc 0 "stall: the retry delivers both" -- "$TERN" flush
faultproxy_stop "$PP"
sleep 1
[ "$(copies stall@node.test)" = 1 ] && [ "$(copies stall2@node.test)" = 1 ] ||
	fail "stall: copies $(copies stall@node.test) $(copies stall2@node.test)"
ok "stall: each delivered exactly once"

# --- servers that misbehave: 421, garbage, 100 KB lines, no TLS ------------
# bad_case MODE TLS PATTERN: the message stays queued and pending, and
# last_flush.error says what went wrong (grep -E PATTERN).
bad_case() {
	local mode=$1 tls=$2 pat=$3 rc
	local tag=$mode-$tls
	faults=$((faults + 1))
	python3 "$TERN_TOP/tests/lib/badserver.py" "$BP" "$mode" \
	    --idle-timeout 60 2> "$T/bad.log" &
	bpid=$!
	wait_port 127.0.0.1 "$BP" 5 || fail "$tag: badserver"
	smarthost "$BP" "$tls"
	inject "bad-$tag"
	timeout 60 "$TERN" flush > "$T/out" 2> "$T/err"; rc=$?
	case $rc in 69|75) ;; *) cat "$T/out" "$T/err"; fail "$tag: flush exit $rc";; esac
	[ "$(qcount)" = 1 ] || { losses=$((losses + 1)); fail "$tag: message lost"; }
	[ "$(rcpt state)" = pending ] || fail "$tag: state $(rcpt state)"
	"$TERN" status --json | field 'd["last_flush"]["error"]' > "$T/lf"
	grep -Eq -- "$pat" "$T/lf" || { cat "$T/err"; fail "$tag: last_flush.error '$(cat "$T/lf")' lacks /$pat/"; }
	echo "   $tag: exit $rc, attempts $(rcpt attempts), last_reply '$(rcpt last_reply)'"
	echo "   $tag: last_flush.error: $(cat "$T/lf")"
	ok "$tag: kept pending, the error is clear"
	kill "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	"$TERN" delete "$(qjson | field 'd[0]["id"]')" || fail "delete"
}
bad_case greet421 none '421'
bad_case garbage none 'malformed|garbage|invalid|bad'
bad_case badcode none 'malformed|garbage|invalid|bad'
bad_case longline none 'long'
bad_case longehlo none 'long'
bad_case close implicit 'TLS|handshake'
bad_case close none 'closed'

echo "figures: $faults faults injected, $losses messages lost, $dups duplicate(s) (all in the window after the final dot)"
echo "$checks checks passed"
