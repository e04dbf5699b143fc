#!/bin/bash
# SPDX-License-Identifier: ISC
# Resource exhaustion: the state directory's disk full (sendmail 75, the
# listener 452 4.3.1, nothing corrupt, both work again once space is
# freed); 200 clients at once on the listener (each 250 is in the queue,
# the daemon stays up); a 2 GB message on stdin (refused at
# max_message_size with exit 65, flat memory, stops reading early).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
export PEERS_PORT_BASE=${PEERS_PORT_BASE:-35000}
SP=$((PEERS_PORT_BASE + 602))	# ternd's submission listener
CLIENTS=${CLIENTS:-200}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
write_conf "submit 127.0.0.1:$SP"
tpid=

ternd_start() {
	"$TERND" -c "$CONF" 2>> "$T/ternd.log" &
	tpid=$!
	on_exit "kill -KILL $tpid 2>/dev/null"
	wait_port 127.0.0.1 "$SP" 10 || { cat "$T/ternd.log"; fail "ternd did not listen"; }
}
ternd_stop() {
	kill -TERM "$tpid"
	wait "$tpid" || fail "ternd exit $? on SIGTERM"
}

# submit TAG SIZE: one message on the listener; prints the final reply
submit() {
	timeout 30 python3 - "$SP" "$1" "$2" <<'PY'
import smtplib, sys
port, tag, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
msg = ("From: me@node.test\r\nMessage-ID: <%s@node.test>\r\nSubject: %s"
       "\r\n\r\n" % (tag, tag)).encode() + (b"z" * 98 + b"\r\n") * (size // 100)
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo()
s.mail("me@node.test")
s.rcpt("%s@x.test" % tag)
code, text = s.data(msg)
print(code, text.decode())
s.quit()
PY
}

inject() {	# TAG SIZE: sendmail
	python3 -c 'import sys
sys.stdout.write("From: me@node.test\nMessage-ID: <%s@node.test>\nSubject: %s\n\n" % (sys.argv[1], sys.argv[1]))
sys.stdout.write(("z" * 99 + "\n") * (int(sys.argv[2]) // 100))' "$1" "$2" |
	    "$TERN" sendmail "$1@x.test"
}

# --- disk full under the state directory -------------------------------------
mkdir -p "$T/state"
if ! mount -t tmpfs -o size=3m tmpfs "$T/state" 2> "$T/mount.err"; then
	echo "note: disk-full case skipped: cannot mount a tmpfs ($(cat "$T/mount.err"))"
else
	on_exit "umount -l '$T/state' 2>/dev/null"
	chmod 0700 "$T/state"
	ternd_start
	inject early1 2000 || fail "sendmail before the disk filled"
	[ "$(submit early2 2000 | cut -c1-3)" = 250 ] || fail "listener before the disk filled"
	dd if=/dev/zero of="$T/state/filler" bs=16k 2> /dev/null
	free=$(df -k --output=avail "$T/state" | tail -1)
	echo "   disk full: $(du -k "$T/state/filler" | cut -f1) KB filler, ${free// /} KB left"
	inject full1 100000 > "$T/out" 2> "$T/err"; rc=$?
	[ "$rc" = 75 ] || { cat "$T/err"; fail "sendmail on a full disk: exit $rc, want 75"; }
	echo "   sendmail: $(cat "$T/err")"
	grep -qi 'space\|full\|storage' "$T/err" || fail "sendmail's message does not say the disk is full"
	ok "sendmail on a full disk: exit 75, '$(head -1 "$T/err")'"
	r=$(submit full2 100000)
	echo "   listener: $r"
	case $r in "452 4.3.1"*) ;; *) fail "listener on a full disk: '$r', want 452 4.3.1";; esac
	ok "listener on a full disk: 452 4.3.1 at the end of DATA"
	pid_running "$tpid" || fail "ternd died on a full disk"
	[ "$(qcount)" = 2 ] || fail "queue holds $(qcount), not 2"
	for tag in early1 early2; do
		id=$(qjson | field "[m['id'] for m in d if m['recipients'][0]['to'] == '$tag@x.test'][0]")
		"$TERN" show --raw "$id" | grep -q "^Subject: $tag" || fail "$tag damaged"
	done
	ok "full disk: tern queue --json works, the earlier messages intact"
	rm -f "$T/state/filler"
	inject after1 100000 || fail "sendmail after freeing space"
	[ "$(submit after2 100000 | cut -c1-3)" = 250 ] || fail "listener after freeing space"
	[ "$(qcount)" = 4 ] || fail "queue holds $(qcount), not 4"
	ok "space freed: sendmail and the listener accept again (4 queued)"
	ternd_stop
	for id in $(qjson | field '" ".join(m["id"] for m in d)'); do
		"$TERN" delete "$id" || fail "delete"
	done
	umount "$T/state" || umount -l "$T/state"
fi

# --- 200 clients at once on the listener -------------------------------------
ternd_start
n0=$(qcount)
t0=$(date +%s%N)
timeout 300 python3 - "$SP" "$CLIENTS" > "$T/clients" <<'PY' || fail "client driver"
import smtplib, socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
res = [None] * n
go = threading.Barrier(n)

def client(i):
    try:
        go.wait()
        s = smtplib.SMTP("127.0.0.1", port, timeout=120)
        s.ehlo("c%d.test" % i)
        s.mail("me@node.test")
        s.rcpt("c%d@x.test" % i)
        code, text = s.data(("From: me@node.test\r\nMessage-ID: <c%d@node."
                             "test>\r\nSubject: c%d\r\n\r\n" % (i, i)).encode()
                            + b"hello\r\n" * 200)
        res[i] = str(code)
        try:
            s.quit()
        except Exception:
            pass
    except smtplib.SMTPResponseException as e:
        res[i] = "refused %d" % e.smtp_code
    except (OSError, smtplib.SMTPException) as e:
        res[i] = "error %s" % type(e).__name__

ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for i, r in enumerate(res):
    print(i, r)
PY
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
acc=$(awk '$2 == 250' "$T/clients" | wc -l)
echo "   $CLIENTS clients in ${ms} ms: $acc accepted; others: $(awk '$2 != 250 {$1=""; print}' "$T/clients" | sort | uniq -c | tr '\n' ';')"
awk '$2 != 250 && $2 != "refused" {bad=1} END {exit bad}' "$T/clients" ||
	fail "a client got neither 250 nor a clean SMTP refusal"
pid_running "$tpid" || fail "ternd died under $CLIENTS clients"
timeout 5 "$TERN" status > /dev/null || fail "ternd does not answer after the burst"
qjson | field '"\n".join(m["recipients"][0]["to"] for m in d)' | sort > "$T/queued"
for i in $(awk '$2 == 250 {print $1}' "$T/clients"); do
	grep -qx "c$i@x.test" "$T/queued" || fail "client $i got 250 but its message is not queued"
done
[ "$(qcount)" = $((n0 + acc)) ] || fail "queue holds $(qcount), want $((n0 + acc))"
[ "$acc" -ge 1 ] || fail "no client was served"
ok "$CLIENTS clients at once: $acc accepted (each queued), the rest refused cleanly, ternd up"
ternd_stop

# --- a 2 GB message on stdin --------------------------------------------------
# tern sendmail must refuse at max_message_size (50M) as it reads, not
# after swallowing 2 GB: the writer counts what was taken before EPIPE.
bins=$TERN
[ -x "$TERN_TOP/build/tern" ] && bins="$TERN_TOP/build/tern $TERN"
for bin in $bins; do
	t0=$(date +%s%N)
	python3 -c 'import os, sys
line, n, total = b"a" * 99 + b"\n", 0, 2 << 30
block = line * 10000
try:
    os.write(1, b"From: me@node.test\nSubject: huge\n\n")
    while n < total:
        n += os.write(1, block)
except BrokenPipeError:
    pass
open(sys.argv[1], "w").write(str(n))' "$T/written" |
	    /usr/bin/time -f %M -o "$T/rss" "$bin" sendmail x@y.test \
	    > "$T/out" 2> "$T/err"
	rc=${PIPESTATUS[1]}
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	rss=$(tail -1 "$T/rss")
	written=$(cat "$T/written")
	echo "   $bin: exit $rc in ${ms} ms, peak RSS $((rss / 1024)) MB, $((written >> 20)) MB read of 2048: $(head -1 "$T/err")"
	[ "$rc" = 65 ] || { cat "$T/err"; fail "2 GB message: exit $rc, want 65"; }
	grep -qi 'size\|large\|big' "$T/err" || fail "2 GB message: unclear message"
	[ "$rss" -lt 204800 ] || fail "2 GB message: peak RSS $rss KB"
	[ "$written" -lt $((200 << 20)) ] || fail "2 GB message: $written bytes read"
	ok "2 GB message ($(basename "$(dirname "$bin")")/tern): exit 65 after $((written >> 20)) MB, peak RSS $((rss / 1024)) MB, ${ms} ms"
done
[ "$(qcount)" = $((n0 + acc)) ] || fail "the refused message left something in the queue"
echo "$checks checks passed"
