#!/bin/bash
# SPDX-License-Identifier: ISC
# OAuth2 without helpers, against tests/lib/oauthd.py (HTTPS) and a Postfix
# smarthost whose SASL is a Dovecot oauth2 passdb that introspects every
# token there (RFC 7662): first token, cache, expiry, 535 -> refresh once ->
# retry, rotation kept on disk, revocation defers (never bounces), refresh
# endpoint down or talking garbage, `tern login` (RFC 8628) with pending,
# slow_down and access_denied, and no token or secret in any output.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
. "$TERN_TOP/tests/lib/peers.sh"
. "$TERN_TOP/tests/lib/oauth.sh"
on_exit '[ "${checks_done:-0}" = 1 ] || { peers_logs 20; oauth_logs 20; } >&2'
on_exit oauth_stop_all
on_exit peers_stop_all
peers_init || fail "peers_init"
# Ports 27000-27100 for this test.
PEERS_SMTP_PORT=27025 PEERS_SUBMISSION_PORT=27087 PEERS_SMTPS_PORT=27065
PEERS_LMTP_PORT=27024 PEERS_IMAP_PORT=27043
export PEERS_SMTP_PORT PEERS_SUBMISSION_PORT PEERS_SMTPS_PORT
oauth_smarthost_start 27001 || fail "oauth smarthost did not start"
CA=$PEERS_DIR/ca/ca.pem
# libcurl reads no CA variable itself; tern passes this one on (oauth.h).
export CURL_CA_BUNDLE=$CA
CS=client-SECRET-4f1e
RT0=rt-initial-SECRET-9a7c
oauthd_admin "op=set&client_secret=$CS" >/dev/null
oauthd_admin "op=add_refresh&token=$RT0&user=alice" >/dev/null
OD=$T/state/oauth

write_conf "[smarthost]" "host localhost" "port $PEERS_SUBMISSION_PORT" \
    "ca_file $CA" "user alice" \
    "oauth2_token_url $OAUTHD_URL/token" "oauth2_client_id tern-test" \
    "oauth2_client_secret_command echo $CS" \
    "oauth2_refresh_token_command echo $RT0" \
    "oauth2_device_url $OAUTHD_URL/device" \
    "oauth2_scope https://mail.test/smtp offline_access" \
    "[retry]" "schedule 1s" "[deliver]" "maildir $T/Maildir"

