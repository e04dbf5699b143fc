#!/bin/bash
# SPDX-License-Identifier: ISC
# Crash-consistency soak: ROUNDS (10) rounds of injecting (sendmail and
# the listener) while ternd delivers to the Postfix smarthost and `tern
# flush` runs beside it, with SIGKILL for ternd, its delivery child and
# the tern processes at random moments, then a restart. At the end every
# accepted message (sendmail exit 0, listener 250) is delivered (counted
# at the smarthost by Message-ID) or still queued and readable; nothing
# in the queue is corrupt; duplicates are counted (only a kill between
# the smarthost's 250 and tern's commit may make one).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-36000}
on_exit peers_stop_all
on_exit 'peers_logs 10 >&2'
peers_init && peers_ca && dovecot_start && postfix_smarthost_start ||
	fail "peers did not start"
ROUNDS=${ROUNDS:-10}
PER_ROUND=${PER_ROUND:-40}	# at most, by sendmail and by the listener
SEED=${SEED:-$$}
RANDOM=$SEED
SP=$((PEERS_PORT_BASE + 602))
write_conf "submit 127.0.0.1:$SP" "[smarthost]" "host 127.0.0.1" \
	"port $PEERS_SMTP_PORT" "tls none" "[retry]" "schedule 1s"
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
mkdir -p "$T/pids"
: > "$T/accepted"
tpid=
kills=0 started=$(date +%s)

# sendmail_one TAG: one message by sendmail; TAG accepted iff exit 0.
sendmail_one() {
	{
		printf 'From: me@node.test\nTo: %s@mx.test\n' "$1"
		printf 'Message-ID: <%s@node.test>\nSubject: %s\n\n' "$1" "$1"
		printf 'soak %s\n' "$1"
		head -c 30000 /dev/zero | tr '\0' y | fold -w 75
	} > "$T/in.$1"
	"$TERN" sendmail "$1@mx.test" < "$T/in.$1" 2>/dev/null &
	local p=$!
	echo "$p" > "$T/pids/$p"
	wait "$p" 2>/dev/null && echo "$1" >> "$T/accepted"
	rm -f "$T/pids/$p" "$T/in.$1"
}

# listener_burst ROUND N: up to N messages on the listener, one per
# connection, until $T/stop; each 250 is written to accepted at once.
listener_burst() {
	timeout 30 python3 - "$SP" "$1" "$2" "$T/accepted" <<'PY' 2>/dev/null
import smtplib, sys
import os
port, r, n, acc = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
stop = os.path.join(os.path.dirname(acc), "stop")
for i in range(n):
    if os.path.exists(stop):
        break
    tag = "l%sx%d" % (r, i)
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        s.sendmail("me@node.test", ["%s@mx.test" % tag],
                   ("From: me@node.test\r\nMessage-ID: <%s@node.test>\r\n"
                    "Subject: %s\r\n\r\nsoak %s\r\n" % (tag, tag, tag)).encode()
                   + (b"y" * 75 + b"\r\n") * 400)
        with open(acc, "a") as f:
            f.write(tag + "\n")
        s.quit()
    except (OSError, smtplib.SMTPException):
        pass
PY
}

ternd_start() {
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	tpid=$!
	on_exit "kill -KILL $tpid 2>/dev/null"
	wait_port 127.0.0.1 "$SP" 10 || { tail "$T/ternd.log"; fail "ternd did not start"; }
}

# kill_some: SIGKILL ternd, maybe its delivery child, some tern processes.
kill_some() {
	local c p
	if [ $((RANDOM % 2)) = 0 ]; then
		for c in $(cat /proc/"$tpid"/task/*/children 2>/dev/null); do
			kill -KILL "$c" 2>/dev/null && kills=$((kills + 1))
		done
	fi
	kill -KILL "$tpid" 2>/dev/null && kills=$((kills + 1))
	for p in "$T"/pids/*; do
		[ -f "$p" ] && [ $((RANDOM % 3)) = 0 ] || continue
		kill -KILL "${p##*/}" 2>/dev/null && kills=$((kills + 1))
	done
	wait "$tpid" 2>/dev/null
}

