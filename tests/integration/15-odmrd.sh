#!/bin/bash
# SPDX-License-Identifier: ISC
# Proves the suite's ODMR provider (tests/lib/odmrd.py, RFC 2645) against
# the reference ODMR customer in Debian, fetchmail, relaying into
# tests/lib/smtpsink.py: held mail (dot lines, 8-bit text, long lines)
# arrives byte-identical with its envelope and leaves the spool; a second
# pull gets 453; a wrong password gets 535 and nothing moves; a foreign
# domain gets 450 and --busy 451; a connection cut mid-body loses nothing
# and duplicates nothing (--drop-mid-message, --stop-after); implicit TLS
# with a verified certificate (and a refused one); a bulk pull in one
# session ($ODMR_BULK messages, default 2000 to stay well under 30 s: 10000
# take about 10 s more through fetchmail). Then a scripted customer covers
# what fetchmail never does: STARTTLS, AUTH PLAIN/LOGIN, 530/502/538/535,
# PIPELINING, per-recipient 550/450 and 554 after the dot.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/odmr.sh"
on_exit odmr_stop_all
on_exit '[ -n "${passed:-}${KEEPLOG:-}" ] || for f in "$T"/*.log; do
	[ -f "$f" ] && { echo "== $f"; tail -n 8 "$f"; } >&2; done'

command -v fetchmail >/dev/null || fail "fetchmail not installed"
command -v certtool >/dev/null || fail "certtool (gnutls-bin) not installed"
B=${ODMR_PORT_BASE:-26000}
P_PLAIN=$((B + 10)) P_TLS=$((B + 11)) P_SINK=$((B + 12))
P_FAULT=$((B + 13)) P_BUSY=$((B + 14)) P_BULK=$((B + 15))
BULK=${ODMR_BULK:-2000}	# 10000 takes ~10 s more through fetchmail
SPOOL=$T/spool SINK=$T/sink IN=$T/in
sh "$TERN_TOP/tests/lib/mkca.sh" "$T/ca" || fail "mkca.sh"
echo 'me:secret:home.example,other.example' > "$T/users"
mkdir -p "$IN"
# The bulk spool fills in the background (30 000 file operations) while
# the other cases run.
odmr_fill "$T/bulkspool" "$BULK" x@home.example > "$T/fill.log" 2>&1 &
fillpid=$!

# hold FIRST COUNT: held messages FIRST..FIRST+COUNT-1 for two home.example
# recipients; a copy of each is kept in $IN to compare with. Message 0 also
# goes to other.example, which is never pulled here: it must stay held.
hold() {
	python3 - "$ODMR_LIB" "$SPOOL" "$IN" "$1" "$2" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import odmrd
spool, ind = sys.argv[2], sys.argv[3]
first, n = int(sys.argv[4]), int(sys.argv[5])
sp = odmrd.Spool(spool)
for i in range(first, first + n):
    lines = [b"From: <s@provider.test>", b"To: <a@home.example>",
             b"Message-ID: <m%d@provider.test>" % i,
             b"Subject: held %d" % i, b""]
    for j in range(i % 13 + 3):
        lines += [b".", b"..two dots", b".leading dot %d" % j,
                  ("8-bit: \u00e9t\u00e9 \u00fcber %d" % j).encode(),
                  b"latin-1 \xe9\xe8 raw", b" ", b"x" * (j * 70)]
    body = b"\r\n".join(lines) + b"\r\n"
    to = ["a@home.example", "B.Two@home.example"]
    if i == 0:
        to.append("c@other.example")
    sp.add("s%d@provider.test" % i, to, body)
    open("%s/%d.eml" % (ind, i), "wb").write(body)
    json.dump({"from": "s%d@provider.test" % i, "to": to[:2]},
              open("%s/%d.json" % (ind, i), "w"))
PY
}

# same: every message in $IN reached the sink exactly once, byte for byte,
# with its envelope; nothing else did (bulk messages aside).
same() {
	python3 - "$IN" "$SINK" <<'PY'
import json, os, re, sys
ind, sink = sys.argv[1], sys.argv[2]
def mid(b):
    m = re.search(rb"^Message-ID: (<[^>]*>)", b, re.M)
    return m.group(1) if m else None
want = {}
for f in os.listdir(ind):
    if f.endswith(".eml"):
        b = open(os.path.join(ind, f), "rb").read()
        want[mid(b)] = (b, json.load(open(os.path.join(ind, f[:-4] + ".json"))))
got, bad = {}, 0
for f in os.listdir(sink):
    if not f.endswith(".eml"):
        continue
    b = open(os.path.join(sink, f), "rb").read()
    m = mid(b)
    if m is not None and m.startswith(b"<held"):
        continue                                # odmrd.py --fill
    env = json.load(open(os.path.join(sink, f[:-4] + ".env")))
    env.pop("helo", None)
    if m in got:
        print("duplicate", m); bad += 1
    elif m not in want:
        print("unexpected", m); bad += 1
    elif (b, env) != want[m]:
        print("differs", m, env, want[m][1]); bad += 1
    got[m] = 1
missing = set(want) - set(got)
if missing:
    print("missing", sorted(missing)[:5]); bad += 1
print("%d compared" % len(got))
sys.exit(1 if bad else 0)
PY
}

