#!/bin/bash
# SPDX-License-Identifier: ISC
# ternd with a real Postfix smarthost: a nudge from sendmail delivers at
# once; tern flush through the daemon reports per recipient; down keeps
# mail, up delivers it; kill -9 of ternd during a flush of 1000 messages,
# then restart: every message delivered, duplicates counted (at most one
# per kill); an idle ternd makes no system calls.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-28000}
on_exit peers_stop_all
on_exit 'peers_logs 20 >&2'
on_exit '[ -f "$T/ternd.pid" ] && kill -9 $(cat "$T/ternd.pid") 2>/dev/null'
peers_init && peers_ca && dovecot_start && postfix_smarthost_start ||
	fail "peers did not start"
N=${N:-1000}
IDLE=${IDLE:-60}
write_conf "[smarthost]" "host localhost" "port $PEERS_SUBMISSION_PORT" \
	"ca_file $PEERS_DIR/ca/ca.pem" "user alice" "password_command echo secret"

start_ternd() {
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	echo $! > "$T/ternd.pid"
	for i in $(seq 100); do
		[ -S "$T/state/control.sock" ] && "$TERN" status --json 2>/dev/null |
			grep -q '"running"' && return 0
		sleep 0.05
	done
	fail "ternd did not start"
}
stop_ternd() {
	kill "$(cat "$T/ternd.pid")"; wait "$(cat "$T/ternd.pid")" 2>/dev/null
	rm -f "$T/ternd.pid"
}

start_ternd
"$TERN" up > /dev/null || fail "tern up"
c0=$(smarthost_count)
printf 'Subject: nudge\n\nhi\n' | "$TERN" sendmail ok@x.test || fail inject
smarthost_wait_count $((c0 + 1)) 10 || fail "the nudge did not deliver"
ok "sendmail's nudge: delivered at once, no flush needed"

printf 'Subject: two\n\nhi\n' | "$TERN" sendmail tempfail@x.test ok2@x.test
expect_rc 75 "flush through the daemon" -- "$TERN" flush
grep -q 'to=<ok2@x.test>.*status=sent' "$T/out" || grep -q 'ok2@x.test' "$T/ternd.log" ||
	fail "no per-recipient line"
grep -q 'to=<tempfail@x.test>.*status=deferred' "$T/out" || fail "no deferred line: $(cat "$T/out")"
ok "flush through the daemon reports per recipient"
"$TERN" delete "$(qjson | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"

expect_rc 0 "tern down" -- "$TERN" down
c0=$(smarthost_count)
printf 'Subject: down\n\nhi\n' | "$TERN" sendmail ok@x.test
sleep 1.5
[ "$(smarthost_count)" = "$c0" ] || fail "sent while the link is down"
[ "$("$TERN" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["link"])')" = down ] || fail "status link"
expect_rc 0 "tern up" -- "$TERN" up
smarthost_wait_count $((c0 + 1)) 10 || fail "tern up did not deliver"
ok "down keeps mail; up delivers it at once"

# --- kill -9 during a flush of N, restart, count -------------------------
stop_ternd
mkdir -p "$T/bulk"
seq 0 $((N - 1)) | xargs -P 4 -I{} sh -c \
	'printf "Message-ID: <k{}@node.test>\nSubject: k{}\n\nbody {}\n" |
	 "$0" sendmail -i k{}@x.test || echo FAIL' "$TERN" > "$T/inj"
grep -q FAIL "$T/inj" && fail "injection"
c0=$(smarthost_count)
kills=0
start_ternd
"$TERN" up > /dev/null
for k in 1 2 3; do
	sleep 0.$((RANDOM % 5 + 3))
	kill -9 "$(cat "$T/ternd.pid")"; wait "$(cat "$T/ternd.pid")" 2>/dev/null
	kills=$((kills + 1))
	start_ternd
	"$TERN" up > /dev/null
done
for i in $(seq 600); do
	[ "$(qcount)" = 0 ] && break
	sleep 0.2
done
[ "$(qcount)" = 0 ] || fail "queue not drained: $(qcount) left"
smarthost_wait_count $((c0 + N)) 30 || fail "only $(( $(smarthost_count) - c0 )) of $N arrived"
sleep 1
dups=$(smarthost_messages | xargs grep -h '^Message-ID: <k' | sort | uniq -d | wc -l)
uniq_n=$(smarthost_messages | xargs grep -h '^Message-ID: <k' | sort -u | wc -l)
[ "$uniq_n" = "$N" ] || fail "$uniq_n distinct of $N delivered"
[ "$dups" -le "$kills" ] || fail "$dups duplicates for $kills kills"
ok "kill -9 x$kills during a flush of $N: all delivered, $dups duplicate(s)"
echo "figures: kills=$kills duplicates=$dups"

# --- idle: no system calls at all ------------------------------------------
pid=$(cat "$T/ternd.pid")
sleep 2
sw0=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$pid/status)
iv0=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' /proc/$pid/status)
sleep "$IDLE"
sw1=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$pid/status)
[ "$sw1" = "$sw0" ] || fail "idle ternd woke $((sw1 - sw0)) times in ${IDLE}s"
ok "idle for ${IDLE}s: 0 wake-ups (voluntary context switches $sw0 -> $sw1)"
stop_ternd
echo "$checks checks passed"
