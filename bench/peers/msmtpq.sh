# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# msmtpq 1.8.23 (the bash queue script shipped with msmtp; Debian package
# and its libraries extracted, not installed). For reference only: it
# writes the queue with cat/echo and never fsyncs, so it is not durable.
# EMAIL_CONN_TEST=x skips the ping test (which would wait on DNS here);
# msmtpq then runs msmtp, which finds the loopback port closed, and the
# mail stays queued: the offline path of every injection.

MS=$PEERS/msmtp

peer_fetch()
{
	[ -x "$MS/usr/bin/msmtp" ] ||
	    fetch_debs "$MS" msmtp libgsasl18 libsecret-1-0 libidn12 \
	    libntlm0 libgssglue1
}

peer_version()
{
	deb_version msmtp
}

peer_setup()
{
	mkdir -p "$1/queue"
	chmod 0700 "$1/queue"
	cat >"$1/.msmtprc" <<CONF
defaults
auth off
tls off
account default
host 127.0.0.1
port 9
from bench@example.org
CONF
	chmod 0600 "$1/.msmtprc"
	HOME=$1
	MSMTP=$MS/usr/bin/msmtp
	MSMTPQ_Q=$1/queue
	MSMTPQ_LOG=$1/msmtpq.log
	EMAIL_CONN_TEST=x
	EMAIL_QUEUE_QUIET=t
	LD_LIBRARY_PATH=$MS/usr/lib/x86_64-linux-gnu
	export HOME MSMTP MSMTPQ_Q MSMTPQ_LOG EMAIL_CONN_TEST EMAIL_QUEUE_QUIET
	export LD_LIBRARY_PATH
	INJECT="$MS/usr/libexec/msmtp/msmtpq/msmtpq -i -f bench@example.org rcpt@example.org"
}

# One message is a .mail file (body) plus a .msmtp file (command line).
peer_count()
{
	find "$1/queue" -type f -name '*.mail' | wc -l
}

peer_stop()
{
	:
}
