#!/bin/bash
# SPDX-License-Identifier: ISC
# 200 concurrent `tern sendmail` processes, mixed sizes up to 10 MB, 8-bit
# bodies, lines starting with '.', CRLF and LF input: all exit 0, the queue
# lists exactly those 200 with the right envelopes, and every message reads
# back byte for byte.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
N=${N:-200}
mkdir -p "$T/in"
python3 - "$T/in" "$N" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
sizes = [rnd.choice([300, 4096, 65536, 1 << 20]) for _ in range(n)]
sizes[0] = sizes[1] = (10 << 20) - 4096  # two near 10 MB
for i in range(n):
    hdr = ("From: Sender %d <s%d@node.test>\nTo: r%d@x.test\n"
           "Date: Fri, 04 Dec 2026 10:00:00 +0000\n"
           "Message-ID: <m%d@node.test>\nSubject: msg %d\n\n" % (i, i, i, i, i))
    lines, size = [], len(hdr)
    j = 0
    while size < sizes[i]:
        kind = j % 5
        if kind == 0:
            l = ".dot line %d" % j
        elif kind == 1:
            l = "8-bit: \u00e9t\u00e9 \u65e5\u672c %d" % j
        elif kind == 2:
            l = "."  if j % 10 == 2 else ".."
        else:
            l = "".join(rnd.choice("abcdefghij ") for _ in range(rnd.randint(0, 200)))
        lines.append(l)
        size += len(l.encode()) + 1
        j += 1
    text = (hdr + "\n".join(lines) + "\n").encode()
    crlf = text.replace(b"\n", b"\r\n")
    open(os.path.join(d, "%d.expect" % i), "wb").write(crlf)
    open(os.path.join(d, "%d.in" % i), "wb").write(crlf if i % 2 else text)
PY
ok "generated $N messages"

start=$(date +%s.%N)
for i in $(seq 0 $((N - 1))); do
	( "$TERN" sendmail -i -f "s$i@node.test" "r$i@x.test" < "$T/in/$i.in"
	  echo $? > "$T/in/$i.rc" ) &
done
wait
end=$(date +%s.%N)
bad=0
for i in $(seq 0 $((N - 1))); do
	[ "$(cat "$T/in/$i.rc")" = 0 ] || { echo "sendmail $i exit $(cat "$T/in/$i.rc")"; bad=1; }
done
[ $bad = 0 ] || fail "some sendmail failed"
ok "$N concurrent sendmails exited 0 in $(python3 -c "print(round($end-$start,1))")s"

"$TERN" queue --json > "$T/q.json"
python3 - "$T/q.json" "$N" <<'PY' || fail "queue listing"
import json, sys
q = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert len(q) == n, len(q)
seen = set()
for m in q:
    i = int(m["from"][1:].split("@")[0])
    assert m["recipients"] == [{"to": "r%d@x.test" % i, "state": "pending",
                                "attempts": 0, "last_reply": None}], m
    seen.add(i)
assert seen == set(range(n))
ids = [m["id"] for m in q]
assert ids == sorted(ids) and len(set(ids)) == n
PY
ok "queue --json lists exactly the $N with the right envelopes"

"$TERN" queue --json | python3 -c '
import json,sys
for m in json.load(sys.stdin): print(m["id"], m["from"][1:].split("@")[0], m["size"])' |
while read -r id i size; do
	"$TERN" show --raw "$id" | tail -n +2 > "$T/got"
	cmp -s "$T/got" "$T/in/$i.expect" || { echo "message $i ($id) differs"; exit 1; }
done || fail "a body did not read back byte for byte"
ok "every body reads back byte for byte"
echo "$checks checks passed"
