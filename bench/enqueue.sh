# SPDX-License-Identifier: ISC
# shellcheck disable=SC2034,SC2086,SC2016 # INJECT is a word list on purpose
# enqueue.sh: N x 4 KB messages, one sendmail-interface process each, into
# tern and into its peers (nullmailer, dma, Postfix; msmtpq for reference),
# side by side: msgs/s, fsyncs per message, peak RSS. See bench/README.md.
#
# usage: sh bench/enqueue.sh [-n N] [-r RUNS] [-p PARALLEL] [-s SAMPLE]
#            [PEER...]
# Each peer runs in its own private mount namespace (unshare -m: root) so
# compiled-in paths can point into a fresh instance under bench/out/run/.

set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
. "$BENCH/lib.sh"

N=${BENCH_N:-1000}
RUNS=${BENCH_RUNS:-3}
PAR=${BENCH_PAR:-1}
SAMPLE=${BENCH_SAMPLE:-100}
ALL_PEERS="tern nullmailer dma postfix msmtpq"
MSG=$OUT/msg-4k.eml
NS_MOUNTED='' DAEMON_TRACE='' PEER_BG='' PEER_SKIP=''
export MSG

usage()
{
	echo "usage: sh bench/enqueue.sh [-n N] [-r RUNS] [-p PARALLEL]" \
	    "[-s SAMPLE] [PEER...]" >&2
	echo "peers: $ALL_PEERS" >&2
	exit 64
}

# ---- one peer, inside its namespace; writes one result line -------------

# fresh: a clean instance at the peer's fixed path, daemons started.
fresh()
{
	rm -rf "$INST"
	mkdir -p "$INST"
	chmod 0755 "$INST"
	PEER_SKIP=
	peer_setup "$INST" || return 1
	if [ -z "${NS_MOUNTED:-}" ] && ls "$NS_TOP"*.parent >/dev/null 2>&1
	then
		[ -n "${BENCH_NS:-}" ] ||
		    { PEER_SKIP="needs root (unshare -m)"; return 1; }
		ns_mount
	fi
	export INJECT
	BASE=$(peer_count "$INST")
}

queued()
{
	c=$(peer_count "$INST")
	case $c in
	''|*[!0-9]*)	echo "?" ;;
	*)		echo $((c - BASE)) ;;
	esac
}

# timed_run: N injections, wall time; sets RATE (msgs/s).
timed_run()
{
	fresh || return 1
	t0=$(now_ns)
	inject_parallel "$N" "$PAR" 2>>"$INST.err" ||
	    { PEER_SKIP="injection failed (see $INST.err)"; return 1; }
	t1=$(now_ns)
	got=$(queued)
	peer_stop "$INST"
	if [ "$got" != "$N" ] && [ "$got" != "?" ]; then
		PEER_SKIP="queued $got of $N"
		return 1
	fi
	RATE=$(awk -v n="$N" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f\n", n / (ns / 1e9) }')
}

# sync_run: SAMPLE injections under strace (and the peer's daemons, if it
# has any, traced from their start); sets SYNC to "FSYNCS SYNCWRITES" per
# message.
sync_run()
{
	SYNC="- -"
	command -v strace >/dev/null 2>&1 || return 0
	tr=$INST.strace
	rm -f "$tr" "$tr.daemon"
	DAEMON_TRACE=$tr.daemon
	fresh || { DAEMON_TRACE=; return 1; }
	strace -f -qq -e trace="$STRACE_SET" -o "$tr" sh -c '
	    k=0
	    while [ $k -lt "$1" ]; do
		$INJECT <"$MSG" >/dev/null || exit 1
		k=$((k + 1))
	    done' sh "$SAMPLE" 2>>"$INST.err"
	queued >/dev/null	# waits for a daemon to take everything
	peer_stop "$INST"
	DAEMON_TRACE=
	# shellcheck disable=SC2046 # two numbers
	set -- $(count_sync "$tr")
	f=$1 w=$2
	if [ -f "$tr.daemon" ]; then
		# shellcheck disable=SC2046 # two numbers
		set -- $(count_sync "$tr.daemon")
		f=$((f + $1)) w=$((w + $2))
	fi
	SYNC=$(awk -v f="$f" -v w="$w" -v n="$SAMPLE" \
	    'BEGIN { printf "%.2f %.2f\n", f / n, w / n }')
}

# rss_run: sets RSS, the largest ru_maxrss (KiB) of SAMPLE injections; of a
# processes (sendmail -> postdrop) that is the largest one of the chain.
rss_run()
{
	fresh || return 1
	rf=$INST.rss
	: >"$rf"
	k=0
	while [ $k -lt "$SAMPLE" ]; do
		if [ -x /usr/bin/time ]; then
			/usr/bin/time -f %M -a -o "$rf" $INJECT <"$MSG" \
			    >/dev/null 2>>"$INST.err"
		else
			python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdin=sys.stdin, stdout=subprocess.DEVNULL)
with open(sys.argv[1], "a") as f:
	print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=f)
