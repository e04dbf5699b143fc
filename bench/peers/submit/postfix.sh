# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Postfix 3.7 as an MSA, for submit.sh (sourced after peers/postfix.sh, whose
# peer_count and peer_stop it reuses): a private instance (`-c DIR`, no
# chroot) whose only listener is smtpd on 127.0.0.1:PORT. Mail is only
# queued: defer_transports = smtp (the documented dial-up set-up) and the
# relayhost is a closed loopback port. 127.0.0.1 is in mynetworks
# (mynetworks_style = host at compatibility level 3.6), so smtpd accepts
# relaying from it without AUTH, as tern's loopback listener does.

# msa_setup DIR PORT: a fresh instance, started and listening.
msa_setup()
{
	mkdir -p "$1/etc" "$1/spool" "$1/data"
	cat >"$1/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $1/spool
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
relayhost = [127.0.0.1]:9
inet_interfaces = loopback-only
inet_protocols = ipv4
defer_transports = smtp
maillog_file = $1/maillog
maillog_file_prefixes = $1
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no
CONF
	# more main.cf lines from a caller (peers/pull/postfix.sh)
	[ -z "${MSA_EXTRA:-}" ] || printf '%s\n' "$MSA_EXTRA" >>"$1/etc/main.cf"
	awk '$1 == "smtp" && $2 == "inet" { next }
	    /^[a-z]/ && NF >= 8 { $5 = "n" } { print }' \
	    /etc/postfix/master.cf >"$1/etc/master.cf"
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$2" >>"$1/etc/master.cf"
	chown postfix "$1/data"
	postfix -c "$1/etc" check >/dev/null 2>&1
	postfix -c "$1/etc" start >/dev/null 2>&1 ||
	    { PEER_SKIP="postfix -c start failed"; return 1; }
	wait_listen "$2" || { PEER_SKIP="postfix smtpd not listening"; return 1; }
}

# msa_daemons DIR: master, qmgr and pickup of the instance (pids).
msa_daemons()
{
	m=$(tr -d ' ' <"$1/spool/pid/master.pid" 2>/dev/null)
	[ -n "$m" ] || return 0
	echo "$m"
	ps -o pid=,comm= --ppid "$m" | awk '$2 == "qmgr" || $2 == "pickup" {
	    print $1 }'
}
