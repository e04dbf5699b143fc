#!/bin/bash
# SPDX-License-Identifier: ISC
# ODMR/ATRN pulls against the suite's ODMR provider (tests/lib/odmrd.py,
# proven with fetchmail in 15-odmrd.sh): plaintext + CRAM-MD5, STARTTLS +
# PLAIN, implicit TLS; 453 when empty; a bad password; a provider that
# drops the line mid-message (nothing half-written, the rest intact); a
# provider that stops early (pulled again until 453); a bulk pull.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/odmr.sh"
on_exit odmr_stop_all
BULK=${ATRN_BULK:-10000}
P=${PORT:-32366}
SP=$T/spool
sh "$TERN_TOP/tests/lib/mkca.sh" "$T/ca" > /dev/null || fail mkca
echo "me:secret:home.example" > "$T/users"
md() { find "$T/Maildir/new" -type f 2>/dev/null | wc -l; }

atrn_conf() {	# tls auth [password]
	write_conf "submit off" "[inbound]" "method atrn" "host localhost" \
	    "port $P" "tls $1" "ca_file $T/ca/ca.pem" "auth $2" "user me" \
	    "password_command echo ${3:-secret}" "domains home.example" \
	    "[deliver]" "maildir $T/Maildir"
}
provider() {	# odmrd options...
	odmr_stop odmrd
	odmrd_start odmrd "$P" --users "$T/users" --spool "$SP" \
	    --tls-cert "$T/ca/server.pem" --tls-key "$T/ca/server-key.pem" \
	    --stats "$T/stats.json" "$@" || fail "odmrd did not start"
}

# --- plaintext + CRAM-MD5, byte-identical delivery ----------------------------
printf 'From: far@remote.test\nTo: me@home.example\nSubject: held\nMessage-ID: <held1@remote.test>\n\n.dot line\n..two dots\n\xc3\xa9t\xc3\xa9\nend\n' > "$T/msg"
odmr_enqueue "$SP" far@remote.test me@home.example < "$T/msg"
odmr_fill "$SP" 20 me@home.example > /dev/null
odmr_enqueue "$SP" far@remote.test someone@other.example < "$T/msg"
provider --auth-mechs CRAM-MD5
atrn_conf none cram-md5
expect_rc 0 "tern pull, CRAM-MD5 without TLS (loopback)" -- "$TERN" pull
[ "$(md)" = 21 ] || fail "maildir has $(md), want 21"
[ "$(odmr_held "$SP" home.example)" = 0 ] || fail "provider still holds mail"
[ "$(odmr_held "$SP" other.example)" = 1 ] || fail "another domain's mail was taken"
grep -q "21 message(s) received" "$T/out" || { cat "$T/out"; fail "report"; }
f=$(grep -l "held1@remote.test" "$T/Maildir/new/"*)
python3 - "$f" "$T/msg" <<'PY' || fail "held message altered"
import sys
got, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert got.startswith(b"Return-Path: <far@remote.test>\nDelivered-To: me@home.example\n")
assert got.endswith(want), got[-200:]
PY
ok "ATRN with CRAM-MD5: 21 messages byte-identical in the maildir, other domains untouched"
expect_rc 0 "pull with nothing waiting" -- "$TERN" pull
grep -q "453" "$T/out" || { cat "$T/out"; fail "453 not shown"; }
ok "453 (no mail) reported, exit 0"
"$TERN" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["last_pull"]; assert d["method"]=="atrn" and d["reply"].startswith("453"), d' ||
	fail "status last_pull"
ok "status shows the last pull"

# --- bad password ---------------------------------------------------------------
odmr_fill "$SP" 3 me@home.example > /dev/null
atrn_conf none cram-md5 wrong
expect_rc 69 "bad password" -- "$TERN" pull
grep -q 535 "$T/err" || { cat "$T/err"; fail "535 not named"; }
[ "$(odmr_held "$SP" home.example)" = 3 ] || fail "mail moved despite the bad password"
ok "bad password: 535 named, exit 69, nothing moved"

# --- STARTTLS + PLAIN ------------------------------------------------------------
provider --require-tls
atrn_conf starttls plain
expect_rc 0 "STARTTLS + PLAIN" -- "$TERN" pull
[ "$(md)" = 24 ] || fail "maildir has $(md), want 24"
ok "STARTTLS + PLAIN: the 3 arrived"

# --- implicit TLS ----------------------------------------------------------------
odmr_fill "$SP" 4 me@home.example > /dev/null
provider --implicit-tls
atrn_conf implicit plain
expect_rc 0 "implicit TLS" -- "$TERN" pull
[ "$(md)" = 28 ] || fail "maildir has $(md), want 28"
ok "implicit TLS: the 4 arrived"

# --- the provider drops the line mid-message -------------------------------------
odmr_fill "$SP" 10 me@home.example > /dev/null
provider --drop-mid-message 5
atrn_conf none cram-md5
expect_rc 0 "pull from a provider that drops the line" -- "$TERN" pull
# The dropped session ends early with mail taken, so tern pulls again
# (as for a provider that stops early): all 10 arrive, none twice.
[ "$(md)" = 38 ] || fail "maildir has $(md), want 38"
[ -z "$(ls "$T/Maildir/tmp")" ] || fail "something half-written in tmp/"
[ "$(odmr_held "$SP" home.example)" = 0 ] || fail "provider still holds mail"
dups=$(cat "$T/Maildir/new/"* | grep -i '^Message-ID:' | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups duplicate(s)"
grep -c "received via ATRN" "$T/out" | grep -qx 10 || fail "not 10 receipts"
ok "line dropped mid-message: nothing half-written, pulled again, all 10 delivered exactly once"

# --- a provider that stops early: pulled again until 453 --------------------------
odmr_fill "$SP" 10 me@home.example > /dev/null
provider --stop-after 3
expect_rc 0 "pull from a provider that stops after 3" -- "$TERN" pull
[ "$(md)" = 48 ] || fail "maildir has $(md), want 48"
ok "provider stopping after 3 per session: all 10 in one tern pull"

# --- bulk ----------------------------------------------------------------------------
odmr_fill "$SP" "$BULK" me@home.example > /dev/null
provider
start=$(date +%s.%N)
expect_rc 0 "bulk pull" -- "$TERN" pull
end=$(date +%s.%N)
[ "$(md)" = $((48 + BULK)) ] || fail "maildir has $(md), want $((48 + BULK))"
[ "$(qcount)" = 0 ] || fail "queue not empty"
ok "$BULK messages in one pull, $(python3 -c "print(round($end-$start,1))")s"
echo "$checks checks passed"
