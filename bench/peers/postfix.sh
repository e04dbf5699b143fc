# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Postfix 3.7 as installed by apt for the test suite, run as a private
# instance (`-c DIR`, its own queue and data directories, no network
# listener). `sendmail` -> postdrop writes and fsyncs a maildrop file and
# signals pickup; the instance's master runs pickup -> cleanup -> qmgr,
# and defer_transports = smtp (Postfix's documented dial-up set-up) keeps
# every message queued. Only the instance started here is ever stopped.

PF_SENDMAIL=/usr/sbin/sendmail

peer_fetch()
{
	if ! command -v postfix >/dev/null 2>&1 ||
	    ! "$PF_SENDMAIL" -bV 2>/dev/null | grep -q .; then
		[ -x /usr/sbin/postdrop ] || {
			PEER_SKIP="postfix not installed (apt-get install postfix)"
			return 1
		}
	fi
}

peer_version()
{
	postconf -d -h mail_version 2>/dev/null
}

peer_setup()
{
	mkdir -p "$1/etc" "$1/spool" "$1/data"
	cat >"$1/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $1/spool
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.example.org
mydomain = example.org
myorigin = example.org
mydestination =
relayhost =
inet_interfaces = loopback-only
inet_protocols = ipv4
defer_transports = smtp
maillog_file = $1/maillog
maillog_file_prefixes = $1
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no
CONF
	# Debian's master.cf without the port-25 listener and without chroot
	# (a private instance has no copy of /etc in its queue directory).
	awk '$1 == "smtp" && $2 == "inet" { next }
	    /^[a-z]/ && NF >= 8 { $5 = "n" } { print }' \
	    /etc/postfix/master.cf >"$1/etc/master.cf"
	chown postfix "$1/data"
	postfix -c "$1/etc" check >/dev/null 2>&1
	if [ -n "$DAEMON_TRACE" ]; then
		# strace -f stays attached to the master it starts, so it
		# runs in the background until peer_stop.
		strace -f -qq -e trace="$STRACE_SET" -o "$DAEMON_TRACE" \
		    postfix -c "$1/etc" start >/dev/null 2>&1 &
		PEER_BG=$!
	else
		postfix -c "$1/etc" start >/dev/null 2>&1 ||
		    { PEER_SKIP="postfix -c start failed"; return 1; }
	fi
	t=0
	until postfix -c "$1/etc" status >/dev/null 2>&1; do
		t=$((t + 1))
		[ $t -lt 100 ] || { PEER_SKIP="postfix did not start"; return 1; }
		sleep 0.1
	done
	INJECT="$PF_SENDMAIL -C $1/etc -i -f bench@example.org rcpt@example.org"
}

# peer_count DIR: waits (up to 60 s) until pickup and qmgr have taken
# everything out of maildrop and incoming, then counts queue files.
peer_count()
{
	t=0
	while [ $t -lt 600 ] &&
	    [ "$(find "$1/spool/maildrop" "$1/spool/incoming" -type f |
	    wc -l)" -gt 0 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	find "$1/spool/maildrop" "$1/spool/incoming" "$1/spool/active" \
	    "$1/spool/deferred" "$1/spool/hold" -type f 2>/dev/null | wc -l
}

peer_stop()
{
	postfix -c "$1/etc" stop >/dev/null 2>&1
	if [ -n "$PEER_BG" ]; then
		wait "$PEER_BG"
		PEER_BG=
	fi
}
