# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Dovecot 2.3 LMTP, for pull.sh: a private instance (its own base_dir,
# config and log; no IMAP, no inet listener) with one user, `me`, whose
# maildir is DIR/mail/me. Configured like tests/lib/peers.sh's Dovecot,
# reduced to LMTP on a unix socket. mail_fsync is left at its default
# (optimized), so Dovecot syncs what it needs for durability.

# dc_start DIR: a fresh instance; sets DC_SOCKET and DC_MASTER (pid).
dc_start()
{
	rm -rf "$1"
	mkdir -p "$1/run" "$1/state" "$1/mail"
	chown mail:mail "$1/mail"
	chmod 0755 "$1" "$1/run" "$1/state"
	echo "me:{PLAIN}secret:8:8::$1/mail/me::" >"$1/passwd"
	cat >"$1/dovecot.conf" <<CONF
# Written by bench/peers/pull/dovecot.sh; a private instance.
base_dir = $1/run
state_dir = $1/state
instance_name = tern-bench-dovecot
log_path = $1/dovecot.log
info_log_path = $1/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
auth_username_format = %Ln
first_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:$1/mail/%n
passdb {
  driver = passwd-file
  args = scheme=PLAIN $1/passwd
}
userdb {
  driver = passwd-file
  args = $1/passwd
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
CONF
	DC_SOCKET=$1/run/lmtp
	dovecot -c "$1/dovecot.conf" >>"$1/start.log" 2>&1 ||
	    { PEER_SKIP="dovecot did not start (see $1/start.log)"; return 1; }
	t=0
	until [ -S "$DC_SOCKET" ] && [ -s "$1/run/master.pid" ]; do
		t=$((t + 1))
		[ $t -lt 100 ] || { PEER_SKIP="dovecot: no LMTP socket"; return 1; }
		sleep 0.05
	done
	read -r DC_MASTER <"$1/run/master.pid"
}

dc_stop()
{
	[ -n "${DC_MASTER:-}" ] || return 0
	kill -TERM "$DC_MASTER" 2>/dev/null
	t=0
	while kill -0 "$DC_MASTER" 2>/dev/null && [ $t -lt 100 ]; do
		sleep 0.05
		t=$((t + 1))
	done
	DC_MASTER=
}

dc_version()
{
	dovecot --version 2>/dev/null | awk '{ print $1 }'
}