' "$rf" $INJECT <"$MSG" 2>>"$INST.err"
		fi
		k=$((k + 1))
	done
	queued >/dev/null
	peer_stop "$INST"
	RSS=$(sort -n "$rf" | tail -n 1)
}

one_peer()
{
	P=$1
	RES=$RUNS_DIR/.result-$P
	INST=$RUNS_DIR/$P
	NS_TOP=$RUNS_DIR/.ns-$P/top
	rm -rf "$RUNS_DIR/.ns-$P" "$RES"
	mkdir -p "$RUNS_DIR/.ns-$P"
	: >"$INST.err"
	# shellcheck source=/dev/null # one of peers/*.sh
	. "$BENCH/peers/$P.sh"
	skip()
	{
		printf '%s\tskip\t%s\n' "$P" "${PEER_SKIP:-failed}" >"$RES"
		peer_stop "$INST" 2>/dev/null
		exit 0
	}
	peer_fetch || skip
	rates=
	r=0
	while [ $r -lt "$RUNS" ]; do
		timed_run || skip
		rates="$rates $RATE"
		r=$((r + 1))
	done
	sync_run || skip
	rss_run || skip
	# shellcheck disable=SC2086 # rates is a list
	printf '%s\tok\t%s\t%s\t%s\t%s\t%s\n' "$P" "$(peer_version)" \
	    "$(median $rates)" "${rates# }" "$SYNC" "$RSS" >"$RES"
	rm -rf "$INST"
}

# ---- the table ------------------------------------------------------------

table()
{
	tern_rate=$(awk -F '\t' '$1 == "tern" && $2 == "ok" { print $4 }' "$@")
	printf '| peer | version | msgs/s (median) | runs | fsyncs/msg | O_SYNC writes/msg | peak RSS KiB | tern ÷ peer |\n'
	printf '|---|---|---:|---|---:|---:|---:|---:|\n'
	for f in "$@"; do
		awk -F '\t' -v t="${tern_rate:-}" '
		$2 == "skip" { printf "| %s | %s | - | - | - | - | - | - |\n",
		    $1, $3; next }
		{
			split($6, s, " ")
			ratio = (t != "" && $4 > 0) ? sprintf("%.2f", t / $4) : "-"
			if ($1 == "tern")
				ratio = "1.00"
			name = $1
			if (s[1] + s[2] == 0)
				name = name " (not durable)"
			printf "| %s | %s | %.0f | %s | %s | %s | %s | %s |\n",
			    name, $3, $4, $5, s[1], s[2], $7, ratio
		}' "$f"
	done
}

main()
{
	peers=
	while [ $# -gt 0 ]; do
		case $1 in
		-n)	N=$2; shift 2 ;;
		-r)	RUNS=$2; shift 2 ;;
		-p)	PAR=$2; shift 2 ;;
		-s)	SAMPLE=$2; shift 2 ;;
		--one)	one_peer "$2"; exit 0 ;;
		-h|--help) usage ;;
		-*)	usage ;;
		*)	peers="$peers $1"; shift ;;
		esac
	done
	BENCH_N=$N BENCH_RUNS=$RUNS BENCH_PAR=$PAR BENCH_SAMPLE=$SAMPLE
	export BENCH_N BENCH_RUNS BENCH_PAR BENCH_SAMPLE
	[ -n "$peers" ] || peers=$ALL_PEERS
	mkdir -p "$RUNS_DIR"
	chmod 0755 "$OUT" "$RUNS_DIR"
	gen_message "$MSG"
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		ns="unshare -m --propagation private"
		BENCH_NS=1
	else
		ns=
		BENCH_NS=
		note "not root: peers with compiled-in paths are skipped"
	fi
	export BENCH_NS
	results=
	for p in $peers; do
		[ -f "$BENCH/peers/$p.sh" ] || { note "no peer $p"; continue; }
		note "enqueue: $p ($RUNS x $N, parallel $PAR; sample $SAMPLE)"
		$ns sh "$BENCH/enqueue.sh" --one "$p"
		[ -f "$RUNS_DIR/.result-$p" ] ||
		    printf '%s\tskip\tharness error\n' "$p" >"$RUNS_DIR/.result-$p"
		results="$results $RUNS_DIR/.result-$p"
	done
	day=$(date -u +%Y-%m-%dT%H%M%SZ)
	md=$OUT/enqueue-$day.md
	{
		echo "## enqueue: $N x $(wc -c <"$MSG")-byte messages, one process each"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs," \
		    "$(df -T "$RUNS_DIR" | awk 'NR == 2 { print $2 }') on $(df "$RUNS_DIR" | awk 'NR == 2 { print $1 }');" \
		    "runs $RUNS, parallel injectors $PAR, strace/RSS sample $SAMPLE."
		echo
		# shellcheck disable=SC2086
		table $results
	} >"$md"
	cat "$md"
	echo
	echo "(written to ${md#"$ROOT"/})"
}

main "$@"
