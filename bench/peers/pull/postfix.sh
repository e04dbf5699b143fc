# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Postfix 3.7 delivering to a maildir, the reference of pull.sh (sourced
# after peers/postfix.sh and peers/submit/postfix.sh): a private instance
# (`-c DIR`, no chroot) with smtpd on 127.0.0.1:PORT; home.example is a
# virtual mailbox domain whose every recipient is the maildir
# DIR/mail/me/ (virtual(8), uid/gid mail). virtual(8) fsyncs each
# delivered file, cleanup(8) the queue file: durable like tern.

# mdir_setup DIR PORT: a fresh instance, started and listening.
mdir_setup()
{
	mkdir -p "$1/mail"
	chown mail:mail "$1/mail"
	MSA_EXTRA="virtual_mailbox_domains = home.example
virtual_mailbox_base = $1/mail
virtual_mailbox_maps = static:me/
virtual_uid_maps = static:8
virtual_gid_maps = static:8
virtual_minimum_uid = 8"
	msa_setup "$1" "$2"
	st=$?
	MSA_EXTRA=
	return $st
}
