# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# tern, flush side (sourced by flush.sh after peers/tern.sh). The smarthost
# is the sink on loopback, plain SMTP (`tls none` is allowed only because
# the host is loopback). "Link down" is simply: no ternd running, so
# `sendmail` commits to LMDB and returns; `tern flush` then delivers
# in-process over one connection (PIPELINING when the server offers it).

flush_setup()
{
	mkdir -p "$1"
	cat >"$1/tern.conf" <<CONF
hostname bench.test
state $1/state
submit off

[smarthost]
host 127.0.0.1
port $2
tls none
CONF
	TERN_CONFIG=$1/tern.conf
	export TERN_CONFIG
	INJECT="$TERN sendmail -i -f bench@example.org rcpt@example.org"
	QPAR=2
	FLUSH_COMM=
}

flush_park()
{
	:
}

flush_ready()
{
	:
}

# The whole flush is one process: its ru_maxrss is the peak RSS.
flush_go()
{
	flush_fg "$1" "$TERN" flush
}

flush_stop()
{
	flush_wait_fg
}
