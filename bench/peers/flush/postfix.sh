# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Postfix 3.7, flush side (sourced after peers/postfix.sh): a private
# instance (`-c DIR`, no listener, no chroot) relaying everything to
# relayhost = [127.0.0.1]:PORT. Link down: defer_transports = smtp, its
# documented dial-up set-up. The flush is `postqueue -f`, which per
# postconf(5) is the "sendmail -q" that makes the deferred transports
# deliver: qmgr hands the queue to up to 20 smtp(8) processes, which
# pipeline and cache their connections. Peak RSS: the largest qmgr/smtp
# process of the instance (VmHWM, sampled; they outlive the flush).

flush_setup()
{
	mkdir -p "$1/etc" "$1/spool" "$1/data"
	cat >"$1/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $1/spool
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.test
mydomain = example.org
myorigin = example.org
mydestination =
relayhost = [127.0.0.1]:$2
inet_interfaces = loopback-only
inet_protocols = ipv4
defer_transports = smtp
maillog_file = $1/maillog
maillog_file_prefixes = $1
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtp_sasl_auth_enable = no
biff = no
append_dot_mydomain = no
CONF
	awk '$1 == "smtp" && $2 == "inet" { next }
	    /^[a-z]/ && NF >= 8 { $5 = "n" } { print }' \
	    /etc/postfix/master.cf >"$1/etc/master.cf"
	chown postfix "$1/data"
	postfix -c "$1/etc" check >/dev/null 2>&1
	flush_ready "$1" || return 1
	INJECT="$PF_SENDMAIL -C $1/etc -i -f bench@example.org rcpt@example.org"
	QPAR=2
	FLUSH_COMM="qmgr smtp"
}

flush_park()
{
	peer_count "$1" >/dev/null	# pickup and qmgr are done
	postfix -c "$1/etc" stop >/dev/null 2>&1
	t=0
	while postfix -c "$1/etc" status >/dev/null 2>&1 && [ $t -lt 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
}

# A restored copy has new inode numbers: `postfix start` renames the queue
# files (postsuper -s) and logs that as the mail owner.
flush_ready()
{
	[ ! -f "$1/maillog" ] || chown postfix "$1/maillog"
	postfix -c "$1/etc" start >/dev/null 2>&1 ||
	    { PEER_SKIP="postfix -c start failed"; return 1; }
	t=0
	until postfix -c "$1/etc" status >/dev/null 2>&1; do
		t=$((t + 1))
		[ $t -lt 100 ] || { PEER_SKIP="postfix did not start"; return 1; }
		sleep 0.1
	done
}

# master runs setsid: its session holds every daemon of the instance.
flush_go()
{
	tr -d ' ' <"$1/spool/pid/master.pid" >"$1.sid"
	FLUSH_PID=
	postqueue -c "$1/etc" -f
}

flush_stop()
{
	postfix -c "$1/etc" stop >/dev/null 2>&1
}