# fm PORT PASSWORD DOMAINS [rc lines]: one fetchmail ODMR poll (-d0: no
# daemon); output in $T/fm.out, exit status in $fmrc.
fm() {
	local port=$1 pw=$2 doms=$3
	shift 3
	{
		echo "poll 127.0.0.1 with protocol ODMR service $port:"
		echo "    user \"me\" there with password \"$pw\" is \"*\" here"
		echo "    fetchdomains $doms"
		echo "    smtphost \"127.0.0.1/$P_SINK\""
		printf '    %s\n' "$@"
	} > "$T/fetchmailrc"
	chmod 600 "$T/fetchmailrc"
	fmrc=0
	timeout 25 fetchmail -f "$T/fetchmailrc" -N -d0 -v \
	    > "$T/fm.out" 2>&1 || fmrc=$?
}
fm_says() {
	grep -qF -- "$1" "$T/fm.out" || { cat "$T/fm.out" >&2
		fail "fetchmail output lacks '$1'"; }
}
expect() {	# what got want
	[ "$2" = "$3" ] || { tail -n 30 "$T/fm.out" >&2
		fail "$1: $2, want $3"; }
	ok "$1 ($2)"
}

smtpsink_start sink "$P_SINK" "$SINK" || fail "sink did not start"
odmrd_start plain "$P_PLAIN" --users "$T/users" --spool "$SPOOL" \
    --stats "$T/plain.json" || fail "odmrd did not start"

# --- plaintext: N held messages, CRAM-MD5, ATRN, reversal, QUIT ----------
N=40
hold 0 "$N"
expect "held before the pull" "$(odmr_held "$SPOOL" home.example)" "$N"
fm "$P_PLAIN" secret home.example
expect "fetchmail exit status" "$fmrc" 0
fm_says "ODMR> AUTH CRAM-MD5"
fm_says "Turnaround now"
expect "sink received" "$(sink_count "$SINK")" "$N"
same || fail "sink copies differ from the held messages"
ok "all $N byte-identical with their envelopes, exactly once"
expect "home.example held after" "$(odmr_held "$SPOOL" home.example)" 0
expect "other.example still held" "$(odmr_held "$SPOOL" other.example)" 1
odmr_stop plain			# writes the stats at exit
{ read -r st_all; read -r st_home; } < <(odmr_stat "$T/plain.json" \
    delivered per_domain/home.example/delivered)
expect "stats: delivered" "$st_all" "$N"
expect "stats: home.example" "$st_home" "$N"
odmrd_start plain "$P_PLAIN" --users "$T/users" --spool "$SPOOL" \
    --stats "$T/plain.json" || fail "odmrd did not restart"

# --- a second pull: 453, nothing sent -----------------------------------
fm "$P_PLAIN" secret home.example
fm_says "You have no mail"
expect "sink after the second pull" "$(sink_count "$SINK")" "$N"

# --- wrong password: 535, nothing moves ---------------------------------
hold "$N" 1
fm "$P_PLAIN" wrong home.example
[ "$fmrc" != 0 ] || fail "fetchmail succeeded with a wrong password"
fm_says "535 5.7.8"
expect "sink after a wrong password" "$(sink_count "$SINK")" "$N"
expect "still held" "$(odmr_held "$SPOOL" home.example)" 1

# --- a domain that is not the user's: 450 for the whole list ------------
fm "$P_PLAIN" secret home.example,stranger.example
fm_says "ATRN request refused"
expect "sink after 450" "$(sink_count "$SINK")" "$N"
expect "still held after 450" "$(odmr_held "$SPOOL" home.example)" 1
odmr_stop plain
{ read -r st_453; read -r st_450; read -r st_535; } < <(odmr_stat \
    "$T/plain.json" atrn/453 atrn/450 auth_failed)
expect "stats: ATRN 453" "$st_453" 1
expect "stats: ATRN 450" "$st_450" 1
expect "stats: AUTH failed" "$st_535" 1

# --- busy: 451 ----------------------------------------------------------
odmrd_start busy "$P_BUSY" --users "$T/users" --spool "$SPOOL" --busy ||
	fail "odmrd --busy did not start"
