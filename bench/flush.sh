# SPDX-License-Identifier: ISC
# shellcheck disable=SC2034,SC2086,SC2016 # INJECT is a word list on purpose
# flush.sh: N x 4 KB messages queued while the link is down, then flushed
# into Postfix's smtp-sink: tern beside nullmailer, dma, msmtpq and a
# Postfix relay, and smtp-source -> smtp-sink as the machine's ceiling.
# msgs/s, connections, peak RSS. See bench/README.md.
#
# usage: sh bench/flush.sh [-n N] [-r RUNS] [--report] [PEER...]
# --report only prints the table again from the last results of each peer
# (bench/out/run/.flush-PEER), e.g. after re-running one peer; give it the
# -n and -r of those runs.
# PEER is one of tern nullmailer dma postfix msmtpq ceiling. Each peer runs
# in its own private mount namespace (unshare -m: root), as in enqueue.sh.

set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
. "$BENCH/lib.sh"

N=${BENCH_FLUSH_N:-10000}
RUNS=${BENCH_RUNS:-3}
PORT=${BENCH_PORT:-12525}
LIMIT=${BENCH_FLUSH_LIMIT:-240}	# seconds a flush may take at most
STALL=${BENCH_FLUSH_STALL:-30}	# seconds without a new message: give up
ALL_PEERS="tern nullmailer dma postfix msmtpq ceiling"
MSG=$OUT/msg-4k.eml
NS_MOUNTED='' DAEMON_TRACE='' PEER_BG='' PEER_SKIP=''
FLUSH_PID='' FLUSH_N='' FLUSH_COMM='' FLUSH_ANYSID='' QPAR=1
export MSG

usage()
{
	echo "usage: sh bench/flush.sh [-n N] [-r RUNS] [PEER...]" >&2
	echo "peers: $ALL_PEERS" >&2
	exit 64
}

# The watcher reads smtp-sink's -c counters ("sess=S quit=Q mesg=M", one
# record per update, CR-separated, unbuffered) from a FIFO: no polling of
# the sink. It notes the wall clock when mesg reaches N and writes one
# line to the result FIFO: "STATE T_NS MESG PROCS SUMRSS MAXHWM SEEN ANON",
# STATE ok, timeout or stalled. Meanwhile, every 0.1 s, it samples the
# flushing processes: those in the session whose id the harness wrote to
# SIDFILE (optionally only the named commands; never /usr/bin/time; with
# ANYSID, for a peer that leaves the session, every process of those
# commands on the machine), for
# the peak count, the peak sum of VmRSS, the largest VmHWM and the
# largest RssAnon (heap and stack, without mapped files: LMDB's map of
# the queue counts in RSS as file pages the kernel may drop). At EOF (the
# sink was stopped after the peer, so every session has ended) it writes
# the last counters to FINAL: "SESS QUIT MESG".
WATCH_PY='
import os, select, sys, time
sink, res, n, limit, stall, sidf, comms, final, anysid = sys.argv[1:10]
n, limit, stall = int(n), float(limit), float(stall)
comms = set(comms.split())
fd = os.open(sink, os.O_RDONLY)
sid = None
peak_n = peak_sum = max_hwm = max_anon = 0
seen = set()

def sample():
    global sid, peak_n, peak_sum, max_hwm, max_anon
    if sid is None and anysid:
        sid = 0
    if sid is None:
        try:
            sid = int(open(sidf).read().split()[0])
        except (OSError, ValueError, IndexError):
            return
    cnt = tot = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
            r = st.rindex(")")
            comm = st[st.index("(") + 1:r]
            if sid and int(st[r + 2:].split()[3]) != sid:
                continue
            if comm == "time":
                continue
            if comms and comm not in comms:
                continue
            rss = hwm = anon = 0
            for line in open("/proc/%s/status" % p):
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if rss == 0:
            continue
        cnt += 1
        tot += rss
        seen.add(p)
        max_hwm = max(max_hwm, hwm)
        max_anon = max(max_anon, anon)
    peak_n = max(peak_n, cnt)
    peak_sum = max(peak_sum, tot)

