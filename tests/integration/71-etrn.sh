#!/bin/bash
# SPDX-License-Identifier: ISC
# ETRN (RFC 1985) against a real provider, a private Postfix
# (tests/lib/provider.sh) that relays home.example to ternd's inbound
# listener and never retries on its own during the test. Mail injected
# while ternd is down sits deferred at the provider; `tern pull` (through
# the daemon's control socket) sends "ETRN home.example", shows Postfix's
# "250 Queuing started", and all of it arrives in the maildir,
# byte-identical from the sender's first header on. A domain outside the
# provider's fast_flush_domains gets 459: shown, exit 69, recorded as
# last_pull. Under 30 s.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
. "$TERN_TOP/tests/lib/provider.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-31000}
N=20
t0=$(date +%s%N)
on_exit '[ -n "${tpid:-}" ] && kill $tpid 2>/dev/null'
on_exit provider_stop
on_exit peers_stop_all
peers_init || fail "peers_init"
LP=$((PEERS_PORT_BASE + 826))	# ternd's listener, the provider's target

# die MESSAGE: fail with the logs that explain it.
die() {
	provider_logs 20 >&2
	[ -s "$T/ternd.log" ] && { echo "==== ternd.log"; tail -n 30 "$T/ternd.log"; } >&2
	fail "$@"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
maildir_count() { find "$T/Maildir/new" "$T/Maildir/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
start_ternd() {	# domains to ask the provider for
	write_conf "submit off" "[inbound]" "method etrn" "host 127.0.0.1" \
	    "port $PROVIDER_SMTP_PORT" "tls none" "domains $1" \
	    "listen 127.0.0.1:$LP" "[deliver]" "maildir $T/Maildir" \
	    "[retry]" "schedule 1s"
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	tpid=$!
	wait_port 127.0.0.1 "$LP" 10 || die "ternd's listener did not come up"
}
stop_ternd() { kill $tpid; wait $tpid 2>/dev/null; tpid=; }
status() {	# KEY [FIELD]: prints a value from tern status --json
	"$TERN" status --json | python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
if len(sys.argv) > 2:
    v = (v or {}).get(sys.argv[2])
print("" if v is None else v)' "$@"
}
last_pull() { status last_pull "$1"; }

# 1. The provider holds mail it could not deliver: ternd is not running,
# so the relay to 127.0.0.1:$LP is refused and all N are deferred.
provider_start "$LP" || die "the provider (Postfix) did not start"
provider_inject $N || die "injecting into the provider"
provider_wait_count $N deferred 15 ||
	die "$(provider_queue_count) of $N deferred at the provider"
ok "$N messages deferred at the provider (connection refused)"

# 2. ternd up: the provider does not retry by itself (an hour), ternd
# does not pull by itself at start, so nothing arrives yet.
start_ternd home.example
if [ "$(status link)" = down ]; then
	# No default route here: local delivery waits for the link, and
	# `tern up` pulls too (so this run proves less about `tern pull`).
	echo "note: link down; tern up"
	"$TERN" up > /dev/null
fi
sleep 0.5
[ "$(maildir_count)" = 0 ] || die "mail arrived before tern pull"
[ "$(provider_queue_count)" = $N ] || die "the provider retried by itself"
ok "ternd listening, nothing arrived before the pull"

# 3. tern pull: ETRN home.example, Postfix's reply shown, exit 0.
tp=$(date +%s%N)
"$TERN" pull > "$T/pull" 2>&1
rc=$?
cat "$T/pull"
[ $rc = 0 ] || die "tern pull: exit $rc, want 0"
grep -qF "250 Queuing started" "$T/pull" || die "tern pull does not show the provider's 250"
ok "tern pull: ETRN home.example answered '250 Queuing started' (exit 0)"

for i in $(seq 200); do [ "$(maildir_count)" -ge $N ] && break; sleep 0.05; done
[ "$(maildir_count)" = $N ] || die "$(maildir_count) of $N in the maildir"
ok "all $N delivered to the maildir $(ms "$tp") ms after tern pull"

python3 - "$T/Maildir" "$PROVIDER_INJECTED" $N <<'PY' || die "maildir copies differ"
import os, re, sys
md, inj, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = set()
for sub in ("new", "cur"):
    d = os.path.join(md, sub)
    for f in os.listdir(d) if os.path.isdir(d) else []:
        got = open(os.path.join(d, f), "rb").read()
        assert b"\r" not in got, (f, "CR in a maildir file")
        assert got.startswith(b"Return-Path: <far@remote.test>\n"
                              b"Delivered-To: user@home.example\n"), got[:200]
        k = int(re.search(rb"\nMessage-ID: <etrn-(\d+)@", got).group(1))
        assert k not in seen, ("twice", k)
        seen.add(k)
        want = open(os.path.join(inj, "%d.eml" % k), "rb").read()
        i = got.index(b"\nFrom: far@remote.test\n") + 1
        assert got[i:] == want, (k, got[i:i + 300], want[:300])
assert seen == set(range(1, n + 1)), sorted(seen)
PY
ok "each message byte-identical from its first header on (8-bit, leading dots)"

for i in $(seq 100); do [ "$(qcount)" = 0 ] && break; sleep 0.05; done
[ "$(qcount)" = 0 ] || die "tern's queue not empty after local delivery"
[ "$(provider_queue_count)" = 0 ] || die "still deferred at the provider"
[ "$(grep -c 'status=sent' "$PROVIDER_DIR/maillog")" = $N ] ||
	die "the provider's log does not show $N sent"
ok "provider queue and tern's queue both empty"

[ "$(last_pull method)" = etrn ] && [ "$(last_pull result)" = ok ] &&
    last_pull reply | grep -q '^250' && [ -n "$(last_pull at)" ] ||
	die "last_pull after the 250: $("$TERN" status --json)"
ok "status: last_pull etrn/ok with the 250"

# 4. A domain outside fast_flush_domains: 459, shown, exit 69.
stop_ternd
start_ternd other.example
"$TERN" pull > "$T/pull" 2>&1
rc=$?
cat "$T/pull"
[ $rc = 69 ] || die "tern pull for other.example: exit $rc, want 69"
grep -q "459" "$T/pull" || die "tern pull does not show the 459"
ok "ETRN other.example: 459 shown, exit 69"
[ "$(last_pull method)" = etrn ] && [ "$(last_pull result)" = failed ] &&
    last_pull reply | grep -q '^459' && [ "$(last_pull received)" = 0 ] ||
	die "last_pull after the 459: $("$TERN" status --json)"
ok "status: last_pull etrn/failed with the 459"
stop_ternd

el=$(ms "$t0")
[ "$el" -lt 30000 ] || fail "took $el ms, want < 30 s"
ok "whole test in $el ms"
echo "$checks checks passed"
