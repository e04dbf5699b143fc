# SPDX-License-Identifier: ISC
# peers.sh: real mail peers (Dovecot, a Postfix smarthost, a fault proxy)
# as private instances for the integration tests. bash only: source it
# from a bash script. Runs as root, without init; never reads or writes
# the system's /etc/postfix/main.cf or /etc/dovecot configuration.
#
# Everything lives under $PEERS_DIR (default: a fresh /tmp/tern-peers.*,
# kept under /tmp because the postfix, dovecot and mail users must reach
# it and unix socket paths are capped at 107 bytes). Ports are offsets
# from $PEERS_PORT_BASE (default 20000) so parallel suites can move them:
#
#   PEERS_SMTP_PORT        BASE+25   plain SMTP, no AUTH, relays nothing
#                                    except to mx.test (an MX, in effect)
#   PEERS_SUBMISSION_PORT  BASE+587  STARTTLS required, then AUTH, relays
#   PEERS_SMTPS_PORT       BASE+465  implicit TLS, AUTH, relays
#   PEERS_LMTP_PORT        BASE+24   Dovecot LMTP (also $PEERS_LMTP_SOCKET)
#   PEERS_IMAP_PORT        BASE+43   Dovecot IMAP, plaintext, no TLS
#
# Users (Dovecot passwd-file, {PLAIN} so CRAM-MD5 and SCRAM work):
# alice/secret, bob/hunter2. Everything the smarthost accepts lands in the
# maildir $PEERS_DIR/smarthost-mail/. Recipient local parts "tempfail"
# and "reject" get 450 4.2.0 and 550 5.1.1 from the smarthost.
#
# Functions: peers_ca, dovecot_start/_stop, mailbox_count USER,
# postfix_smarthost_start/_stop, postfix_smarthost_allow_tempfail/
# _deny_tempfail, smarthost_count, smarthost_messages, smarthost_wait_count,
# faultproxy_start/_stop (tests/lib/faultproxy.py), sink_start/_count/_stop
# (tests/lib/sink.py), wait_port, wait_port_closed, free_port, peers_logs,
# peers_stop_all (for a trap). Each is idempotent, returns 0 or 1 (never
# exits) and logs to files under $PEERS_DIR; peers_logs prints their tails.