buf = b""
cur = [0, 0, 0]
state = None
t_mark = time.time_ns()
t0 = time.monotonic()
last = t0
next_sample = t0
while True:
    now = time.monotonic()
    if now >= next_sample:
        sample()
        next_sample = now + 0.1
    if state is None:
        if cur[2] >= n:
            state = "ok"
        elif now - t0 > limit:
            state = "timeout"
        elif now - last > stall:
            state = "stalled"
        if state:
            sample()
            with open(res, "w") as f:
                print(state, t_mark, cur[2], peak_n, peak_sum, max_hwm,
                      len(seen), max_anon, file=f)
    r, _, _ = select.select([fd], [], [], 0.1)
    if not r:
        continue
    b = os.read(fd, 65536)
    if not b:
        break
    recs = (buf + b).split(b"\r")
    buf = recs.pop()
    if not recs:
        continue
    try:
        kv = dict(x.split(b"=") for x in recs[-1].split())
        new = [int(kv[b"sess"]), int(kv[b"quit"]), int(kv[b"mesg"])]
    except (ValueError, KeyError):
        continue
    if new[2] != cur[2]:
        last = time.monotonic()
        if state is None:
            t_mark = time.time_ns()
    cur = new
with open(final, "w") as f:
    print(*cur, file=f)
'

# ---- helpers for peers/flush/*.sh -----------------------------------------

# flush_fg DIR CMD...: start the flushing command in a session of its own
# (whose id goes to DIR.sid for the watcher), under /usr/bin/time for its
# ru_maxrss (which includes the children it waited for). Output to DIR.log.
flush_fg()
{
	fg_dir=$1
	shift
	rm -f "$fg_dir.rss" "$fg_dir.sid"
	/usr/bin/time -f %M -o "$fg_dir.rss" \
	    setsid sh -c 'echo $$ >"$0"; exec "$@"' \
	    "$fg_dir.sid" "$@" >"$fg_dir.log" 2>&1 &
	FLUSH_PID=$!
}

