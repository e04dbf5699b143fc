#!/bin/bash
# SPDX-License-Identifier: ISC
# kill -9 of ternd during an ATRN pull, then restart and pull again:
# exactly one copy of each message in the mailbox; only SMTP's own window
# (the line lost between our commit and the provider reading our 250)
# could duplicate one: counted and reported.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/odmr.sh"
on_exit odmr_stop_all
on_exit '[ -n "${tpid:-}" ] && kill -9 $tpid 2>/dev/null'
N=${N:-2000}
P=${PORT:-32466}
SP=$T/spool
echo "me:secret:home.example" > "$T/users"
write_conf "submit off" "[inbound]" "method atrn" "host 127.0.0.1" "port $P" \
	"tls none" "auth cram-md5" "user me" "password_command echo secret" \
	"domains home.example" "[deliver]" "maildir $T/Maildir"
odmr_fill "$SP" "$N" me@home.example > /dev/null
odmrd_start odmrd "$P" --users "$T/users" --spool "$SP" --auth-mechs CRAM-MD5 ||
	fail "odmrd"
start() {
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	tpid=$!
	for i in $(seq 100); do [ -S "$T/state/control.sock" ] && break; sleep 0.05; done
}
md() { find "$T/Maildir/new" -type f 2>/dev/null | wc -l; }
start
"$TERN" pull > /dev/null 2>&1 &
kills=0
for k in 1 2; do
	sleep 0.$((RANDOM % 5 + 4))
	kill -9 $tpid; wait $tpid 2>/dev/null
	kills=$((kills + 1))
	start
done
# A child of a killed ternd finishes its session first (the provider
# serves one at a time): pull until the provider has nothing left.
for round in $(seq 60); do
	[ "$(odmr_held "$SP" home.example)" = 0 ] && break
	"$TERN" pull >> "$T/pulls.log" 2>&1
	sleep 0.5
done
[ "$(odmr_held "$SP" home.example)" = 0 ] || { tail -20 "$T/pulls.log"; tail -20 "$T/ternd.log"; fail "provider still holds $(odmr_held "$SP" home.example)"; }
"$TERN" flush > /dev/null 2>&1
for i in $(seq 100); do [ "$(qcount)" = 0 ] && break; "$TERN" flush > /dev/null 2>&1; sleep 0.2; done
[ "$(qcount)" = 0 ] || fail "$(qcount) still queued"
total=$(md)
uniq_n=$(cat "$T/Maildir/new/"* | grep -i '^Message-ID:' | sort -u | wc -l)
[ "$uniq_n" = "$N" ] || fail "$uniq_n distinct messages of $N in the mailbox"
dups=$((total - uniq_n))
[ "$dups" -le "$kills" ] || fail "$dups duplicates for $kills kills"
[ -z "$(ls "$T/Maildir/tmp")" ] || fail "half-written files in tmp/"
ok "kill -9 x$kills during a pull of $N: all $N in the mailbox, $dups duplicate(s), nothing half-written"
echo "figures: kills=$kills duplicates=$dups"
kill $tpid; wait $tpid; tpid=
echo "$checks checks passed"
