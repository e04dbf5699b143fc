#!/bin/bash
# SPDX-License-Identifier: ISC
# tern sendmail and the queue verbs, without a daemon: flags, -t, fix-ups,
# canonical storage, bad input refused with the right exit code and nothing
# half-queued, hold/release/delete, status and queue --json.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- a plain message -------------------------------------------------------
printf 'Subject: one\n\nhello\n' > "$T/m1"
expect_rc 0 "plain sendmail" -- "$TERN" sendmail a@x.test < "$T/m1"
[ "$(qcount)" = 1 ] || fail "queue should hold 1"
qjson > "$T/q.json"
id=$(field 'd[0]["id"]' < "$T/q.json")
[[ "$id" =~ ^[0-9a-f]{13}$ ]] || fail "bad id '$id'"
[ "$(field 'd[0]["from"]' < "$T/q.json")" = me@node.test ] || fail from
[ "$(field 'd[0]["recipients"][0]["to"]' < "$T/q.json")" = a@x.test ] || fail to
[ "$(field 'd[0]["recipients"][0]["state"]' < "$T/q.json")" = pending ] || fail state
[ "$(field 'd[0]["recipients"][0]["attempts"]' < "$T/q.json")" = 0 ] || fail attempts
[ "$(field 'd[0]["held"]' < "$T/q.json")" = False ] || fail held
[ "$(field 'd[0]["recipients"][0]["last_reply"]' < "$T/q.json")" = None ] || fail last_reply
ok "queue --json has the contract's fields and values"

"$TERN" show --raw "$id" > "$T/raw"
python3 - "$T/raw" <<'PY' || fail "stored form"
import sys, re
b = open(sys.argv[1], 'rb').read()
assert re.search(rb'(?<!\r)\n', b) is None, "bare LF stored"
assert b.startswith(b'Received: by node.test (tern'), b[:60]
for h in (b'\r\nDate: ', b'\r\nMessage-ID: <', b'\r\nFrom: me@node.test\r\n'):
    assert h in b, h
assert b.endswith(b'\r\n\r\nhello\r\n'), b[-20:]
assert b.count(b'@node.test>') >= 1
PY
ok "stored CRLF form with Received, Date, Message-ID, From added"

# --- LF and CRLF input store the same bytes --------------------------------
hdr='From: Me <me@node.test>\nDate: Fri, 04 Dec 2026 10:00:00 +0000\nMessage-ID: <fixed@node.test>\nSubject: same\n\n'
printf "${hdr}line 1\n.dot line\n\xc3\xa9t\xc3\xa9\n" > "$T/lf"
sed 's/$/\r/' "$T/lf" > "$T/crlf"
expect_rc 0 "LF input" -- "$TERN" sendmail -i b@x.test < "$T/lf"
expect_rc 0 "CRLF input" -- "$TERN" sendmail -i b@x.test < "$T/crlf"
ids=$(qjson | field '" ".join(m["id"] for m in d)')
set -- $ids
"$TERN" show --raw "$2" | tail -n +2 > "$T/s2"
"$TERN" show --raw "$3" | tail -n +2 > "$T/s3"
cmp -s "$T/s2" "$T/s3" || fail "LF and CRLF input stored differently"
cmp -s "$T/s2" "$T/crlf" || fail "stored message differs from CRLF input"
ok "LF and CRLF input stored identically, byte for byte"
"$TERN" show "$2" | grep -q 8bit || fail "8-bit body not flagged"
ok "8-bit body flagged"

# --- -t: To/Cc/Bcc, folding, groups, comments, Bcc removed -----------------
cat > "$T/t" <<'MSG'
From: Me <me@node.test>
To: "Doe, John" <john@x.test>, team: ann@x.test (Ann),
  "odd one"@x.test;
Cc: undisclosed-recipients:;
Bcc: secret@y.test
Subject: =?utf-8?q?caf=C3=A9?=

body
MSG
expect_rc 0 "sendmail -t" -- "$TERN" sendmail -t -i extra@z.test < "$T/t"
qjson > "$T/q.json"
rcpts=$(field '" ".join(r["to"] for r in d[-1]["recipients"])' < "$T/q.json")
[ "$rcpts" = 'extra@z.test john@x.test ann@x.test "odd one"@x.test secret@y.test' ] ||
	fail "-t recipients: $rcpts"
ok "-t recipients from To/Cc/Bcc plus the command line"
tid=$(field 'd[-1]["id"]' < "$T/q.json")
"$TERN" show --raw "$tid" | grep -qi '^Bcc:' && fail "Bcc kept"
"$TERN" show --raw "$tid" | grep -q 'secret@y.test' && fail "Bcc address leaked"
ok "Bcc removed from the stored copy"