# flush_wait_fg: the flushing command ends by itself; wait (bounded).
flush_wait_fg()
{
	[ -n "$FLUSH_PID" ] || return 0
	t=0
	while kill -0 "$FLUSH_PID" 2>/dev/null && [ $t -lt 600 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -0 "$FLUSH_PID" 2>/dev/null && flush_kill_fg
	wait "$FLUSH_PID" 2>/dev/null
	FLUSH_PID=
}

# flush_kill_fg: a daemon: SIGTERM to the command (not to time, which
# then still reports its ru_maxrss).
flush_kill_fg()
{
	[ -n "$FLUSH_PID" ] || return 0
	[ -s "$INST.sid" ] && kill -TERM "$(cat "$INST.sid")" 2>/dev/null
	wait "$FLUSH_PID" 2>/dev/null
	FLUSH_PID=
}

# ---- the sink -------------------------------------------------------------

# sink_start N: a fresh smtp-sink on 127.0.0.1:PORT with its watcher.
sink_start()
{
	SW=$RUNS_DIR/.sink-$P
	rm -f "$SW.in" "$SW.res" "$SW.final" "$INST.sid"
	mkfifo "$SW.in" "$SW.res"
	python3 -c "$WATCH_PY" "$SW.in" "$SW.res" "$1" "$LIMIT" "$STALL" \
	    "$INST.sid" "$FLUSH_COMM" "$SW.final" "$FLUSH_ANYSID" \
	    2>>"$INST.err" &
	WATCH_PID=$!
	smtp-sink -c -u root "127.0.0.1:$PORT" 256 >"$SW.in" 2>>"$INST.err" &
	SINK_PID=$!
	t=0
	until ss -Hltn "sport = :$PORT" | grep -q .; do
		t=$((t + 1))
		[ $t -lt 100 ] || { PEER_SKIP="smtp-sink did not start"; return 1; }
		sleep 0.05
	done
}

# sink_stop: after the peer has stopped; sets CONNS (sessions the sink saw).
sink_stop()
{
	sleep 0.2
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
	CONNS=$(awk '{ print $1 }' "$SW.final" 2>/dev/null)
	rm -f "$SW.in" "$SW.res"
}

# ---- one peer, inside its namespace; writes one result line -------------

# one_run: restore the queued snapshot, flush it into a fresh sink; appends
# "RATE CONNS RSS PROCS SUMRSS STATE DELIVERED ANON" to $RUNS_OUT.
one_run()
{
	rm -rf "$INST"
	cp -a "$INST.snap" "$INST"
	flush_ready "$INST" || return 1
	sink_start "$FN" || return 1
	t0=$(now_ns)
	flush_go "$INST" >>"$INST.err" 2>&1
	read -r state t1 got procs sum hwm seen anon <"$SW.res"
	flush_stop "$INST"
	sink_stop
	rss=$(tail -n 1 "$INST.rss" 2>/dev/null)
	case $rss in ''|*[!0-9]*) rss=0 ;; esac
	[ "$hwm" -gt "$rss" ] && rss=$hwm
	rate=$(awk -v n="$got" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f\n", (ns > 0) ? n / (ns / 1e9) : 0 }')
	echo "$rate ${CONNS:-?} $rss $procs $sum $state $got $anon" >>"$RUNS_OUT"
}

# queue_once: fill a fresh instance with FN messages while the link is
# down, check the count, park it as $INST.snap for every run.
queue_once()
{
	rm -rf "$INST" "$INST.snap"
	mkdir -p "$INST"
	chmod 0755 "$INST"
	flush_setup "$INST" "$PORT" || return 1
	[ -n "$FLUSH_N" ] && FN=$FLUSH_N
	if [ -z "${NS_MOUNTED:-}" ] && ls "$NS_TOP"*.parent >/dev/null 2>&1
	then
		[ -n "${BENCH_NS:-}" ] ||
		    { PEER_SKIP="needs root (unshare -m)"; return 1; }
		ns_mount
	fi
	export INJECT
	t0=$(now_ns)
	inject_parallel "$FN" "$QPAR" 2>>"$INST.err" ||
	    { PEER_SKIP="queueing failed (see $INST.err)"; return 1; }
	c=$(peer_count "$INST")
	note "$P: queued $c in $(( ($(now_ns) - t0) / 1000000 )) ms"
	[ "$c" = "$FN" ] || { PEER_SKIP="queued $c of $FN"; return 1; }
	flush_park "$INST"
	mv "$INST" "$INST.snap"
}

one_peer()
{
	P=$1
	RES=$RUNS_DIR/.flush-$P
	INST=$RUNS_DIR/flush-$P
	NS_TOP=$RUNS_DIR/.ns-flush-$P/top
	RUNS_OUT=$INST.runs
	rm -rf "$RUNS_DIR/.ns-flush-$P" "$RES" "$RUNS_OUT"
	mkdir -p "$RUNS_DIR/.ns-flush-$P"
	: >"$INST.err"
	: >"$RUNS_OUT"
	# shellcheck source=/dev/null # one of peers/*.sh
	. "$BENCH/peers/$P.sh"
	# shellcheck source=/dev/null
	. "$BENCH/peers/flush/$P.sh"
	skip()
	{
		printf '%s\tskip\t%s\n' "$P" "${PEER_SKIP:-failed}" >"$RES"
		flush_stop "$INST" 2>/dev/null
		exit 0
	}
	peer_fetch || skip
	FN=$N
	NS_MOUNTED=
	queue_once || skip
	r=0
	while [ $r -lt "$RUNS" ]; do
		note "flush: $P run $((r + 1)) of $RUNS ($FN messages)"
		one_run || skip
		r=$((r + 1))
	done
	printf '%s\tok\t%s\t%s\n' "$P" "$(peer_version)" "$FN" >"$RES"
	cat "$RUNS_OUT" >>"$RES"
	rm -rf "$INST" "$INST.snap"
}

# The ceiling: smtp-source -> smtp-sink, the same 4 KB file, no queue.
one_ceiling()
{
	P=ceiling
	INST=$RUNS_DIR/flush-ceiling
	RES=$RUNS_DIR/.flush-ceiling
	: >"$INST.err"
	: >"$RES"
	FN=$N
	flush_ready() { :; }
	flush_stop() { flush_wait_fg; }
	mkdir -p "$INST.snap"
	for v in "1 -d" "4 -d" "1"; do
		set -- $v
		s=$1
		case $v in
		*-d)	name="smtp-source, $s session(s)" ;;
		*)	name="smtp-source, a connection per message" ;;
		esac
		flush_go()
		{
			flush_fg "$1" smtp-source -s "$s" $keep -m "$FN" -F "$MSG" \
			    -f bench@example.org -t rcpt@example.org \
			    "127.0.0.1:$PORT"
		}
		keep=${2:-}
		RUNS_OUT=$INST.runs
		: >"$RUNS_OUT"
		r=0
		while [ $r -lt "$RUNS" ]; do
			one_run || break
			r=$((r + 1))
		done
		printf '%s\tceil\t%s\t%s\n' "$name" "$(smtp_version)" "$FN" >>"$RES"
		cat "$RUNS_OUT" >>"$RES"
	done
	rm -rf "$INST" "$INST.snap"
}

