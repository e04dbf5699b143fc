# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# tern: build/tern from this tree, no smarthost, no daemon: `sendmail`
# commits to the LMDB queue and returns. Sourced by enqueue.sh.

TERN=${TERN:-$ROOT/build/tern}

peer_fetch()
{
	[ -x "$TERN" ] || { PEER_SKIP="not built"; return 1; }
}

peer_version()
{
	(cd "$ROOT" && git describe --always --dirty 2>/dev/null) || echo "?"
}

# peer_setup DIR: a fresh instance; sets INJECT.
peer_setup()
{
	mkdir -p "$1"
	cat >"$1/tern.conf" <<CONF
# only queue: no [smarthost], so nothing goes out
hostname bench.example.org
state $1/state
submit off
CONF
	TERN_CONFIG=$1/tern.conf
	export TERN_CONFIG
	INJECT="$TERN sendmail -i -f bench@example.org rcpt@example.org"
	# A probe proves the verb works before timing; enqueue.sh counts
	# only what is queued after setup.
	if ! printf 'Subject: probe\n\nprobe\n' | $INJECT >/dev/null 2>&1; then
		PEER_SKIP="not built (build/tern sendmail failed)"
		return 1
	fi
}

# peer_count DIR: messages queued, from `tern queue --json`, else from the
# LMDB file itself (mdb_stat) while the queue verb is not ready.
peer_count()
{
	n=$("$TERN" queue --json 2>/dev/null |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' \
	    2>/dev/null)
	if [ -n "$n" ]; then
		echo "$n"
		return
	fi
	db=$(find "$1/state" -name data.mdb 2>/dev/null | head -n 1)
	[ -n "$db" ] || { echo 0; return; }
	mdb_stat -a "$(dirname "$db")" 2>/dev/null | awk '
	    /^Status of / { name = $3 }
	    /Entries:/ && name ~ /^(msg|msgs|message|messages|env|envelope)/ {
		    print $2; found = 1; exit }
	    END { if (!found) print "?" }'
}

peer_stop()
{
	:
}