# --- senders ------------------------------------------------------------------
expect_rc 0 "null sender -f ''" -- "$TERN" sendmail -f '' c@x.test < "$T/m1"
[ "$(qjson | field 'd[-1]["from"]')" = "" ] || fail "null sender"
expect_rc 0 "-f bare user, -F name" -- "$TERN" sendmail -F 'Jo Q' -fjo c@x.test < "$T/m1"
[ "$(qjson | field 'd[-1]["from"]')" = jo@node.test ] || fail "qualified sender"
"$TERN" show --raw "$(qjson | field 'd[-1]["id"]')" | grep -q '^From: Jo Q <jo@node.test>' ||
	fail "From: from -F"
ok "sender qualification and -F"
expect_rc 0 "ignored flags" -- "$TERN" sendmail -oem -oi -odi -U -v -Am -- c@x.test < "$T/m1"
expect_rc 0 "DSN flags" -- "$TERN" sendmail -N success,failure -R hdrs -V env42 -B 8BITMIME c@x.test < "$T/m1"
"$TERN" show "$(qjson | field 'd[-1]["id"]')" > "$T/show"
grep -q 'envid: *env42' "$T/show" && grep -q 'ret: *hdrs' "$T/show" || fail "DSN params"
ok "DSN parameters kept"

# --- dot handling (CLI-02) --------------------------------------------------
n0=$(qcount)
printf 'Subject: d\n\nbefore\n.\nafter\n' | "$TERN" sendmail d@x.test || fail "dot mail"
"$TERN" show --raw "$(qjson | field 'd[-1]["id"]')" | grep -q after && fail "lone dot did not end input"
printf 'Subject: d\n\nbefore\n.\nafter\n' | "$TERN" sendmail -i d@x.test || fail "dot mail -i"
"$TERN" show --raw "$(qjson | field 'd[-1]["id"]')" | grep -q after || fail "-i: lone dot ended input"
ok "lone '.' ends input without -i, not with -i"

# --- bad input: clear error, nothing queued ---------------------------------
n0=$(qcount)
expect_rc 64 "unknown flag" -- "$TERN" sendmail -Z a@x.test < "$T/m1"
expect_rc 65 "malformed recipient" -- "$TERN" sendmail 'a@@x.test' < "$T/m1"
expect_err "a@@x.test"
expect_rc 64 "no recipients" -- "$TERN" sendmail < "$T/m1"
expect_rc 65 "-t without recipients" -- "$TERN" sendmail -t < "$T/m1"
printf 'Subject: x\n\nnul\0byte\n' > "$T/nul"
expect_rc 65 "NUL byte" -- "$TERN" sendmail a@x.test < "$T/nul"
expect_err "NUL"
python3 -c 'import sys; sys.stdout.write("Subject: x\n\n" + "a"*1048576 + "\n")' > "$T/long"
expect_rc 65 "1 MB line" -- "$TERN" sendmail a@x.test < "$T/long"
expect_err "998"
printf 'Subject: cut' > "$T/cut"
expect_rc 65 "EOF mid-header" -- "$TERN" sendmail a@x.test < "$T/cut"
expect_rc 65 "bad sender" -- "$TERN" sendmail -f 'a b@c' a@x.test < "$T/m1"
[ "$(qcount)" = "$n0" ] || fail "something was queued by bad input"
ok "nothing half-queued by bad input"

cp "$CONF" "$T/good.conf"
write_conf "max_message_size 100K"
python3 -c 'import sys; sys.stdout.write("Subject: big\n\n" + ("x"*70 + "\n")*3000)' > "$T/big"
expect_rc 65 "over max_message_size" -- "$TERN" sendmail a@x.test < "$T/big"
expect_err "max_message_size"
printf 'hostname node.test\nstate %s\nbogus_key 1\n' "$T/state" > "$CONF"
expect_rc 78 "corrupt config" -- "$TERN" sendmail a@x.test < "$T/m1"
expect_err "$CONF:3"
touch "$T/afile"
printf 'hostname node.test\nstate %s/afile/state\n' "$T" > "$CONF"
expect_rc 73 "unusable state directory" -- "$TERN" sendmail a@x.test < "$T/m1"
cp "$T/good.conf" "$CONF"
[ "$(qcount)" = "$n0" ] || fail "count changed"

