# SPDX-License-Identifier: ISC
# shellcheck disable=SC2034,SC2086 # word lists on purpose
# submit.sh: smtp-source into ternd's submission listener (no smarthost:
# mail is only queued), 1 and 10 concurrent sessions, beside Postfix as an
# MSA (smtpd, mail only queued); ternd's RSS idle and at peak under load;
# wake-ups idle of ternd, nullmailer-send and Postfix's master + qmgr +
# pickup over the same window. See bench/README.md.
#
# usage: sh bench/submit.sh [-n N] [-r RUNS] [-i IDLE_S] [--no-idle]
# (defaults 2000, 3, 60; also BENCH_SUBMIT_N, BENCH_RUNS, BENCH_IDLE,
# BENCH_SUBMIT_PORT). nullmailer runs in a private mount namespace (root).

set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
. "$BENCH/lib.sh"

N=${BENCH_SUBMIT_N:-2000}
RUNS=${BENCH_RUNS:-3}
IDLE=${BENCH_IDLE:-60}
PORT=${BENCH_SUBMIT_PORT:-12587}
SESSIONS="1 10"
W=$RUNS_DIR/submit		# everything of this scenario
SUM=$RUNS_DIR/.sum-submit	# rows for bench/run's summary
NS_MOUNTED='' DAEMON_TRACE='' PEER_BG='' PEER_SKIP='' SAMPLER_PID=''
TERND_PID='' TERND_JOB=''

usage()
{
	echo "usage: sh bench/submit.sh [-n N] [-r RUNS] [-i IDLE_S]" \
	    "[--no-idle]" >&2
	exit 64
}

# ---- tern -----------------------------------------------------------------

# ternd_start DIR: a fresh state, ternd in a session of its own (its pid
# is the session id the sampler follows), listening on PORT.
ternd_start()
{
	rm -rf "$1"
	mkdir -p "$1"
	cat >"$1/tern.conf" <<CONF
# only queue: no [smarthost], so nothing goes out
hostname bench.test
state $1/state
submit 127.0.0.1:$PORT
CONF
	setsid sh -c 'echo $$ >"$0"; exec "$@"' "$1/pid" \
	    "$TERND" -c "$1/tern.conf" >"$1/ternd.log" 2>&1 &
	TERND_JOB=$!
	wait_listen "$PORT" || { note "ternd did not listen, see $1/ternd.log"
		return 1; }
	read -r TERND_PID <"$1/pid"
}

