#!/bin/bash
# SPDX-License-Identifier: ISC
# valgrind (memcheck) over the main paths with the unsanitized binaries:
# sendmail, queue listing, a flush to smtp-sink, a listener session (the
# daemon under valgrind), show, delete. No invalid access, no leak.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
command -v valgrind > /dev/null || fail "valgrind is not installed"
[ -n "${TERN_PLAIN:-}" ] || { echo "note: no unsanitized build (make all); skipped"; exit 0; }
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect"
P=${PORT:-37025}
SINK=$((P + 1))
vg() { $VG --log-file="$T/vg.%p.log" "$@"; }
check_logs() {
	if grep -l "ERROR SUMMARY: [1-9]\|definitely lost: [1-9]\|Invalid" "$T"/vg.*.log 2>/dev/null; then
		cat "$T"/vg.*.log; fail "valgrind found errors ($1)"
	fi
}
smtp-sink -u root 127.0.0.1:$SINK 10 > /dev/null 2>&1 &
on_exit "kill $! 2>/dev/null"
write_conf "submit 127.0.0.1:$P" "[smarthost]" "host 127.0.0.1" "port $SINK" "tls none"

printf 'Subject: vg\n\n.dot\n\xc3\xa9\n' > "$T/m"
vg "$TERN_PLAIN" sendmail -i -t -f me@node.test a@x.test < <(printf 'To: b@x.test\nBcc: c@x.test\n'; cat "$T/m") ||
	fail "sendmail under valgrind"
vg "$TERN_PLAIN" queue --json > /dev/null || fail "queue"
vg "$TERN_PLAIN" status --json > /dev/null || fail "status"
id=$("$TERN_PLAIN" queue --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
vg "$TERN_PLAIN" show "$id" > /dev/null || fail "show"
vg "$TERN_PLAIN" hold "$id" && vg "$TERN_PLAIN" release "$id" || fail "hold/release"
check_logs "CLI"
ok "sendmail -t, queue, status, show, hold, release: clean"

vg "$TERN_PLAIN" flush > "$T/flush.out" || fail "flush under valgrind"
grep -q "status=sent" "$T/flush.out" || fail "flush did not deliver"
check_logs "flush"
ok "flush to smtp-sink: clean"

$VG --log-file="$T/vg.%p.log" "$TERND_PLAIN" -c "$CONF" 2> "$T/ternd.log" &
tpid=$!
on_exit "kill $tpid 2>/dev/null"
for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.1; done
swaks --server 127.0.0.1:$P --from me@node.test --to d@x.test --pipeline \
	--body "hello" > "$T/sw" 2>&1 || { cat "$T/sw"; fail "swaks to ternd under valgrind"; }
printf 'Subject: nudge\n\nhi\n' | "$TERN_PLAIN" sendmail e@x.test
sleep 3
kill -TERM $tpid; wait $tpid; rc=$?
[ $rc = 0 ] || { cat "$T"/vg.*.log; fail "ternd under valgrind exited $rc"; }
check_logs "ternd"
ok "ternd: a listener session, a delivery child, SIGTERM: clean"
echo "$checks checks passed"
