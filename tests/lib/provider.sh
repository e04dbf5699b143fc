# SPDX-License-Identifier: ISC
# provider.sh: a second private Postfix instance playing the user's ETRN
# provider (RFC 1985): it relays home.example to the node's inbound
# listener and keeps what it cannot deliver until asked by ETRN. Source it
# after tests/lib/peers.sh (bash only); it reuses peers_init, wait_port,
# wait_port_closed and pid_*. Never touches /etc/postfix.
#
# Lives under $PEERS_DIR/provider. Ports, offsets from $PEERS_PORT_BASE
# that peers.sh does not use:
#
#   PROVIDER_SMTP_PORT   BASE+825   smtpd: takes mail for home.example from
#                                   anyone, ETRN only from 127.0.0.0/8
#   PROVIDER_NODE_PORT   BASE+826   where home.example is relayed to (the
#                                   node's listener), unless provider_start
#                                   is given another port
#
# To prove that ETRN, and nothing else, made the provider deliver, it never
# retries on its own within a test: queue_run_delay and the back-off times
# are an hour (peers.md, "Postfix as the ETRN provider"). A domain outside
# fast_flush_domains (= home.example) gets "459 ... service unavailable";
# Postfix ignores the "@" / "#" refinements of RFC 1985 section 5.
#
# Functions: provider_start [NODE_PORT], provider_stop, provider_inject N
# [RCPT], provider_queue_count [QUEUE], provider_wait_count N [QUEUE]
# [TIMEOUT_S], provider_etrn DOMAIN, provider_logs. Each returns 0 or 1
# and never exits.

# provider_init: the paths and ports; idempotent.
provider_init()
{
	peers_init || return 1
	local b=${PEERS_PORT_BASE:-20000}
	PROVIDER_DIR=$PEERS_DIR/provider
	PROVIDER_SMTP_PORT=$((b + 825))
	: "${PROVIDER_NODE_PORT:=$((b + 826))}"
	PROVIDER_INJECTED=$PROVIDER_DIR/injected
	export PROVIDER_DIR PROVIDER_SMTP_PORT PROVIDER_NODE_PORT \
	    PROVIDER_INJECTED
}

# provider_conf: main.cf and master.cf of the private instance.
provider_conf()
{
	local d=$PROVIDER_DIR
	mkdir -p "$d/conf" "$d/queue" "$d/data" "$PROVIDER_INJECTED" || return 1
	chown postfix "$d/data"
	chmod 0755 "$d"
	cat >"$d/conf/main.cf" <<EOF
# Written by tests/lib/provider.sh; a private instance (postfix -c $d/conf).
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
# Distinct from the node's and the smarthost's names: Postfix refuses to
# deliver to a server greeting with its own name (a loop).
myhostname = provider.test
mydomain = test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Loopback is trusted for ETRN only; relaying is decided by relay_domains
# alone (no permit_mynetworks there, so not an open relay even locally).
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_etrn_restrictions = permit_mynetworks, reject
mydestination =
relay_domains = home.example
fast_flush_domains = \$relay_domains
transport_maps = inline:{ home.example=smtp:[127.0.0.1]:$PROVIDER_NODE_PORT }
# Hold deferred mail for an hour: only ETRN may release it in a test.
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s
smtp_connect_timeout = 5s
smtp_tls_security_level = none
# A bare LF from the injector is a harness bug: refuse it (550 5.5.2).
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
local_header_rewrite_clients =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP tern-test-provider
alias_maps =
alias_database =
EOF
	cat >"$d/conf/master.cf" <<EOF
# Written by tests/lib/provider.sh. chroot n everywhere: the queue has no
# copies of /etc files.
127.0.0.1:$PROVIDER_SMTP_PORT inet n - n - - smtpd
$(postfix_services)
EOF
}

