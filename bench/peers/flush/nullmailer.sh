# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# nullmailer 2.2, flush side (sourced after peers/nullmailer.sh; runs in the
# same private mount namespace). Link down: nullmailer-send is not running,
# so `sendmail` only queues. The flush is starting nullmailer-send, which
# delivers the whole queue at once, running the `smtp` protocol module per
# message; it is a daemon and never exits, so it is stopped (SIGTERM) once
# the sink has every message.

flush_setup()
{
	mkdir -p "$1/etc" "$1/spool/queue" "$1/spool/tmp" "$1/spool/failed"
	mkfifo "$1/spool/trigger"
	echo example.org >"$1/etc/defaultdomain"
	echo bench.test >"$1/etc/me"
	echo "127.0.0.1 smtp --port=$2" >"$1/etc/remotes"
	chmod 0600 "$1/etc/remotes"
	chown -R mail:mail "$1/spool" "$1/etc/remotes"
	ns_expose /etc/nullmailer "$1/etc"
	ns_expose /var/spool/nullmailer "$1/spool"
	ns_expose /usr/lib/nullmailer "$NM/usr/lib/nullmailer"
	ns_expose /usr/bin/nullmailer-inject "$NM/usr/bin/nullmailer-inject"
	ns_expose /usr/sbin/nullmailer-queue "$NM/usr/sbin/nullmailer-queue"
	INJECT="$NM/usr/sbin/sendmail -i -f bench@example.org rcpt@example.org"
	QPAR=2
	FLUSH_COMM=
	# about 50 ms a message (one module run and connection each): a
	# twentieth of N keeps a full run short; msgs/s stays comparable.
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

# As packaged (systemd User=mail), nullmailer-send runs as mail.
flush_go()
{
	flush_fg "$1" setpriv --reuid=mail --regid=mail --init-groups \
	    "$NM/usr/sbin/nullmailer-send"
}

flush_stop()
{
	flush_kill_fg
}