PEERS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# peers_init: picks the run directory and the ports; called by everything.
peers_init()
{
	[ -n "${PEERS_READY:-}" ] && return 0
	if [ -z "${PEERS_DIR:-}" ]; then
		PEERS_DIR=$(mktemp -d /tmp/tern-peers.XXXXXX) || return 1
		PEERS_OWN_DIR=1
	fi
	mkdir -p "$PEERS_DIR" || return 1
	# mktemp makes 0700; the postfix, dovecot and mail users walk it.
	chmod 0755 "$PEERS_DIR"
	local b=${PEERS_PORT_BASE:-20000}
	PEERS_SMTP_PORT=$((b + 25))
	PEERS_SUBMISSION_PORT=$((b + 587))
	PEERS_SMTPS_PORT=$((b + 465))
	PEERS_LMTP_PORT=$((b + 24))
	PEERS_IMAP_PORT=$((b + 43))
	PEERS_LMTP_SOCKET=$PEERS_DIR/dovecot/run/lmtp
	PEERS_AUTH_SOCKET=$PEERS_DIR/dovecot/run/auth-postfix
	PEERS_SMARTHOST_MAIL=$PEERS_DIR/smarthost-mail
	if [ ${#PEERS_AUTH_SOCKET} -gt 100 ]; then
		echo "peers: PEERS_DIR too long for unix sockets" >&2
		return 1
	fi
	export PEERS_DIR PEERS_SMTP_PORT PEERS_SUBMISSION_PORT \
	    PEERS_SMTPS_PORT PEERS_LMTP_PORT PEERS_IMAP_PORT \
	    PEERS_LMTP_SOCKET PEERS_SMARTHOST_MAIL
	PEERS_READY=1
}

# wait_port HOST PORT [TIMEOUT_S]: 0 once something accepts on it.
wait_port()
{
	local h=$1 p=$2 t=${3:-10} i=0
	until (exec 3<>"/dev/tcp/$h/$p") 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt $((t * 20)) ]; then
			echo "peers: $h:$p not listening after ${t}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# wait_port_closed HOST PORT [TIMEOUT_S]: 0 once nothing accepts on it.
wait_port_closed()
{
	local h=$1 p=$2 t=${3:-10} i=0
	while (exec 3<>"/dev/tcp/$h/$p") 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt $((t * 20)) ] && return 1
		sleep 0.05
	done
}

# free_port: prints a loopback TCP port nobody listens on right now.
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# pid_running PID: 0 if PID runs. Not kill -0 alone: daemons re-parent
# to pid 1, which here may leave them zombies for a while.
pid_running()
{
	local s
	[ -n "$1" ] && s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# pid_alive PIDFILE: 0 if the process named in PIDFILE runs.
pid_alive()
{
	local pid
	[ -s "$1" ] || return 1
	read -r pid <"$1" || return 1
	pid_running "$pid"
}

# pid_stop PIDFILE [TIMEOUT_S]: SIGTERM, then SIGKILL after the timeout.
pid_stop()
{
	local pid i=0 t=${2:-5}
	[ -s "$1" ] || return 0
	read -r pid <"$1"
	if pid_running "$pid" && kill -TERM "$pid" 2>/dev/null; then
		while pid_running "$pid"; do
			i=$((i + 1))
			if [ "$i" -gt $((t * 20)) ]; then
				kill -KILL "$pid" 2>/dev/null
				break
			fi
			sleep 0.05
		done
	fi
	rm -f "$1"
}

# peers_ca: CA and certificates in $PEERS_DIR/ca (see tests/lib/mkca.sh).
peers_ca()
{
	peers_init || return 1
	local d=$PEERS_DIR/ca
	[ -s "$d/server-key.pem" ] && [ -s "$d/wrong-key.pem" ] && return 0
	mkdir -p "$d" || return 1
	if [ -f "$PEERS_LIB/mkca.sh" ] &&
	    sh "$PEERS_LIB/mkca.sh" "$d" >"$PEERS_DIR/ca.log" 2>&1 &&
	    [ -s "$d/server-key.pem" ]; then
		chmod 0644 "$d"/*.pem
		return 0
	fi
	peers_ca_openssl "$d" >>"$PEERS_DIR/ca.log" 2>&1
}

# peers_ca_openssl DIR: the same set as mkca.sh (minus expired/self),
# for when mkca.sh or certtool is missing.
peers_ca_openssl()
{
	local d=$1 n cn san
	(
		set -e
		cd "$d"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout ca-key.pem -out ca.pem -days 3650 \
		    -subj "/CN=tern test CA" \
		    -addext basicConstraints=critical,CA:TRUE \
		    -addext keyUsage=critical,keyCertSign,cRLSign
		for n in server wrong; do
			if [ "$n" = server ]; then
				cn=localhost
				san="DNS:localhost,DNS:mx.test,IP:127.0.0.1,IP:::1"
			else
				cn=wrong.test san=DNS:wrong.test
			fi
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			    -nodes -keyout "$n-key.pem" -out "$n.csr" -subj "/CN=$cn"
			printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' \
			    "$san" >"$n.ext"
			openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca-key.pem \
			    -CAcreateserial -days 3650 -extfile "$n.ext" \
			    -out "$n.pem"
			rm -f "$n.csr" "$n.ext"
		done
		chmod 0644 ./*.pem
	)
}

# ---------------------------------------------------------------- Dovecot

# dovecot_conf: writes $PEERS_DIR/dovecot/dovecot.conf and the passwd-file.
dovecot_conf()
{
	local d=$PEERS_DIR/dovecot
	mkdir -p "$d/run" "$d/state" "$PEERS_DIR/mail" || return 1
	chown mail:mail "$PEERS_DIR/mail"
	chmod 0755 "$d" "$d/run" "$d/state"
	# {PLAIN}: CRAM-MD5 and SCRAM need the password itself (RFC 2195 §2,
	# RFC 7677 §3 derive from it). uid/gid 8 = mail: Dovecot refuses to
	# run mail processes as root.
	cat >"$d/passwd" <<EOF
alice:{PLAIN}secret:8:8::$PEERS_DIR/mail/alice::
bob:{PLAIN}hunter2:8:8::$PEERS_DIR/mail/bob::
EOF
	chmod 0644 "$d/passwd"
	cat >"$d/dovecot.conf" <<EOF
# Written by tests/lib/peers.sh; a private instance.
base_dir = $d/run
state_dir = $d/state
instance_name = tern-dovecot-${PEERS_DIR##*.}
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-256
# Tests try wrong passwords on purpose; the default delay is 2 s.
auth_failure_delay = 0
# Drop the domain: LMTP to alice@anything and AUTH as alice@x both work.
auth_username_format = %Ln
first_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:$PEERS_DIR/mail/%n
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = passwd-file
  args = $d/passwd
}
# No per-IP penalty after a failed AUTH (up to 15 s): tests fail on purpose.
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
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $PEERS_LMTP_PORT
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PEERS_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
}

# dovecot_start: the private Dovecot (auth socket, LMTP, IMAP).
dovecot_start()
{
	peers_init || return 1
	local d=$PEERS_DIR/dovecot
	if pid_alive "$d/run/master.pid"; then
		return 0
	fi
	dovecot_conf || return 1
	# A master.pid left by a stopped instance whose pid now names a
	# zombie (pid 1 here reaps slowly) makes dovecot refuse to start.
	rm -f "$d/run/master.pid"
	if ! dovecot -c "$d/dovecot.conf" >>"$d/start.log" 2>&1; then
		echo "peers: dovecot did not start, see $d/start.log" >&2
		cat "$d/start.log" >&2
		return 1
	fi
	wait_port 127.0.0.1 "$PEERS_LMTP_PORT" 10 &&
	    wait_port 127.0.0.1 "$PEERS_IMAP_PORT" 10 || return 1
	local i=0
	while [ ! -S "$PEERS_AUTH_SOCKET" ] && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$PEERS_AUTH_SOCKET" ]
}

# dovecot_stop: SIGTERM to the master, wait for the ports to close.
dovecot_stop()
{
	peers_init || return 1
	local d=$PEERS_DIR/dovecot
	pid_alive "$d/run/master.pid" || return 0
	pid_stop "$d/run/master.pid" 10
	wait_port_closed 127.0.0.1 "$PEERS_LMTP_PORT" 5
	wait_port_closed 127.0.0.1 "$PEERS_IMAP_PORT" 5
}

# mailbox_count USER: messages delivered to USER's maildir (new + cur).
mailbox_count()
{
	peers_init || return 1
	local m=$PEERS_DIR/mail/$1
	find "$m/new" "$m/cur" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# ------------------------------------------------------ Postfix smarthost

# smarthost_access ALLOW_TEMPFAIL: the per-recipient reply map.
smarthost_access()
{
	local f=$PEERS_DIR/postfix/recipient_access
	{
		[ "$1" = 1 ] || echo '/^tempfail@/ 450 4.2.0 try later'
		echo '/^reject@/ 550 5.1.1 no such user'
	} >"$f.new" && mv "$f.new" "$f"
}

# postfix_services: the master.cf lines every private instance needs
# (chroot n everywhere: the queue has no copies of /etc files).
postfix_services()
{
	cat <<'EOF'
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
}

# smarthost_conf: main.cf and master.cf of the private instance.
smarthost_conf()
{
	local d=$PEERS_DIR/postfix
	mkdir -p "$d/conf" "$d/queue" "$d/data" "$PEERS_SMARTHOST_MAIL" || return 1
	chown postfix "$d/data"
	chown mail:mail "$PEERS_SMARTHOST_MAIL"
	chmod 0755 "$d" "$PEERS_SMARTHOST_MAIL"
	[ -f "$d/recipient_access" ] || smarthost_access 0
	cat >"$d/conf/main.cf" <<EOF
# Written by tests/lib/peers.sh; a private instance (postfix -c $d/conf).
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
# Distinct: Postfix refuses mail to a server greeting with its own name.
myhostname = smarthost.test
mydomain = test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Not loopback: the plain port must not trust 127.0.0.1 to relay.
mynetworks = 192.0.2.1/32
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
local_header_rewrite_clients =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP tern-test-smarthost
# Every accepted recipient, any domain, goes to one maildir. An empty
# virtual_mailbox_domains keeps the static map from claiming all domains
# (an open relay); relaying is decided only by smtpd_relay_restrictions.
mydestination =
relay_domains = mx.test
virtual_mailbox_domains =
virtual_mailbox_base = $PEERS_DIR
virtual_mailbox_maps = static:smarthost-mail/
virtual_uid_maps = static:8
virtual_gid_maps = static:8
virtual_minimum_uid = 8
default_transport = virtual
relay_transport = virtual
local_transport = virtual
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:$d/recipient_access
smtpd_sasl_type = dovecot
smtpd_sasl_path = $PEERS_AUTH_SOCKET
smtpd_sasl_auth_enable = no
smtpd_tls_cert_file = $PEERS_DIR/ca/server.pem
smtpd_tls_key_file = $PEERS_DIR/ca/server-key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
queue_run_delay = 60s
# No /etc/aliases here; the default map only logs errors.
alias_maps =
alias_database =
EOF
	cat >"$d/conf/master.cf" <<EOF
# Written by tests/lib/peers.sh. chroot n everywhere: the queue has no
# copies of /etc files.
127.0.0.1:$PEERS_SMTP_PORT inet n - n - - smtpd
127.0.0.1:$PEERS_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$PEERS_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
$(postfix_services)
EOF
}

# smarthost_queue: the queue directories, as "postfix check" makes them.
smarthost_queue()
{
	local q=$PEERS_DIR/postfix/queue x
	mkdir -p "$q/pid" && chmod 0755 "$q/pid" || return 1
	for x in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace maildrop public; do
		mkdir -p "$q/$x" || return 1
		chown postfix "$q/$x"
		chmod 0700 "$q/$x"
	done
	chgrp postdrop "$q/maildrop" "$q/public"
	chmod 0730 "$q/maildrop"
	chmod 0710 "$q/public"
}

# postfix_smarthost_start: needs Dovecot for SASL (started if not running).
postfix_smarthost_start()
{
	peers_init || return 1
	local d=$PEERS_DIR/postfix
	if pid_alive "$d/queue/pid/master.pid"; then
		return 0
	fi
	peers_ca && dovecot_start && smarthost_conf && smarthost_queue ||
	    return 1
	# master -w directly: "postfix start" spends 2.5 s in "postfix
	# check", which only makes the queue directories made above.
	# (postconf itself takes ~2 s here, so the Debian path comes first.)
	local m=/usr/lib/postfix/sbin/master
	[ -x "$m" ] || m=$(postconf -c "$d/conf" -h daemon_directory)/master
	if ! "$m" -c "$d/conf" -w >>"$d/start.log" 2>&1 &&
	    ! postfix -c "$d/conf" start >>"$d/start.log" 2>&1; then
		echo "peers: postfix did not start, see $d/start.log" >&2
		cat "$d/start.log" >&2
		return 1
	fi
	wait_port 127.0.0.1 "$PEERS_SMTP_PORT" 10 &&
	    wait_port 127.0.0.1 "$PEERS_SUBMISSION_PORT" 10 &&
	    wait_port 127.0.0.1 "$PEERS_SMTPS_PORT" 10
}

# postfix_smarthost_stop: SIGTERM to the master pid (postfix stop sleeps
# in 1 s steps), then wait until the ports close.
postfix_smarthost_stop()
{
	peers_init || return 1
	local d=$PEERS_DIR/postfix
	pid_alive "$d/queue/pid/master.pid" || return 0
	pid_stop "$d/queue/pid/master.pid" 10
	wait_port_closed 127.0.0.1 "$PEERS_SMTP_PORT" 5
	wait_port_closed 127.0.0.1 "$PEERS_SUBMISSION_PORT" 5
	wait_port_closed 127.0.0.1 "$PEERS_SMTPS_PORT" 5
}

# postfix_smarthost_allow_tempfail: tempfail@ is accepted from now on.
postfix_smarthost_allow_tempfail()
{
	peers_init || return 1
	smarthost_access 1 && smarthost_reload
}

# postfix_smarthost_deny_tempfail: back to 450 for tempfail@.
postfix_smarthost_deny_tempfail()
{
	peers_init || return 1
	smarthost_access 0 && smarthost_reload
}

# smarthost_reload: reload, confirmed by the master's "reload" log line;
# a restart when that line does not come (reload can fail silently).
smarthost_reload()
{
	local d=$PEERS_DIR/postfix n i=0
	pid_alive "$d/queue/pid/master.pid" || return 0
	n=$(grep -c 'reload -- version' "$d/maillog" 2>/dev/null)
	postfix -c "$d/conf" reload >>"$d/start.log" 2>&1
	while [ "$i" -lt 40 ]; do
		if [ "$(grep -c 'reload -- version' "$d/maillog")" -gt "${n:-0}" ]
		then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "peers: reload not confirmed, restarting postfix" >>"$d/start.log"
	postfix_smarthost_stop && postfix_smarthost_start
}

# smarthost_messages: paths of the delivered maildir files, oldest first.
smarthost_messages()
{
	peers_init || return 1
	local m=$PEERS_SMARTHOST_MAIL
	ls -1tr "$m"/new/* "$m"/cur/* 2>/dev/null
}

# smarthost_count: how many messages the smarthost delivered.
smarthost_count()
{
	smarthost_messages | wc -l
}

# smarthost_wait_count N [TIMEOUT_S]: 0 once at least N are delivered
# (the queue manager delivers a moment after the 250).
smarthost_wait_count()
{
	local want=$1 t=${2:-10} i=0
	while [ "$(smarthost_count)" -lt "$want" ]; do
		i=$((i + 1))
		[ "$i" -gt $((t * 20)) ] && return 1
		sleep 0.05
	done
}

# ------------------------------------------------------------ fault proxy

# faultproxy_start LISTEN_PORT TARGET_HOST TARGET_PORT [faultproxy.py
# options]: runs tests/lib/faultproxy.py in the background.
faultproxy_start()
{
	peers_init || return 1
	local p=$1
	mkdir -p "$PEERS_DIR/proxy"
	pid_alive "$PEERS_DIR/proxy/$p.pid" && return 0
	python3 "$PEERS_LIB/faultproxy.py" "$@" \
	    >>"$PEERS_DIR/proxy/$p.log" 2>&1 &
	echo $! >"$PEERS_DIR/proxy/$p.pid"
	# Not wait_port: a probe would use up the proxy's first connection.
	local i=0
	until grep -q "listening on .*:$p " "$PEERS_DIR/proxy/$p.log"; do
		pid_alive "$PEERS_DIR/proxy/$p.pid" || return 1
		i=$((i + 1))
		[ "$i" -gt 100 ] && return 1
		sleep 0.05
	done
}

# faultproxy_stop LISTEN_PORT
faultproxy_stop()
{
	peers_init || return 1
	pid_stop "$PEERS_DIR/proxy/$1.pid" 2
}

# ------------------------------------------------------------------ sink

# sink_start PORT [sink.py options]: a scripted SMTP (or --lmtp) server
# keeping messages in $PEERS_DIR/sink/PORT/N.eml + N.env.
sink_start()
{
	peers_init || return 1
	local p=$1
	shift
	mkdir -p "$PEERS_DIR/sink/$p"
	pid_alive "$PEERS_DIR/sink/$p.pid" && return 0
	python3 "$PEERS_LIB/sink.py" "$p" "$PEERS_DIR/sink/$p" "$@" \
	    >>"$PEERS_DIR/sink/$p.log" 2>&1 &
	echo $! >"$PEERS_DIR/sink/$p.pid"
	wait_port 127.0.0.1 "$p" 5
}

# sink_count PORT: messages the sink on PORT kept.
sink_count()
{
	peers_init || return 1
	find "$PEERS_DIR/sink/$1" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l
}

# sink_stop PORT
sink_stop()
{
	peers_init || return 1
	pid_stop "$PEERS_DIR/sink/$1.pid" 2
}

# --------------------------------------------------------------- cleanup

# peers_logs: the tails of every log, for a failing test's output.
peers_logs()
{
	peers_init || return 1
	local f
	for f in "$PEERS_DIR"/postfix/maillog "$PEERS_DIR"/postfix/start.log \
	    "$PEERS_DIR"/dovecot/dovecot.log "$PEERS_DIR"/proxy/*.log \
	    "$PEERS_DIR"/sink/*.log; do
		[ -s "$f" ] || continue
		echo "==== $f"
		tail -n "${1:-30}" "$f"
	done
}

# peers_stop_all: for a trap. Stops whatever runs; removes $PEERS_DIR when
# peers_init made it, unless PEERS_KEEP=1.
peers_stop_all()
{
	[ -n "${PEERS_DIR:-}" ] || return 0
	peers_init || return 0
	local f
	for f in "$PEERS_DIR"/proxy/*.pid "$PEERS_DIR"/sink/*.pid; do
		[ -f "$f" ] && pid_stop "$f" 2
	done
	postfix_smarthost_stop
	dovecot_stop
	if [ -n "${PEERS_OWN_DIR:-}" ] && [ "${PEERS_KEEP:-0}" != 1 ]; then
		rm -rf "$PEERS_DIR"
	fi
	return 0
}
