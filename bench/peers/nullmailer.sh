# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# nullmailer 2.2 (Debian package, extracted, not installed). Its paths are
# compiled in (/etc/nullmailer, /var/spool/nullmailer, /usr/lib/nullmailer,
# /usr/bin/nullmailer-inject, /usr/sbin/nullmailer-queue), so enqueue.sh
# runs it in a private mount namespace where those paths are links into the
# instance. nullmailer-send is NOT started: `sendmail` -> nullmailer-inject
# -> nullmailer-queue writes and fsyncs the queue file, pokes the trigger
# FIFO that nobody reads, and returns. remotes points at a closed port.

NM=$PEERS/nullmailer

peer_fetch()
{
	[ -x "$NM/usr/sbin/nullmailer-queue" ] || fetch_debs "$NM" nullmailer
}

peer_version()
{
	deb_version nullmailer
}

peer_setup()
{
	mkdir -p "$1/etc" "$1/spool/queue" "$1/spool/tmp" "$1/spool/failed"
	mkfifo "$1/spool/trigger"
	# Debian's nullmailer ignores etc/me (it reads /etc/mailname).
	echo example.org >"$1/etc/defaultdomain"
	echo "127.0.0.1 smtp --port=9" >"$1/etc/remotes"
	chmod 0600 "$1/etc/remotes"
	# as packaged: nullmailer-queue runs as mail and writes the spool
	chown -R mail:mail "$1/spool" "$1/etc/remotes"
	ns_expose /etc/nullmailer "$1/etc"
	ns_expose /var/spool/nullmailer "$1/spool"
	ns_expose /usr/lib/nullmailer "$NM/usr/lib/nullmailer"
	ns_expose /usr/bin/nullmailer-inject "$NM/usr/bin/nullmailer-inject"
	ns_expose /usr/sbin/nullmailer-queue "$NM/usr/sbin/nullmailer-queue"
	INJECT="$NM/usr/sbin/sendmail -i -f bench@example.org rcpt@example.org"
}

peer_count()
{
	find "$1/spool/queue" -type f | wc -l
}

peer_stop()
{
	:
}
