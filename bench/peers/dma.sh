# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# dma 0.13 (Debian package, extracted, not installed). Only its config
# path /etc/dma/dma.conf is compiled in; enqueue.sh shows it a link into
# the instance from a private mount namespace. DEFER: dma writes and fsyncs
# the spool files and exits without trying delivery (its dial-up mode,
# flushed by `dma -q`); the smarthost is a closed loopback port anyway.

DMA=$PEERS/dma

peer_fetch()
{
	[ -x "$DMA/usr/sbin/dma" ] || fetch_debs "$DMA" dma
}

peer_version()
{
	deb_version dma
}

peer_setup()
{
	mkdir -p "$1/etc" "$1/spool"
	: >"$1/etc/aliases"
	: >"$1/etc/auth.conf"
	cat >"$1/etc/dma.conf" <<CONF
SMARTHOST 127.0.0.1
PORT 9
ALIASES $1/etc/aliases
SPOOLDIR $1/spool
AUTHPATH $1/etc/auth.conf
MAILNAME bench.example.org
NULLCLIENT
DEFER
CONF
	# as packaged: the spool belongs to group mail, dma is setgid mail
	chown root:mail "$1/spool"
	chmod 2775 "$1/spool"
	ns_expose /etc/dma "$1/etc"
	INJECT="$DMA/usr/sbin/dma -i -f bench@example.org rcpt@example.org"
}

# One message is a Q file (envelope) plus an M file (body).
peer_count()
{
	find "$1/spool" -type f -name 'Q*' | wc -l
}

peer_stop()
{
	:
}