smtp_version()
{
	postconf -d -h mail_version 2>/dev/null
}

# ---- the table ------------------------------------------------------------

# summarise RESULTFILE...: one row per peer, median over runs.
summarise()
{
	awk -F '\t' '
	function med(s,    a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function flush_row() {
		if (name == "")
			return
		if (kind == "skip") {
			printf "%s\tskip\t%s\n", name, ver
		} else {
			printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			    name, kind, ver, fn, med(rates), rates, med(conns),
			    rssmax, procmax, summax, note, anonmax
		}
		name = ""
	}
	NF >= 2 && ($2 == "ok" || $2 == "ceil" || $2 == "skip") {
		flush_row()
		name = $1; kind = $2; ver = $3; fn = $4
		rates = conns = note = ""
		rssmax = procmax = summax = anonmax = 0
		next
	}
	{
		split($0, f, " ")
		rates = rates ((rates == "") ? "" : " ") f[1]
		conns = conns " " f[2]
		if (f[3] > rssmax) rssmax = f[3]
		if (f[4] > procmax) procmax = f[4]
		if (f[5] > summax) summax = f[5]
		if (f[8] > anonmax) anonmax = f[8]
		if (f[6] != "ok")
			note = note ((note == "") ? "" : "; ") f[6] " at " f[7] " of " fn
	}
	END { flush_row() }' "$@"
}

table()
{
	summarise "$@" >"$RUNS_DIR/.flush-summary"
	awk -F '\t' -v n="$N" '
	$2 == "ok" && $1 == "tern" { tern = $5; trss = $8; tanon = $12 }
	$2 == "ok" && $1 != "tern" && $5 > best { best = $5; bestp = $1 }
	$2 == "ceil" && $1 ~ /1 session/ { ceil1 = $5 }
	{ row[NR] = $0 }
	END {
		print "| peer | version | messages | msgs/s (median) | runs | connections | peak RSS KiB (largest process) | processes (peak) | peak RSS KiB (sum) | of it anon KiB (largest) | tern ÷ row |"
		print "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= NR; i++) {
			split(row[i], f, "\t")
			if (f[2] == "skip") {
				printf "| %s | %s | - | - | - | - | - | - | - | - | - |\n", f[1], f[3]
				continue
			}
			ratio = (tern != "" && f[5] > 0) ? sprintf("%.2f", tern / f[5]) : "-"
			nm = f[1]
			if (f[4] != n)
				nm = nm " (N = " f[4] ")"
			if (f[11] != "")
				nm = nm " (" f[11] ")"
			if (f[2] == "ceil")
				nm = "ceiling: " nm
			printf "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n",
			    nm, f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[12], ratio
		}
		print ""
		if (tern == "") {
			print "tern: no result."
			exit
		}
		if (best > 0)
			printf "Goal 1, ahead of the fastest peer by 2x: tern ÷ %s = %.2f (%s).\n",
			    bestp, tern / best, (tern / best >= 2) ? "met" : "not met"
		if (ceil1 > 0)
			printf "Goal 2, within 2x of the one-session ceiling: tern ÷ ceiling = %.2f (%s).\n",
			    tern / ceil1, (tern / ceil1 >= 0.5) ? "met" : "not met"
		printf "Goal 3, under 8 MiB RSS: %s KiB (%s); of it anonymous (heap, stack) at most %s KiB.\n",
		    trss, (trss < 8192) ? "met" : "not met", tanon
	}' "$RUNS_DIR/.flush-summary"
}