# provider_queue_dirs: the queue directories, as "postfix check" makes them.
provider_queue_dirs()
{
	local q=$PROVIDER_DIR/queue x
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

# provider_start [NODE_PORT]: relays home.example to 127.0.0.1:NODE_PORT
# (default $PROVIDER_NODE_PORT). Nothing needs to listen there yet.
provider_start()
{
	provider_init || return 1
	[ -n "${1:-}" ] && PROVIDER_NODE_PORT=$1
	local d=$PROVIDER_DIR
	pid_alive "$d/queue/pid/master.pid" && return 0
	provider_conf && provider_queue_dirs || return 1
	# master -w directly, as in peers.sh: "postfix start" spends 2.5 s
	# in "postfix check".
	local m=/usr/lib/postfix/sbin/master
	[ -x "$m" ] || m=$(postconf -c "$d/conf" -h daemon_directory)/master
	if ! "$m" -c "$d/conf" -w >>"$d/start.log" 2>&1 &&
	    ! postfix -c "$d/conf" start >>"$d/start.log" 2>&1; then
		echo "provider: postfix did not start, see $d/start.log" >&2
		cat "$d/start.log" >&2
		return 1
	fi
	wait_port 127.0.0.1 "$PROVIDER_SMTP_PORT" 10
}

# provider_stop: SIGTERM to the master, then wait for the port to close.
provider_stop()
{
	[ -n "${PEERS_DIR:-}" ] || return 0
	provider_init || return 1
	pid_alive "$PROVIDER_DIR/queue/pid/master.pid" || return 0
	pid_stop "$PROVIDER_DIR/queue/pid/master.pid" 10
	wait_port_closed 127.0.0.1 "$PROVIDER_SMTP_PORT" 5
}

# provider_inject N [RCPT]: N messages for RCPT (user@home.example) into
# the provider over SMTP, one session, BODY=8BITMIME. Each is also kept,
# LF line ends, as $PROVIDER_INJECTED/K.eml (K = 1..N, numbering goes on
# across calls); its first header is "From: far@remote.test" and its
# Message-ID <etrn-K@remote.test>. Bodies are 8-bit UTF-8 and have lines
# starting with "." (one is a lone "."), so dot-stuffing is exercised.
provider_inject()
{
	provider_init || return 1
	python3 - "$PROVIDER_SMTP_PORT" "$PROVIDER_INJECTED" "$1" \
	    "${2:-user@home.example}" >>"$PROVIDER_DIR/inject.log" 2>&1 <<'PY'
import os, smtplib, sys
port, out, n, rcpt = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
first = len([f for f in os.listdir(out) if f.endswith(".eml")]) + 1
s = smtplib.SMTP("127.0.0.1", port, local_hostname="remote.test")
s.ehlo()
for k in range(first, first + n):
    body = [".leading dot %d" % k, "..two dots", ".", " .", "",
            "\u00e9t\u00e9 8-bit \u00fc\u00f1\u2014 \U0001f426 %d" % k]
    body += ["line %d of message %d %s" % (i, k, "x" * (i % 70))
             for i in range(k * 40)]
    body += [".", "end %d" % k]
    msg = ("From: far@remote.test\nTo: %s\nSubject: etrn %d\n"
           "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Message-ID: <etrn-%d@remote.test>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n%s\n"
           % (rcpt, k, k, "\n".join(body))).encode()
    with open(os.path.join(out, "%d.eml" % k), "wb") as f:
        f.write(msg)
    # smtplib dot-stuffs (RFC 5321 4.5.2) but sends bytes with the line
    # ends it is given: CRLF here, or it appends a CRLF (an extra line).
    s.sendmail("far@remote.test", [rcpt], msg.replace(b"\n", b"\r\n"),
               mail_options=["BODY=8BITMIME"])
    print("injected %d" % k)
s.quit()
PY
}

# provider_queue_count [QUEUE]: messages in the provider's QUEUE (deferred
# by default; also active, incoming, hold). Counts the queue files, which
# is what "postqueue -p" lists, without its ~1 s of start-up.
provider_queue_count()
{
	provider_init || return 1
	find "$PROVIDER_DIR/queue/${1:-deferred}" -type f 2>/dev/null | wc -l
}

# provider_wait_count N [QUEUE] [TIMEOUT_S]: 0 once exactly N messages
# are in QUEUE (deferred) and none are still incoming or active.
provider_wait_count()
{
	local want=$1 qn=${2:-deferred} t=${3:-10} i=0
	until [ "$(provider_queue_count "$qn")" -eq "$want" ] &&
	    [ "$(provider_queue_count incoming)" -eq 0 ] &&
	    [ "$(provider_queue_count active)" -eq 0 ]; do
		i=$((i + 1))
		[ "$i" -gt $((t * 20)) ] && return 1
		sleep 0.05
	done
}

# provider_etrn DOMAIN: a bare RFC 1985 client (EHLO, ETRN DOMAIN, QUIT);
# prints the ETRN reply line; 0 if it was 250-253.
provider_etrn()
{
	provider_init || return 1
	python3 - "$PROVIDER_SMTP_PORT" "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="node.test")
s.ehlo()
if not s.has_extn("etrn"):
    print("ETRN not offered")
    sys.exit(1)
code, text = s.docmd("ETRN", sys.argv[2])
s.quit()
print(code, text.decode())
sys.exit(0 if 250 <= code <= 253 else 1)
PY
}

# provider_logs [LINES]: the tails of the provider's logs.
provider_logs()
{
	[ -n "${PEERS_DIR:-}" ] || return 0
	provider_init || return 1
	local f
	for f in "$PROVIDER_DIR"/maillog "$PROVIDER_DIR"/start.log \
	    "$PROVIDER_DIR"/inject.log; do
		[ -s "$f" ] || continue
		echo "==== $f"
		tail -n "${1:-30}" "$f"
	done
}
