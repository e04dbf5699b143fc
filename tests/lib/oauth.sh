# SPDX-License-Identifier: ISC
# oauth.sh: an OAuth2 world for the integration tests, on top of peers.sh
# (source peers.sh first; bash only):
#
#   oauthd_start PORT     tests/lib/oauthd.py over HTTPS (the peers CA)
#   oauthd_admin QUERY    GET /admin?QUERY, prints the JSON answer
#   oauth_smarthost_start OAUTHD_PORT
#                         a dedicated Dovecot auth instance whose only
#                         passdb is oauth2 (XOAUTH2 and OAUTHBEARER, RFC
#                         7662 introspection against oauthd.py over HTTPS),
#                         and the peers.sh Postfix smarthost using it for
#                         SASL. Set the PEERS_*_PORT variables first to
#                         move the Postfix ports.
#   oauth_stop_all        for a trap
#
# Everything lives under $PEERS_DIR/oauth.

OAUTH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

oauthd_start()
{
	peers_init && peers_ca || return 1
	local p=$1 d=$PEERS_DIR/oauth
	mkdir -p "$d" || return 1
	OAUTHD_PORT=$p
	OAUTHD_URL=https://127.0.0.1:$p
	pid_alive "$d/oauthd.pid" && return 0
	python3 "$OAUTH_LIB/oauthd.py" "$p" "$PEERS_DIR/ca/server.pem" \
	    "$PEERS_DIR/ca/server-key.pem" >"$d/oauthd.out" 2>"$d/oauthd.log" &
	echo $! >"$d/oauthd.pid"
	local i=0
	until grep -q "listening on" "$d/oauthd.out" 2>/dev/null; do
		pid_alive "$d/oauthd.pid" || { cat "$d/oauthd.log" >&2; return 1; }
		i=$((i + 1))
		[ "$i" -gt 200 ] && return 1
		sleep 0.05
	done
}

# python3, not curl(1): scripts/deps does not install the curl tool.
oauthd_admin()
{
	python3 -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
sys.stdout.write(urllib.request.urlopen(sys.argv[2], context=ctx).read().decode())' \
	    "$PEERS_DIR/ca/ca.pem" "$OAUTHD_URL/admin?$1"
}

# The Dovecot auth instance: no mail protocols, one passdb (oauth2).
oauth_dovecot_start()
{
	local d=$PEERS_DIR/oauth/dovecot
	mkdir -p "$d/run" "$d/state" || return 1
	chmod 0755 "$PEERS_DIR/oauth" "$d" "$d/run" "$d/state"
	pid_alive "$d/run/master.pid" && return 0
	# RFC 7662 §2.1: POST token=...; the reply's "active" and
	# "username" decide. No passdb cache, so a revocation is seen at once.
	cat >"$d/oauth2.conf" <<EOF
introspection_mode = post
introspection_url = $OAUTHD_URL/introspect
tls_ca_cert_file = $PEERS_DIR/ca/ca.pem
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
EOF
	cat >"$d/dovecot.conf" <<EOF
# Written by tests/lib/oauth.sh; a private auth-only instance.
base_dir = $d/run
state_dir = $d/state
instance_name = tern-oauth-${PEERS_DIR##*.}
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
auth_failure_delay = 0
auth_username_format = %Ln
auth_verbose = yes
auth_cache_size = 0
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/oauth2.conf
}
userdb {
  driver = static
  args = uid=8 gid=8 home=$d/home
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
EOF
	if ! dovecot -c "$d/dovecot.conf" >>"$d/start.log" 2>&1; then
		cat "$d/start.log" >&2
		return 1
	fi
	local i=0
	while [ ! -S "$d/run/auth-postfix" ] && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$d/run/auth-postfix" ]
}

oauth_smarthost_start()
{
	peers_init && peers_ca || return 1
	oauthd_start "$1" && oauth_dovecot_start || return 1
	# peers.sh's Postfix, with its SASL pointed at our Dovecot.
	PEERS_AUTH_SOCKET=$PEERS_DIR/oauth/dovecot/run/auth-postfix
	local d=$PEERS_DIR/postfix
	pid_alive "$d/queue/pid/master.pid" && return 0
	smarthost_conf && smarthost_queue || return 1
	local m=/usr/lib/postfix/sbin/master
	[ -x "$m" ] || m=$(postconf -c "$d/conf" -h daemon_directory)/master
	if ! "$m" -c "$d/conf" -w >>"$d/start.log" 2>&1; then
		cat "$d/start.log" >&2
		return 1
	fi
	wait_port 127.0.0.1 "$PEERS_SUBMISSION_PORT" 10 &&
	    wait_port 127.0.0.1 "$PEERS_SMTPS_PORT" 10
}

oauth_stop_all()
{
	[ -n "${PEERS_DIR:-}" ] || return 0
	pid_stop "$PEERS_DIR/oauth/dovecot/run/master.pid" 5
	pid_stop "$PEERS_DIR/oauth/oauthd.pid" 2
	return 0
}

oauth_logs()
{
	local f
	for f in "$PEERS_DIR"/oauth/dovecot/dovecot.log \
	    "$PEERS_DIR"/oauth/oauthd.log; do
		[ -s "$f" ] || continue
		echo "==== $f"
		tail -n "${1:-30}" "$f"
	done
}