fm "$P_BUSY" secret home.example
fm_says "Unable to process ATRN request now"
expect "still held after 451" "$(odmr_held "$SPOOL" home.example)" 1
odmr_stop busy

# --- cut mid-body, then a short session: nothing lost or doubled ---------
hold $((N + 1)) 4		# 5 held now
odmrd_start fault "$P_FAULT" --users "$T/users" --spool "$SPOOL" \
    --drop-mid-message 2 --stop-after 3 --stats "$T/fault.json" ||
	fail "odmrd (faults) did not start"
fm "$P_FAULT" secret home.example
expect "sink after the cut" "$(sink_count "$SINK")" $((N + 1))
expect "held after the cut" "$(odmr_held "$SPOOL" home.example)" 4
grep -q "EOF inside DATA" "$T/sink.log" || fail "the sink saw no cut DATA"
ok "the sink dropped the cut transaction"
fm "$P_FAULT" secret home.example
expect "held after --stop-after 3" "$(odmr_held "$SPOOL" home.example)" 1
fm "$P_FAULT" secret home.example
expect "held after the third pull" "$(odmr_held "$SPOOL" home.example)" 0
fm "$P_FAULT" secret home.example
fm_says "You have no mail"
odmr_stop fault
{ read -r st_drop; read -r st_del; } < <(odmr_stat "$T/fault.json" \
    dropped delivered)
expect "stats: dropped" "$st_drop" 1
expect "stats: delivered" "$st_del" 5
N=$((N + 5))
same || fail "copies differ after the cut"
ok "$N byte-identical, none lost, none doubled"

# --- implicit TLS, one line per TLS record (fetchmail's pipe needs it) --
TLSOPT=(--implicit-tls --tls-cert "$T/ca/server.pem"
    --tls-key "$T/ca/server-key.pem" --one-line-per-record)
odmrd_start tls "$P_TLS" --users "$T/users" --spool "$SPOOL" \
    "${TLSOPT[@]}" || fail "odmrd (TLS) did not start"
hold "$N" 10
fm "$P_TLS" secret home.example \
    "ssl sslcertck sslcertfile \"$T/ca/self.pem\" sslcommonname localhost"
[ "$fmrc" != 0 ] || fail "fetchmail accepted a certificate from another CA"
expect "sink after a refused certificate" "$(sink_count "$SINK")" "$N"
fm "$P_TLS" secret home.example \
    "ssl sslcertck sslcertfile \"$T/ca/ca.pem\" sslcommonname localhost"
expect "fetchmail exit status over TLS" "$fmrc" 0
N=$((N + 10))
expect "sink after the TLS pull" "$(sink_count "$SINK")" "$N"
same || fail "copies differ after TLS"
ok "implicit TLS: $N byte-identical"
expect "held after TLS" "$(odmr_held "$SPOOL" home.example)" 0
odmr_stop tls

# --- what fetchmail cannot show: STARTTLS, PLAIN/LOGIN, 530/502/538/535,
# a pipelining customer that refuses one recipient (550), defers another
# (450) and refuses one message after the dot (554). A scripted customer.
P_PROBE=$((B + 16))
PS=$T/probespool
printf 'Subject: A\r\n\r\n.\r\n..x\r\n\xc3\xa9\r\n' > "$T/a.eml"
printf 'Subject: B\r\n\r\nrefused\r\n' > "$T/b.eml"
printf 'Subject: C\r\n\r\nother domain\r\n' > "$T/c.eml"
odmr_enqueue "$PS" s@p.test \
    ok@home.example,no@home.example,later@home.example < "$T/a.eml"
odmr_enqueue "$PS" s@p.test bounce@home.example < "$T/b.eml"
odmr_enqueue "$PS" s@p.test ok@other.example < "$T/c.eml"
odmrd_start probe "$P_PROBE" --users "$T/users" --spool "$PS" \
    --tls-cert "$T/ca/server.pem" --tls-key "$T/ca/server-key.pem" -v ||
	fail "odmrd (STARTTLS) did not start"
python3 - "$P_PROBE" "$T/ca/ca.pem" "$T" <<'PY' || fail "scripted customer"
import base64, socket, ssl, sys
port, ca, tdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
b64 = lambda s: base64.b64encode(s.encode()).decode()
class C:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.b = b""
    def line(self):
        while b"\n" not in self.b:
            d = self.s.recv(65536)
            assert d, "EOF from the provider"
            self.b += d
        l, _, self.b = self.b.partition(b"\n")
        return l.rstrip(b"\r")
    def reply(self):
        ls = [self.line().decode()]
        while ls[-1][3:4] == "-":
            ls.append(self.line().decode())
        return int(ls[-1][:3]), [l[4:] for l in ls]
    def send(self, t):
        self.s.sendall(t.encode() + b"\r\n")
    def cmd(self, t):
        self.send(t)
        return self.reply()
