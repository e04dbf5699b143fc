# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# nullmailer 2.2 idle, for submit.sh (sourced after peers/nullmailer.sh,
# inside a private mount namespace): an empty queue and nullmailer-send
# running as mail, as packaged, waiting on its trigger FIFO. Its context
# switches over the idle window are what a nullmailer node costs idle.

# nm_idle DIR PIDFILE: runs nullmailer-send until it is killed (by pid);
# its pid goes to PIDFILE.
nm_idle()
{
	peer_setup "$1" || return 1
	ns_mount
	setpriv --reuid=mail --regid=mail --init-groups \
	    "$NM/usr/sbin/nullmailer-send" >"$1.log" 2>&1 &
	echo $! >"$2"
	wait $!
}