# Each round injects and delivers until a random moment (0.3 to 2.2 s),
# when ternd (and, every other round, its delivery child) and some of the
# tern processes get SIGKILL; the rest get it a moment later.
for r in $(seq "$ROUNDS"); do
	rm -f "$T/stop"
	ternd_start
	"$TERN" queue --json > /dev/null || fail "round $r: queue unreadable after the kills"
	listener_burst "$r" "$PER_ROUND" &
	lb=$!
	( i=0
	  while [ ! -e "$T/stop" ] && [ "$i" -lt "$PER_ROUND" ]; do
		i=$((i + 1))
		sendmail_one "s${r}x$i"
	  done ) &
	sm=$!
	( while [ ! -e "$T/stop" ]; do
		"$TERN" flush > /dev/null 2>&1 &
		echo $! > "$T/pids/$!"
		wait $! 2>/dev/null
		rm -f "$T/pids/$!"
		sleep 0.$((RANDOM % 5))
	done ) &
	fl=$!
	sleep "$((RANDOM % 2)).$((RANDOM % 10 + 3))"
	kill_some
	sleep 0.$((RANDOM % 3))
	touch "$T/stop"
	for p in "$T"/pids/*; do
		[ -f "$p" ] && kill -KILL "${p##*/}" 2>/dev/null && kills=$((kills + 1))
	done
	wait "$lb" "$sm" "$fl"
	rm -f "$T"/pids/*
	echo "   round $r: $(wc -l < "$T/accepted") accepted so far, $(qcount) queued, $(smarthost_count) delivered, $kills kills"
done
ok "$ROUNDS rounds survived, $kills processes killed with SIGKILL (seed $SEED)"

# --- settle: deliver what is left, then account for every message --------------
for i in 1 2 3 4 5; do
	[ "$(qcount)" = 0 ] && break
	"$TERN" flush > /dev/null 2>&1
done
sleep 1
python3 - "$T/accepted" "$PEERS_SMARTHOST_MAIL" > "$T/copies" <<'PY'
import os, re, sys
acc = [l.strip() for l in open(sys.argv[1]) if l.strip()]
seen = {}
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[2], sub)
    for f in os.listdir(d):
        m = re.search(rb"^Message-ID: <([^@>]+)@node\.test>",
                      open(os.path.join(d, f), "rb").read(), re.M)
        if m:
            k = m.group(1).decode()
            seen[k] = seen.get(k, 0) + 1
for k in acc:
    print(k, seen.get(k, 0))
for k in seen:
    if k not in acc:
        print(k, seen[k], "unacknowledged")
PY
qjson | field '"\n".join(m["id"] + " " + m["recipients"][0]["to"].split("@")[0] for m in d)' > "$T/queued"
lost=0 dup=0 corrupt=0 delivered=0 queued=0
# why_dup TAG N: how the smarthost's session that took the first copy
# ended. "lost connection after END-OF-MESSAGE" (or a disconnect without
# quit right after the data) means tern died after the 250, before its
# next command, i.e. before or during its commit.
why_dup() {
	python3 - "$PEERS_DIR/postfix/maillog" "$1" "$2" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
qid = next(re.search(r"cleanup\[\d+\]: (\w+): message-id=", l).group(1)
           for l in lines if "message-id=<%s@node.test>" % sys.argv[2] in l)
i, pid = next((i, re.search(r"smtpd\[(\d+)\]", l).group(1))
              for i, l in enumerate(lines) if "%s: client=" % qid in l)
end = next((l for l in lines[i + 1:] if "smtpd[%s]" % pid in l and
            ("lost connection" in l or "disconnect from" in l or
             ": client=" in l)), "?")
print("   duplicate: %s x%s; first copy's session then: %s" %
      (sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "2",
       end.split(": ", 1)[-1]))
PY
}
while read -r id tag; do
	[ -n "$id" ] || continue
	"$TERN" show --raw "$id" > "$T/raw" 2>/dev/null &&
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m["Message-ID"] == "<%s@node.test>" % sys.argv[2], m["Message-ID"]
assert ("soak " + sys.argv[2]) in m.get_payload()' "$T/raw" "$tag" ||
	{ corrupt=$((corrupt + 1)); echo "   corrupt: $id ($tag)"; }
done < "$T/queued"
while read -r tag n extra; do
	if [ -n "$extra" ]; then
		[ "$n" -gt 1 ] && dup=$((dup + n - 1))
		continue
	fi
	if [ "$n" -ge 1 ]; then
		delivered=$((delivered + 1))
		[ "$n" -gt 1 ] && { dup=$((dup + n - 1)); why_dup "$tag" "$n"; }
	elif grep -q " $tag\$" "$T/queued"; then
		queued=$((queued + 1))
	else
		lost=$((lost + 1)); echo "   LOST: $tag"
	fi
done < "$T/copies"
unack=$(grep -c unacknowledged "$T/copies")
echo "figures: $ROUNDS rounds in $(( $(date +%s) - started )) s, $kills SIGKILLs, $(wc -l < "$T/accepted") accepted: $delivered delivered, $queued still queued, $lost lost, $dup duplicate(s), $corrupt corrupt; $unack delivered without an acknowledgement (killed before it)"
[ "$lost" = 0 ] || fail "$lost accepted message(s) lost"
[ "$corrupt" = 0 ] || fail "$corrupt queued message(s) unreadable"
ok "every accepted message delivered or queued, none corrupt; $dup duplicate(s)"
echo "$checks checks passed"
