#!/bin/bash
# SPDX-License-Identifier: ISC
# ternd basics: runs on a config, one daemon per state (second exits 75),
# status sees it, SIGHUP with a bad file keeps the old one, SIGTERM exits 0.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
"$TERND" -c "$CONF" 2> "$T/ternd.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
for i in $(seq 50); do
	"$TERN" status --json 2>/dev/null | grep -q '"running"' && break
	sleep 0.1
done
"$TERN" status --json | grep -q '"daemon": *"running"' || fail "status does not see ternd"
ok "status sees the running daemon"
expect_rc 75 "second ternd on the same state" -- "$TERND" -c "$CONF"
expect_err "another ternd"
cp "$CONF" "$T/good"
echo "no_such_key 1" >> "$CONF"
kill -HUP $pid; sleep 0.5
kill -0 $pid || fail "ternd died on a bad config reload"
grep -q "keeping the old one" "$T/ternd.log" || fail "no log of the refused reload"
ok "SIGHUP with a bad file: logged, old configuration kept"
cp "$T/good" "$CONF"
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 0 ] || fail "ternd exit $rc on SIGTERM"
ok "SIGTERM: exit 0"
printf 'bad line here\n' > "$T/bad.conf"
expect_rc 78 "ternd with a bad config" -- "$TERND" -c "$T/bad.conf"
expect_err "$T/bad.conf:1"
echo "$checks checks passed"