def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok: " + what)
c = C()
check(c.reply()[0] == 220, "220 greeting")
code, caps = c.cmd("EHLO customer.test")
check({"AUTH CRAM-MD5", "ATRN", "STARTTLS"} <= set(caps),
      "EHLO: AUTH CRAM-MD5 (only), ATRN, STARTTLS in cleartext")
check(c.cmd("ATRN home.example")[0] == 530, "ATRN before AUTH: 530")
check(c.cmd("MAIL FROM:<a@b>")[0] == 502, "MAIL in the initial state: 502")
check(c.cmd("AUTH PLAIN " + b64("\0me\0secret"))[0] == 538,
      "AUTH PLAIN in cleartext: 538")
check(c.cmd("STARTTLS")[0] == 220, "STARTTLS: 220")
ctx = ssl.create_default_context(cafile=ca)
c.s = ctx.wrap_socket(c.s, server_hostname="localhost")
code, caps = c.cmd("EHLO customer.test")
check("AUTH CRAM-MD5 PLAIN LOGIN" in caps and "STARTTLS" not in caps,
      "EHLO under TLS: PLAIN and LOGIN, no STARTTLS")
check(c.cmd("AUTH PLAIN " + b64("\0me\0wrong"))[0] == 535,
      "AUTH PLAIN, wrong password: 535")
check(c.cmd("AUTH LOGIN")[0] == 334 and c.cmd(b64("me"))[0] == 334 and
      c.cmd(b64("secret"))[0] == 235, "AUTH LOGIN: 235")
check(c.cmd("ATRN home.example,other.example")[0] == 250, "ATRN: 250")
c.send("220 customer.test ready")
check(c.line() == b"EHLO provider.test", "provider sends EHLO")
c.send("250-customer.test\r\n250-PIPELINING\r\n250 8BITMIME")
got, piped, rc = {}, 0, None
while True:
    l = c.line().decode()
    v = l[:4].upper()
    if v == "MAIL":
        piped += b"DATA\r\n" in c.b
        mail, ok = l, []
        c.send("250 ok")
    elif v == "RCPT":
        r = l[9:-1]
        code = {"no": 550, "later": 450}.get(r.split("@")[0], 250)
        if code == 250:
            ok.append(r)
        c.send("%d rcpt" % code)
    elif v == "DATA":
        c.send("354 go")
        body = b""
        while True:
            x = c.line()
            if x == b".":
                break
            body += (x[1:] if x.startswith(b".") else x) + b"\r\n"
        got[ok[0]] = (mail, body)
        c.send("554 no thanks" if ok[0].startswith("bounce") else "250 ok")
    elif v == "RSET":
        c.send("250 reset")
    elif v == "QUIT":
        c.send("221 bye")
        break
    else:
        sys.exit("FAIL: unexpected " + l)
check(piped == 3, "MAIL, RCPT and DATA pipelined (3 messages)")
check(got["ok@home.example"][1] == open(tdir + "/a.eml", "rb").read(),
      "message A unstuffed and byte-identical")
check("BODY=8BITMIME" in got["ok@home.example"][0], "BODY=8BITMIME for 8-bit")
check(got["ok@other.example"][1] == open(tdir + "/c.eml", "rb").read(),
      "message C (other.example) byte-identical")
PY
odmr_stop probe
expect "held: A for its deferred recipient" "$(odmr_held "$PS")" 1
grep -q '"to": \["later@home.example"\]' "$PS"/home.example/*.env ||
	fail "the held copy of A is not for later@home.example only"
ok "A kept for later@home.example only"
expect "B refused after the dot" "$(odmr_held "$PS/.refused")" 1

# --- bulk: one session --------------------------------------------------
wait "$fillpid" || { cat "$T/fill.log" >&2; fail "odmr_fill"; }
expect "bulk held" "$(odmr_held "$T/bulkspool" home.example)" "$BULK"
odmrd_start bulk "$P_BULK" --users "$T/users" --spool "$T/bulkspool" \
    --stats "$T/bulk.json" || fail "odmrd (bulk) did not start"
t0=$(date +%s%N)
fm "$P_BULK" secret home.example
t1=$(date +%s%N)
expect "fetchmail exit status (bulk)" "$fmrc" 0
expect "sink after bulk" "$(sink_count "$SINK")" $((N + BULK))
expect "held after bulk" "$(odmr_held "$T/bulkspool" home.example)" 0
odmr_stop bulk
expect "stats: bulk delivered" "$(odmr_stat "$T/bulk.json" delivered)" "$BULK"
echo "bulk: $BULK messages through fetchmail in $(( (t1 - t0) / 1000000 )) ms"
same || fail "copies differ after bulk"
echo "$checks checks passed"
passed=1
