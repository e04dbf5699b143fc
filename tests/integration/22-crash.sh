#!/bin/bash
# SPDX-License-Identifier: ISC
# Crash safety: rounds of concurrent sendmails killed with SIGKILL at random
# moments. Every process that exited 0 has its message; no message is half
# present (each carries its own length and checksum); the queue always opens.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
ROUNDS=${ROUNDS:-15}
PER=${PER:-12}
mkdir -p "$T/acc"
python3 - "$T" "$ROUNDS" "$PER" <<'PY'
import hashlib, os, random, sys
t, rounds, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
for r in range(rounds):
    for k in range(per):
        tag = "r%dk%d" % (r, k)
        body = "".join("%s line %d %s\n" % (tag, j, "x" * rnd.randint(0, 300))
                       for j in range(rnd.randint(10, 8000)))
        h = hashlib.sha256(body.replace("\n", "\r\n").encode()).hexdigest()
        msg = "Subject: %s\nX-Check: %s %d\n\n%s" % (tag, h,
               len(body.replace("\n", "\r\n")), body)
        open("%s/%s.in" % (t, tag), "w").write(msg)
PY
killed=0
for r in $(seq 0 $((ROUNDS - 1))); do
	pids=()
	for k in $(seq 0 $((PER - 1))); do
		tag="r${r}k$k"
		( "$TERN" sendmail -i "$tag@x.test" < "$T/$tag.in" && touch "$T/acc/$tag" ) &
		pids+=($!)
	done
	sleep "0.0$((RANDOM % 9 + 1))"
	# SIGKILL the sendmails themselves (children of the subshells)
	for p in $(pgrep -f "$TERN sendmail" || true); do
		kill -9 "$p" 2>/dev/null && killed=$((killed + 1))
	done
	wait
	"$TERN" queue --json > /dev/null || fail "queue does not open after round $r"
done
ok "$ROUNDS rounds, $killed sendmail processes killed with SIGKILL"

"$TERN" queue --json > "$T/q.json"
python3 - "$T" <<'PY' > "$T/ids" || fail "listing"
import json, sys
for m in json.load(open(sys.argv[1] + "/q.json")):
    print(m["id"], m["recipients"][0]["to"].split("@")[0], m["size"])
PY
present=0
while read -r id tag size; do
	"$TERN" show --raw "$id" > "$T/got" || fail "show $id"
	python3 - "$T/got" "$size" <<'PY' || fail "message $tag ($id) is damaged"
import hashlib, sys, re
b = open(sys.argv[1], "rb").read()
assert len(b) == int(sys.argv[2]), "size mismatch"
h, n = re.search(rb"\r\nX-Check: ([0-9a-f]+) (\d+)\r\n", b).groups()
body = b.split(b"\r\n\r\n", 1)[1]
assert len(body) == int(n) and hashlib.sha256(body).hexdigest().encode() == h
PY
	present=$((present + 1))
	echo "$tag" >> "$T/present"
done < "$T/ids"
acc=$(ls "$T/acc" | wc -l)
for a in $(ls "$T/acc"); do
	grep -qx "$a" "$T/present" || fail "accepted message $a is lost"
done
ok "all $acc acknowledged messages present; $present present, none damaged; $((ROUNDS * PER - present)) never acknowledged"
echo "$checks checks passed"
