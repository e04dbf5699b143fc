# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# msmtpq 1.8.23, flush side (sourced after peers/msmtpq.sh). Link down: the
# sink is not listening while the queue is filled, so msmtp fails and
# msmtpq keeps each mail. The flush is `msmtpq --q-mgmt -r` (what
# msmtp-queue -r runs): a bash loop running one msmtp, hence one
# connection, per message. That is slow enough that it flushes a twentieth
# of N (FLUSH_N); msgs/s stays comparable.

flush_setup()
{
	mkdir -p "$1/queue"
	chmod 0700 "$1/queue"
	cat >"$1/.msmtprc" <<CONF
defaults
auth off
tls off
account default
host 127.0.0.1
port $2
domain bench.test
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
	QPAR=1
	FLUSH_COMM=
	FLUSH_N=$((N / 20))
	[ "$FLUSH_N" -ge 10 ] || FLUSH_N=$N
}

flush_park()
{
	:
}

flush_ready()
{
	:
}

flush_go()
{
	flush_fg "$1" "$MS/usr/libexec/msmtp/msmtpq/msmtpq" --q-mgmt -r
}

flush_stop()
{
	flush_wait_fg
}
