# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# dma 0.13, flush side (sourced after peers/dma.sh; same private mount
# namespace for /etc/dma). Link down: DEFER, dma's dial-up mode, only
# queues. The flush is `dma -q`: it forks one child per queued message at
# once (SIGCHLD ignored, so the children are never waited for) and each
# child opens its own connection to the smarthost.

flush_setup()
{
	mkdir -p "$1/etc" "$1/spool"
	: >"$1/etc/aliases"
	: >"$1/etc/auth.conf"
	cat >"$1/etc/dma.conf" <<CONF
SMARTHOST 127.0.0.1
PORT $2
ALIASES $1/etc/aliases
SPOOLDIR $1/spool
AUTHPATH $1/etc/auth.conf
MAILNAME bench.test
NULLCLIENT
DEFER
CONF
	chown root:mail "$1/spool"
	chmod 2775 "$1/spool"
	ns_expose /etc/dma "$1/etc"
	INJECT="$DMA/usr/sbin/dma -i -f bench@example.org rcpt@example.org"
	QPAR=2
	# daemon(3) takes the children out of our session: count every dma.
	FLUSH_COMM=dma
	FLUSH_ANYSID=1
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
	flush_fg "$1" "$DMA/usr/sbin/dma" -q
}

flush_stop()
{
	flush_wait_fg
}