ALL=$T/all.log		# every byte tern printed, for the secrets check
tern_rc() {		# expect_rc, keeping the output
	expect_rc "$@"
	cat "$T/out" "$T/err" >>"$ALL"
}
stat_n() { oauthd_admin op=stats | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
send() { printf 'Subject: %s\n\nbody\n' "$1" | "$TERN" sendmail rcpt@x.test || fail "sendmail"; }
mode() { stat -c %a "$1"; }
field() { "$TERN" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
n=0
delivered() { n=$((n + 1)); smarthost_wait_count "$n" 10 || fail "$1: smarthost has $(smarthost_count), want $n"; ok "$1"; }

# --- first use: refresh, cache 0600, deliver --------------------------------
send first
tern_rc 0 "first flush refreshes and delivers" -- "$TERN" flush
delivered "delivered with a fresh token (Dovecot introspected it)"
[ "$(stat_n "['n']['refresh']")" = 1 ] || fail "want 1 refresh"
[ "$(mode "$OD/default.token")" = 600 ] || fail "token cache mode $(mode "$OD/default.token")"
[ "$(mode "$OD/default.status")" = 600 ] || fail "status mode"
ok "access token cached with mode 0600"

send cached
tern_rc 0 "second flush" -- "$TERN" flush
delivered "second mail delivered"
[ "$(stat_n "['n']['refresh']")" = 1 ] || fail "the cached token was not used"
ok "second flush used the cached token (no refresh)"

# --- server-side expiry: 535, refresh once, retry ----------------------------
oauthd_admin op=expire_all >/dev/null
send expired
tern_rc 0 "flush with an expired access token" -- "$TERN" -v flush
delivered "expired token: 535, refreshed, delivered"
[ "$(stat_n "['n']['refresh']")" = 2 ] || fail "want 2 refreshes"
ok "exactly one refresh after the 535"

# --- local expiry: a token about to lapse is not used -------------------------
oauthd_admin "op=set&access_life=30" >/dev/null
oauthd_admin op=expire_all >/dev/null
send short1
tern_rc 0 "flush (gets a 30 s token)" -- "$TERN" flush
delivered "delivered with a short-lived token"
r=$(stat_n "['n']['refresh']")
send short2
tern_rc 0 "flush (token within 60 s of expiry)" -- "$TERN" flush
delivered "delivered again"
[ "$(stat_n "['n']['refresh']")" = $((r + 1)) ] || fail "a token expiring in 30 s was reused"
ok "a token expiring within 60 s is refreshed before use"
oauthd_admin "op=set&access_life=3600" >/dev/null

# --- rotation: the new refresh token is stored and used next time ------------
oauthd_admin "op=set&rotate=1" >/dev/null
oauthd_admin op=expire_all >/dev/null
send rotate1
tern_rc 0 "flush with rotation" -- "$TERN" flush
delivered "delivered after a rotating refresh"
live=$(stat_n "['live_refresh'][0]")
[ "$live" != "$RT0" ] || fail "server did not rotate"
[ "$(cat "$OD/default.refresh")" = "$live" ] || fail "rotated refresh token not stored"
[ "$(mode "$OD/default.refresh")" = 600 ] || fail "refresh file mode"
ok "rotated refresh token stored (0600)"
oauthd_admin op=expire_all >/dev/null
send rotate2
tern_rc 0 "flush after rotation (new process)" -- "$TERN" flush
delivered "second refresh used the rotated token (the first is dead)"
[ "$(stat_n "['live_refresh'][0]")" = "$(cat "$OD/default.refresh")" ] ||
	fail "second rotation not stored"
ok "second rotation stored too"

# --- `tern check` shows the account, never the token --------------------------
tern_rc 0 "tern check with OAuth2" -- "$TERN" check
grep -q "^configuration: .*: ok" "$T/out" || fail "check: no configuration line"
grep -q "oauth2: refresh token stored, access token until" "$T/out" ||
	{ cat "$T/out"; fail "check: no oauth2 line"; }
grep -q "auth: accepted" "$T/out" || fail "check: AUTH not accepted"
ok "check shows the token state and AUTH accepted"

# --- revoked: deferred, said so, never bounced -------------------------------
oauthd_admin "op=revoke&token=$(cat "$OD/default.refresh")" >/dev/null
send revoked
tern_rc 69 "flush with a revoked refresh token" -- "$TERN" flush
err=$(field "d['last_flush']['error']")
case $err in
*"token refused: re-run \`tern login\`"*invalid_grant*) ok "last_flush says: $err" ;;
*) fail "last_flush error: $err" ;;
esac
[ "$(qcount)" = 1 ] || fail "the mail left the queue"
[ "$(qjson | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["recipients"][0]["state"])')" = pending ] ||
	fail "recipient not pending"
[ ! -d "$T/Maildir/new" ] || [ -z "$(ls -A "$T/Maildir/new")" ] || fail "a bounce was made"
ok "the mail stays queued, nothing bounced"
tern_rc 0 "status text" -- "$TERN" status
grep -q "warning: token refused by the smarthost: re-run \`tern login\`" "$T/out" ||
	{ cat "$T/out"; fail "status gives no warning"; }
[ "$(field "d['oauth'][0]['refresh_token']")" = stored ] || fail "status json oauth"
ok "status warns and shows the account"