# --- sendmail and mailq by argv[0] -----------------------------------------
ln -s "$TERN" "$T/sendmail"; ln -s "$TERN" "$T/mailq"
expect_rc 0 "called as sendmail" -- "$T/sendmail" -oi e@x.test < "$T/m1"
"$T/mailq" | grep -q '<e@x.test>' || fail "mailq lists"
ok "mailq lists the queue"

# --- hold, release, delete ------------------------------------------------------
hid=$(qjson | field 'd[0]["id"]')
expect_rc 0 "hold" -- "$TERN" hold "$hid"
[ "$(qjson | field '[m for m in d if m["id"]=="'"$hid"'"][0]["held"]')" = True ] || fail held
[ "$("$TERN" status --json | field 'd["outbound"]["held"]')" = 1 ] || fail "status held"
expect_rc 0 "release" -- "$TERN" release "$hid"
[ "$(qjson | field '[m for m in d if m["id"]=="'"$hid"'"][0]["held"]')" = False ] || fail released
n1=$(qcount)
expect_rc 0 "delete" -- "$TERN" delete "$hid"
[ "$(qcount)" = $((n1 - 1)) ] || fail "delete"
expect_rc 65 "delete unknown id" -- "$TERN" delete 0000000000001
expect_rc 64 "malformed id" -- "$TERN" hold nonsense
"$TERN" show "$(qjson | field 'd[0]["id"]')" | grep -q '^history:' || fail "show"
ok "show prints envelope, header and history"

# --- sendmail -bs: SMTP on stdin/stdout -----------------------------------------
n0=$(qcount)
printf 'EHLO me\r\nMAIL FROM:<bs@node.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\nSubject: bs\r\n\r\n..dot\r\n.\r\nQUIT\r\n' |
	"$TERN" sendmail -bs > "$T/bs.out" || fail "-bs exit"
grep -q '^250 2.0.0 Ok: queued as' "$T/bs.out" && grep -q '^221' "$T/bs.out" || { cat "$T/bs.out"; fail "-bs session"; }
[ "$(qcount)" = $((n0 + 1)) ] || fail "-bs did not queue"
"$TERN" show --raw "$(qjson | field 'd[-1]["id"]')" | grep -q '^\.dot' || fail "-bs did not unstuff"
ok "sendmail -bs: an SMTP session on stdin/stdout queues the message"

# --- tern bounce: a DSN to the local mailbox, the message gone ----------------
cp "$CONF" "$T/good.conf"
printf '[deliver]\nmaildir %s/Maildir\n' "$T" >> "$CONF"
printf 'Subject: to bounce\n\nhi\n' | "$TERN" sendmail -f me@node.test gone@x.test || fail inject
bid=$(qjson | field 'd[-1]["id"]')
n1=$(qcount)
expect_rc 0 "tern bounce" -- "$TERN" bounce "$bid"
[ "$(qcount)" = $((n1 - 1)) ] || fail "bounced message still queued"
dsn=$(grep -l "Final-Recipient: rfc822; gone@x.test" "$T/Maildir/new/"* 2>/dev/null | head -1)
[ -n "$dsn" ] || fail "no DSN in the maildir"
grep -q '^Action: failed' "$dsn" && grep -q '^Auto-Submitted: auto-replied' "$dsn" || fail "DSN fields"
printf 'Subject: null\n\nhi\n' | "$TERN" sendmail -f '' gone2@x.test || fail inject
n2=$(ls "$T/Maildir/new" | wc -l)
expect_rc 0 "tern bounce of a <> message" -- "$TERN" bounce "$(qjson | field 'd[-1]["id"]')"
[ "$(ls "$T/Maildir/new" | wc -l)" = "$n2" ] || fail "a bounce was made for a null sender"
ok "tern bounce: one RFC 3464 DSN to the mailbox; none for a <> sender"
cp "$T/good.conf" "$CONF"

# --- status --json -------------------------------------------------------------
"$TERN" status --json > "$T/st.json"
python3 - "$T/st.json" "$(qcount)" <<'PY' || fail "status --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["daemon"] == "stopped", d
assert d["link"] in ("up", "down", "unknown")
assert set(d["outbound"]) >= {"queued", "deferred", "held"}
assert d["outbound"]["queued"] == int(sys.argv[2]), d
assert d["inbound"]["pending"] == 0
for k in ("next_attempt", "last_flush", "last_pull"):
    assert k in d, k
assert d["next_attempt"].endswith("Z")
PY
ok "status --json fields"
"$TERN" status | grep -q "none configured" || fail "status says no smarthost"
ok "status says no smarthost is configured"
echo "$checks checks passed"