main()
{
	peers=
	report=
	while [ $# -gt 0 ]; do
		case $1 in
		-n)	N=$2; shift 2 ;;
		-r)	RUNS=$2; shift 2 ;;
		-p|-s)	shift 2 ;;	# enqueue.sh options, via bench/run
		--report)	report=1; shift ;;
		--one)	P=$2; N=$BENCH_FLUSH_N; RUNS=$BENCH_RUNS
			if [ "$P" = ceiling ]; then one_ceiling; else one_peer "$P"; fi
			exit 0 ;;
		-h|--help) usage ;;
		-*)	usage ;;
		*)	peers="$peers $1"; shift ;;
		esac
	done
	[ -n "$peers" ] || peers=$ALL_PEERS
	command -v smtp-sink >/dev/null 2>&1 ||
	    die "smtp-sink not found (it comes with the postfix package)"
	while ss -Hltn "sport = :$PORT" | grep -q .; do
		PORT=$((PORT + 1))
	done
	BENCH_FLUSH_N=$N BENCH_RUNS=$RUNS BENCH_PORT=$PORT
	export BENCH_FLUSH_N BENCH_RUNS BENCH_PORT
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
	# A private copy: build/ is shared and may be relinked mid-run.
	if [ -z "${TERN:-}" ] && [ -x "$ROOT/build/tern" ]; then
		cp "$ROOT/build/tern" "$RUNS_DIR/.tern" && TERN=$RUNS_DIR/.tern
		export TERN
	fi
	results=
	for p in $peers; do
		if [ -n "$report" ]; then
			[ -s "$RUNS_DIR/.flush-$p" ] &&
			    results="$results $RUNS_DIR/.flush-$p"
			continue
		fi
		[ "$p" = ceiling ] || [ -f "$BENCH/peers/flush/$p.sh" ] ||
		    { note "no flush side for peer $p"; continue; }
		note "flush: $p ($RUNS x $N into smtp-sink on 127.0.0.1:$PORT)"
		$ns sh "$BENCH/flush.sh" --one "$p"
		[ -s "$RUNS_DIR/.flush-$p" ] ||
		    printf '%s\tskip\tharness error\n' "$p" >"$RUNS_DIR/.flush-$p"
		results="$results $RUNS_DIR/.flush-$p"
	done
	day=$(date -u +%Y-%m-%dT%H%M%SZ)
	md=$OUT/flush-$day.md
	{
		echo "## flush: $N x $(wc -c <"$MSG")-byte messages queued offline, then flushed into smtp-sink"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs," \
		    "$(df -T "$RUNS_DIR" | awk 'NR == 2 { print $2 }') on $(df "$RUNS_DIR" | awk 'NR == 2 { print $1 }');" \
		    "runs $RUNS; plain SMTP on loopback, no TLS, no AUTH."
		echo
		# shellcheck disable=SC2086
		table $results
	} >"$md"
	cat "$md"
	echo
	echo "(written to ${md#"$ROOT"/})"
}

main "$@"