# --- the token endpoint fails: 500, garbage ----------------------------------
rm -f "$OD/default.token"
oauthd_admin "op=fail&mode=500&count=1" >/dev/null
tern_rc 69 "flush while the token endpoint says 500" -- "$TERN" flush
case $(field "d['last_flush']['error']") in
*"token refresh failed: HTTP 500 from $OAUTHD_URL/token"*) ok "500 reported" ;;
*) fail "500: $(field "d['last_flush']['error']")" ;;
esac
oauthd_admin "op=fail&mode=garbage&count=1" >/dev/null
tern_rc 69 "flush while the token endpoint talks garbage" -- "$TERN" flush
case $(field "d['last_flush']['error']") in
*"(the reply is not JSON)"*) ok "garbage reported" ;;
*) fail "garbage: $(field "d['last_flush']['error']")" ;;
esac
[ "$(qcount)" = 1 ] || fail "the mail left the queue"

# --- tern login: pending twice, then approved --------------------------------
oauthd_admin "op=set&rotate=0" >/dev/null
oauthd_admin "op=device&script=pending,pending,ok&interval=1" >/dev/null
rm -f "$OD/default.refresh"
tern_rc 0 "tern login (pending, pending, ok)" -- "$TERN" login
grep -q "WDJB-MJHT" "$T/out" && grep -q "https://127.0.0.1/activate" "$T/out" ||
	{ cat "$T/out"; fail "login did not print the code and URL"; }
[ "$(stat_n "['last_scope']")" = "https://mail.test/smtp offline_access" ] || fail "scope not sent"
python3 - "$(oauthd_admin op=stats)" <<'PY' || fail "poll spacing"
import json, sys
t = json.loads(sys.argv[1])["poll_times"]
assert len(t) == 3, t
assert all(b - a >= 0.9 for a, b in zip(t, t[1:])), t
PY
ok "polled three times, an interval apart"
[ "$(mode "$OD/default.refresh")" = 600 ] || fail "stored refresh token mode"
[ "$(cat "$OD/default.refresh")" = "$(stat_n "['live_refresh'][-1]")" ] ||
	fail "login stored the wrong refresh token"
ok "login stored the refresh token (0600)"
tern_rc 0 "flush after login" -- "$TERN" flush
delivered "the deferred mail goes after the login"
[ "$(qcount)" = 0 ] || fail "queue not empty"

# --- slow_down adds 5 s -------------------------------------------------------
oauthd_admin "op=device&script=slow_down,ok&interval=1" >/dev/null
tern_rc 0 "tern login with slow_down" -- "$TERN" login default
python3 - "$(oauthd_admin op=stats)" <<'PY' || fail "slow_down not honoured"
import json, sys
t = json.loads(sys.argv[1])["poll_times"]
assert len(t) == 2 and t[1] - t[0] >= 5.9, t
PY
ok "slow_down: the next poll came 6 s later"

# --- access_denied, expired: clear errors -------------------------------------
oauthd_admin "op=device&script=denied&interval=1" >/dev/null
tern_rc 77 "tern login declined" -- "$TERN" login
expect_err "device login refused: access_denied"
oauthd_admin "op=device&script=expired&interval=1" >/dev/null
tern_rc 77 "tern login with an expired code" -- "$TERN" login
expect_err "expired_token"
tern_rc 78 "tern login NAME for a missing section" -- "$TERN" login nosuch
expect_err "no [smarthost nosuch]"

# --- no token or secret anywhere tern wrote text ------------------------------
send last
tern_rc 0 "verbose flush" -- "$TERN" -v flush
delivered "last mail delivered"
oauthd_admin op=stats | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["issued"]))' >"$T/secrets"
printf '%s\n%s\n' "$CS" "$RT0" >>"$T/secrets"
[ "$(wc -l <"$T/secrets")" -gt 10 ] || fail "too few tokens to look for"
if grep -F -f "$T/secrets" "$ALL"; then
	fail "a token or secret was printed"
fi
find "$T/state" -type f ! -path "$OD/*" -exec grep -l -F -f "$T/secrets" {} + &&
	fail "a token or secret is stored outside state/oauth"
ok "none of $(wc -l <"$T/secrets") tokens/secrets in tern's output, logs or queue"
checks_done=1
echo "60-oauth2: $checks checks passed"