ternd_stop()
{
	[ -n "$TERND_PID" ] || return 0
	kill -TERM "$TERND_PID" 2>/dev/null
	t=0
	while kill -0 "$TERND_PID" 2>/dev/null && [ $t -lt 50 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -KILL "$TERND_PID" 2>/dev/null
	wait "$TERND_JOB" 2>/dev/null
	TERND_PID=
}

tern_queued()
{
	"$TERN" -c "$1/tern.conf" queue --json 2>/dev/null |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' \
	    2>/dev/null || echo "?"
}

# ---- one load run ---------------------------------------------------------

# load S SID: N messages over S concurrent sessions, the processes of
# session SID sampled; sets RATE and PEAK ("RSS HWM ANON SUM PROCS").
load()
{
	sampler_start "$W/.peak" "$2"
	t0=$(now_ns)
	smtp-source -s "$1" -m "$N" -l 4096 -c -f a@bench.test \
	    -t b@bench.test "127.0.0.1:$PORT" >/dev/null 2>>"$W/err" ||
	    note "smtp-source failed (see $W/err)"
	t1=$(now_ns)
	sampler_stop
	PEAK=$(cat "$W/.peak" 2>/dev/null)
	RATE=$(awk -v n="$N" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f\n", n / (ns / 1e9) }')
}

# runs_tern S: RUNS fresh ternds; appends "tern S RATE QUEUED PEAK" lines.
runs_tern()
{
	r=0
	while [ $r -lt "$RUNS" ]; do
		ternd_start "$W/tern" || return 1
		load "$1" "$TERND_PID"
		q=$(tern_queued "$W/tern")
		ternd_stop
		echo "tern $1 $RATE $q $PEAK" >>"$W/results"
		r=$((r + 1))
	done
}

runs_postfix()
{
	r=0
	while [ $r -lt "$RUNS" ]; do
		rm -rf "$W/postfix"
		mkdir -p "$W/postfix"
		msa_setup "$W/postfix" "$PORT" || { note "postfix: $PEER_SKIP"
			peer_stop "$W/postfix"; return 1; }
		sid=$(tr -d ' ' <"$W/postfix/spool/pid/master.pid")
		load "$1" "$sid"
		q=$(peer_count "$W/postfix")
		peer_stop "$W/postfix"
		echo "postfix $1 $RATE $q $PEAK" >>"$W/results"
		r=$((r + 1))
	done
}

# ---- idle -----------------------------------------------------------------

# idle: ternd, Postfix (master, qmgr, pickup) and nullmailer-send, all
# fresh and empty, side by side for IDLE seconds; writes "idle WHO
# SWITCHES PIDS" lines and ternd's idle RSS ("rss VmRSS RssAnon").
idle()
{
	ternd_start "$W/tern" || return 1
	rm -rf "$W/postfix" "$W/nm" "$W/.ns-nm" "$W/nm.pid"
	mkdir -p "$W/postfix" "$W/.ns-nm"
	PORT_SAVE=$PORT
	PORT=$((PORT + 1))
	PORT=$(free_tcp_port "$PORT")
	msa_setup "$W/postfix" "$PORT" || note "postfix: $PEER_SKIP"
	PORT=$PORT_SAVE
	nm=
	if [ -n "$BENCH_NS" ]; then
		unshare -m --propagation private sh "$BENCH/submit.sh" \
		    --nm-idle "$W/nm" "$W/nm.pid" 2>>"$W/err" &
		nm=$!
	fi
	sleep 3		# start-up done (Postfix spawns qmgr and pickup)
	echo "rss $(proc_field "$TERND_PID" VmRSS) $(proc_field "$TERND_PID" RssAnon)" \
	    >>"$W/results"
	pf=$(msa_daemons "$W/postfix" | tr '\n' ' ')
	nmp=$(cat "$W/nm.pid" 2>/dev/null)
	a_t=$(vol_switches "$TERND_PID")
	a_p=$(vol_switches $pf)
	a_n=$( [ -n "$nmp" ] && vol_switches "$nmp")
	note "submit: idle for $IDLE s (ternd $TERND_PID; postfix $pf; nullmailer-send ${nmp:--})"
	sleep "$IDLE"
	b_t=$(vol_switches "$TERND_PID")
	b_p=$(vol_switches $pf)
	b_n=$( [ -n "$nmp" ] && vol_switches "$nmp")
	pf2=$(msa_daemons "$W/postfix" | tr '\n' ' ')
	[ "$pf" = "$pf2" ] || note "postfix daemons changed during idle: $pf -> $pf2"
	echo "idle tern $((b_t - a_t)) $TERND_PID" >>"$W/results"
	[ -n "$pf" ] && echo "idle postfix $((b_p - a_p)) $pf" >>"$W/results"
	[ -n "$nmp" ] && echo "idle nullmailer $((b_n - a_n)) $nmp" >>"$W/results"
	ternd_stop
	peer_stop "$W/postfix"
	[ -n "$nmp" ] && kill -TERM "$nmp" 2>/dev/null
	[ -n "$nm" ] && wait "$nm" 2>/dev/null
}

# ---- the table ------------------------------------------------------------

table()
{
	awk -v n="$N" -v idle="$IDLE" -v runs="$RUNS" '
	function med(s,    a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	$1 == "tern" || $1 == "postfix" {
		k = $1 SUBSEP $2
		rates[k] = rates[k] " " $3
		if ($4 != n) bad[k] = bad[k] " queued " $4 " of " n ";"
		if ($5 > rss[k]) rss[k] = $5
		if ($6 > rss[k]) rss[k] = $6
		if ($7 > anon[k]) anon[k] = $7
		if ($8 > sum[k]) sum[k] = $8
		if ($9 > procs[k]) procs[k] = $9
		seen[$2] = 1
	}
	$1 == "rss" { irss = $2; ianon = $3 }
	$1 == "idle" { sw[$2] = $3; np = NF - 3; pids[$2] = np }
	END {
		print "| server | sessions | msgs/s (median) | runs | peak RSS KiB (largest process) | of it anon KiB | processes (peak) | peak RSS KiB (sum) | tern ÷ Postfix |"
		print "|---|---:|---:|---|---:|---:|---:|---:|---:|"
		for (s = 1; s <= 10; s++) {
			if (!(s in seen)) continue
			mt = med(rates["tern", s]); mp = med(rates["postfix", s])
			split("tern postfix", who, " ")
			for (w = 1; w <= 2; w++) {
				k = who[w] SUBSEP s
				if (!(k in rates)) continue
				m = med(rates[k])
				r = (w == 1) ? ((mp > 0) ? sprintf("%.2f", mt / mp) : "-") : ""
				printf "| %s%s | %d | %.0f | %s | %s | %s | %s | %s | %s |\n",
				    who[w] == "tern" ? "ternd" : "Postfix smtpd",
				    bad[k] != "" ? " (" bad[k] ")" : "", s, m,
				    substr(rates[k], 2), rss[k], anon[k], procs[k],
				    sum[k], r
			}
			if (mp > 0) goal[s] = mt / mp
		}
		print ""
		print "| idle for " idle " s | processes | voluntary context switches | per minute |"
		print "|---|---:|---:|---:|"
		split("tern nullmailer postfix", who, " ")
		split("ternd|nullmailer-send|Postfix master + qmgr + pickup", nm, "|")
		for (w = 1; w <= 3; w++)
			if (who[w] in sw)
				printf "| %s | %d | %d | %.1f |\n", nm[w], pids[who[w]],
				    sw[who[w]], sw[who[w]] * 60 / idle
			else
				printf "| %s | - | - | skipped |\n", nm[w]
		print ""
		printf "ternd idle (fresh, empty queue, before any load): VmRSS %s KiB, of it RssAnon %s KiB.\n\n", irss, ianon
		for (s in goal)
			printf "Goal, accept rate ≥ Postfix (%d session%s): tern ÷ Postfix = %.2f (%s).\n",
			    s, (s > 1) ? "s" : "", goal[s], (goal[s] >= 1) ? "met" : "not met"
		if (irss != "")
			printf "Goal, idle RSS < 2 MiB: VmRSS %s KiB (%s); RssAnon %s KiB (%s).\n",
			    irss, (irss < 2048) ? "met" : "not met", ianon,
			    (ianon < 2048) ? "met" : "not met"
		if ("tern" in sw)
			printf "Goal, 0 wake-ups idle: %d in %d s (%s).\n", sw["tern"],
			    idle, (sw["tern"] == 0) ? "met" : "not met"
	}' "$W/results"
}

# summary: rows for bench/run.
summary()
{
	rm -f "$SUM"
	for s in $SESSIONS; do
		for who in tern postfix; do
			# shellcheck disable=SC2046 # the runs
			summary_row "$SUM" submit "accept msgs/s, $s session(s)" \
			    "$who" $(awk -v w="$who" -v s="$s" \
			    '$1 == w && $2 == s { print $3 }' "$W/results")
		done
	done
	for who in tern nullmailer postfix; do
		v=$(awk -v w="$who" '$1 == "idle" && $2 == w { print $3 }' \
		    "$W/results")
		[ -n "$v" ] && summary_row "$SUM" submit \
		    "idle wake-ups in $IDLE s (lower is better)" "$who" "$v"
	done
	v=$(awk '$1 == "rss" { print $2 }' "$W/results")
	[ -n "$v" ] && summary_row "$SUM" submit "ternd idle VmRSS KiB (goal < 2048)" tern "$v"
	v=$(awk '$1 == "rss" { print $3 }' "$W/results")
	[ -n "$v" ] && summary_row "$SUM" submit "ternd idle RssAnon KiB (goal < 2048)" tern "$v"
}

main()
{
	do_idle=1
	while [ $# -gt 0 ]; do
		case $1 in
		-n)	N=$2; shift 2 ;;
		-r)	RUNS=$2; shift 2 ;;
		-i)	IDLE=$2; shift 2 ;;
		--no-idle) do_idle=; shift ;;
		-p|-s)	shift 2 ;;	# enqueue.sh options, via bench/run
		--nm-idle)
			NS_TOP=$RUNS_DIR/submit/.ns-nm/top
			. "$BENCH/peers/nullmailer.sh"
			. "$BENCH/peers/submit/nullmailer.sh"
			peer_fetch && nm_idle "$2" "$3"
			exit ;;
		-h|--help) usage ;;
		*)	usage ;;
		esac
	done
	command -v smtp-source >/dev/null 2>&1 ||
	    die "smtp-source not found (it comes with the postfix package)"
	[ -x "$ROOT/build/ternd" ] && [ -x "$ROOT/build/tern" ] ||
	    die "build/tern or build/ternd missing: run make"
	mkdir -p "$W"
	chmod 0755 "$OUT" "$RUNS_DIR"
	rm -f "$W/results" "$W/err"
	# private copies: build/ is shared and may be relinked mid-run
	cp "$ROOT/build/ternd" "$W/.ternd" && TERND=$W/.ternd
	cp "$ROOT/build/tern" "$W/.tern" && TERN=$W/.tern
	PORT=$(free_tcp_port "$PORT")
	BENCH_NS=
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		BENCH_NS=1
	else
		note "not root: nullmailer is skipped"
	fi
	. "$BENCH/peers/postfix.sh"
	. "$BENCH/peers/submit/postfix.sh"
	trap 'sampler_stop; ternd_stop; peer_stop "$W/postfix" 2>/dev/null' EXIT
	if [ -n "$do_idle" ]; then
		note "submit: idle RSS and wake-ups ($IDLE s)"
		idle
	fi
	for s in $SESSIONS; do
		note "submit: tern, $RUNS x $N messages over $s session(s), port $PORT"
		runs_tern "$s"
		note "submit: postfix, $RUNS x $N messages over $s session(s)"
		runs_postfix "$s"
	done
	summary
	day=$(date -u +%Y-%m-%dT%H%M%SZ)
	md=$OUT/submit-$day.md
	{
		echo "## submit: smtp-source, $N x 4096-byte messages, into the submission listener"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs," \
		    "$(df -T "$RUNS_DIR" | awk 'NR == 2 { print $2 }');" \
		    "runs $RUNS; Postfix $(postconf -d -h mail_version 2>/dev/null); plain SMTP on loopback; mail only queued."
		echo
		table
	} >"$md"
	cat "$md"
	echo
	echo "(written to ${md#"$ROOT"/})"
}

main "$@"
