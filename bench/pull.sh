# SPDX-License-Identifier: ISC
# shellcheck disable=SC2034,SC2086 # word lists on purpose
# pull.sh: ATRN (ODMR, RFC 2645) pull of N x 4 KB messages from the suite's
# test provider (tests/lib/odmrd.py) by `tern pull` (no daemon: it pulls
# in-process, then delivers in-process) into a maildir and into a private
# Dovecot's LMTP; as the reference, the same messages pushed by
# smtp-source into a private Postfix delivering to a maildir. msgs/s,
# fsyncs per message, peak RSS. See bench/README.md.
#
# usage: sh bench/pull.sh [-n N] [-r RUNS] [-f FSYNC_N] [TARGET...]
# (defaults 10000, 3, 1000; targets maildir lmtp postfix; also
# BENCH_PULL_N, BENCH_RUNS, BENCH_PULL_FSYNC_N, BENCH_PULL_PORT).

set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
. "$BENCH/lib.sh"

N=${BENCH_PULL_N:-10000}
RUNS=${BENCH_RUNS:-3}
FN=${BENCH_PULL_FSYNC_N:-1000}
PORT=${BENCH_PULL_PORT:-12366}
LIMIT=${BENCH_PULL_LIMIT:-300}	# seconds a run may take at most
ALL="maildir lmtp postfix"
W=$RUNS_DIR/pull
SUM=$RUNS_DIR/.sum-pull
MSG=$OUT/msg-4k.eml
ODMRD=$ROOT/tests/lib/odmrd.py
PEER_SKIP='' SAMPLER_PID='' ODMRD_PID='' DC_MASTER='' PEER_BG=''

usage()
{
	echo "usage: sh bench/pull.sh [-n N] [-r RUNS] [-f FSYNC_N]" \
	    "[maildir|lmtp|postfix...]" >&2
	exit 64
}

# fill DIR COUNT: an odmrd spool of COUNT copies of the 4 KB message for
# me@home.example, written with odmrd.py's own Spool class.
fill()
{
	rm -rf "$1"
	python3 -c 'import sys
sys.path.insert(0, sys.argv[1])
import odmrd
sp = odmrd.Spool(sys.argv[2])
body = open(sys.argv[3], "rb").read()
for i in range(int(sys.argv[4])):
	sp.add("a@bench.test", ["me@home.example"], body)
' "$ROOT/tests/lib" "$1" "$MSG" "$2"
}

# odmrd_start SPOOLSNAP: a fresh copy of the spool, the provider on PORT.
odmrd_start()
{
	rm -rf "$W/spool"
	cp -a "$1" "$W/spool"
	echo 'me:secret:home.example' >"$W/users"
	python3 "$ODMRD" --port "$PORT" --users "$W/users" \
	    --spool "$W/spool" --idle-timeout "$LIMIT" --timeout "$LIMIT" \
	    2>"$W/odmrd.log" &
	ODMRD_PID=$!
	t=0
	until grep -q "listening on 127.0.0.1:$PORT" "$W/odmrd.log"; do
		t=$((t + 1))
		[ $t -lt 100 ] || { note "odmrd did not start"; return 1; }
		sleep 0.05
	done
}

odmrd_stop()
{
	[ -n "$ODMRD_PID" ] || return 0
	kill -TERM "$ODMRD_PID" 2>/dev/null
	wait "$ODMRD_PID" 2>/dev/null
	ODMRD_PID=
}

# tern_conf TARGET: the configuration of one run (state fresh).
tern_conf()
{
	rm -rf "$W/state" "$W/Maildir"
	{
		echo "hostname bench.test"
		echo "state $W/state"
		echo "submit off"
		echo "[inbound]"
		echo "method atrn"
		echo "host 127.0.0.1"
		echo "port $PORT"
		echo "tls none"
		echo "auth cram-md5"
		echo "user me"
		echo "password_command echo secret"
		echo "domains home.example"
		echo "[deliver]"
		if [ "$1" = lmtp ]; then
			echo "method lmtp"
			echo "lmtp unix:$DC_SOCKET"
			echo "lmtp_user me"
		else
			echo "maildir $W/Maildir"
		fi
	} >"$W/tern.conf"
}

# in_box TARGET: messages delivered so far.
in_box()
{
	case $1 in
	maildir) d=$W/Maildir ;;
	lmtp)	d=$W/dovecot/mail/me ;;
	postfix) d=$W/postfix/mail/me ;;
	esac
	find "$d/new" "$d/cur" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# wait_box TARGET COUNT: until COUNT are delivered (bounded by LIMIT, or
# 30 s without progress); prints the count reached.
wait_box()
{
	t=0 last=-1 still=0
	while :; do
		c=$(in_box "$1")
		[ "$c" -ge "$2" ] && break
		[ "$c" = "$last" ] && still=$((still + 1)) || still=0
		last=$c
		[ $t -lt $((LIMIT * 10)) ] && [ $still -lt 300 ] || break
		sleep 0.1
		t=$((t + 1))
	done
	echo "$c"
}

# run_tern TARGET SPOOLSNAP COUNT TRACE: one pull; appends "TARGET RATE GOT
# RSS" (or, with TRACE, "fsync TARGET FSYNCS COUNT") to $W/results.
run_tern()
{
	if [ "$1" = lmtp ]; then
		dc_start "$W/dovecot" || { note "$PEER_SKIP"; return 1; }
	fi
	tern_conf "$1"
	odmrd_start "$2" || return 1
	if [ -n "$4" ]; then
		dtr=
		if [ "$1" = lmtp ]; then
			strace -f -c -e trace=fsync,fdatasync -o "$W/strace.dc" \
			    -p "$DC_MASTER" 2>/dev/null &
			dtr=$!
			sleep 0.5
		fi
		strace -f -c -e trace=fsync,fdatasync -o "$W/strace.tern" \
		    "$TERN" -c "$W/tern.conf" pull >"$W/pull.log" 2>&1
		got=$(wait_box "$1" "$3")
		f=$(strace_c_syncs "$W/strace.tern")
		if [ -n "$dtr" ]; then
			kill -INT "$dtr" 2>/dev/null
			wait "$dtr" 2>/dev/null
			f="$f $(strace_c_syncs "$W/strace.dc")"
		fi
		echo "fsync $1 $got $f" >>"$W/results"
	else
		# in a session of its own, so the sampler sees its RssAnon
		# (ru_maxrss counts the LMDB map's file pages too)
		rm -f "$W/sid"
		t0=$(now_ns)
		/usr/bin/time -f %M -o "$W/rss" setsid sh -c \
		    'echo $$ >"$0"; exec "$@"' "$W/sid" \
		    "$TERN" -c "$W/tern.conf" pull >"$W/pull.log" 2>&1 &
		pj=$!
		until [ -s "$W/sid" ]; do sleep 0.01; done
		sampler_start "$W/.peak" "$(cat "$W/sid")"
		wait "$pj" || note "tern pull failed (see $W/pull.log)"
		got=$(wait_box "$1" "$3")
		t1=$(now_ns)
		sampler_stop
		rss=$(tail -n 1 "$W/rss")
		anon=$(awk '{ print $3 }' "$W/.peak")
		hwm=-
		[ "$1" = lmtp ] && hwm=$(dc_hwm)
		echo "$1 $(awk -v n="$got" -v ns=$((t1 - t0)) \
		    'BEGIN { printf "%.1f", n / (ns / 1e9) }') $got $rss $hwm ${anon:-0}" \
		    >>"$W/results"
	fi
	odmrd_stop
	[ "$1" != lmtp ] || dc_stop
}

# dc_hwm: the largest VmHWM of the Dovecot instance's processes (KiB).
dc_hwm()
{
	m=0
	for p in $DC_MASTER $(ps -o pid= --ppid "$DC_MASTER"); do
		v=$(proc_field "$p" VmHWM)
		[ "$v" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# run_postfix SNAPCOUNT TRACE: smtp-source pushes COUNT messages over one
# session into a fresh Postfix; timed until all are in its maildir.
run_postfix()
{
	rm -rf "$W/postfix"
	mkdir -p "$W/postfix"
	mdir_setup "$W/postfix" "$PORT" || { note "postfix: $PEER_SKIP"
		return 1; }
	m=$(tr -d ' ' <"$W/postfix/spool/pid/master.pid")
	if [ -n "$2" ]; then
		strace -f -c -e trace=fsync,fdatasync -o "$W/strace.pf" \
		    $(msa_daemons "$W/postfix" | sed 's/^/-p /') \
		    2>/dev/null &
		ptr=$!
		sleep 0.5
	fi
	sampler_start "$W/.peak" "$m"
	t0=$(now_ns)
	smtp-source -s 1 -d -m "$1" -F "$MSG" -f a@bench.test \
	    -t me@home.example "127.0.0.1:$PORT" >/dev/null 2>>"$W/err" ||
	    note "smtp-source failed (see $W/err)"
	got=$(wait_box postfix "$1")
	t1=$(now_ns)
	sampler_stop
	if [ -n "$2" ]; then
		kill -INT "$ptr" 2>/dev/null
		wait "$ptr" 2>/dev/null
		echo "fsync postfix $got $(strace_c_syncs "$W/strace.pf")" \
		    >>"$W/results"
	else
		# shellcheck disable=SC2046 # five numbers
		set -- $(cat "$W/.peak")
		echo "postfix $(awk -v n="$got" -v ns=$((t1 - t0)) \
		    'BEGIN { printf "%.1f", n / (ns / 1e9) }') $got $2 -" \
		    >>"$W/results"
	fi
	peer_stop "$W/postfix"
}

# ---- the table ------------------------------------------------------------

table()
{
	awk -v n="$N" -v fn="$FN" -v dv="$(dc_version)" \
	    -v pv="$(postconf -d -h mail_version 2>/dev/null)" '
	function med(s,    a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	$1 == "fsync" {
		fs[$2] = sprintf("%.2f", $4 / ($3 > 0 ? $3 : 1))
		if (NF >= 5)
			fs[$2] = fs[$2] " + " sprintf("%.2f", $5 / ($3 > 0 ? $3 : 1)) " (Dovecot)"
		if ($3 != fn) fs[$2] = fs[$2] " (" $3 " of " fn " delivered)"
		next
	}
	{
		rates[$1] = rates[$1] " " $2
		if ($3 != n) bad[$1] = bad[$1] " got " $3 " of " n ";"
		if ($4 > rss[$1]) rss[$1] = $4
		if ($5 != "-" && $5 > drss[$1]) drss[$1] = $5
		if (NF >= 6 && $6 > anon[$1]) anon[$1] = $6
	}
	END {
		print "| path | msgs/s (median) | runs | fsyncs/msg | peak RSS KiB | tern ÷ Postfix |"
		print "|---|---:|---|---:|---:|---:|"
		p = ("postfix" in rates) ? med(rates["postfix"]) : 0
		split("maildir lmtp postfix", k, " ")
		split("tern pull → maildir|tern pull → Dovecot " dv " LMTP|reference: smtp-source → Postfix " pv " → maildir (virtual)", nm, "|")
		for (i = 1; i <= 3; i++) {
			t = k[i]
			if (!(t in rates)) continue
			m = med(rates[t])
			r = (t != "postfix" && p > 0) ? sprintf("%.2f", m / p) : "-"
			rs = rss[t]
			if (t != "postfix") rs = rs " (anon " anon[t] ")"
			if (t == "lmtp") rs = rs " (Dovecot: " drss[t] ")"
			if (t == "postfix") rs = rs " (largest process)"
			printf "| %s%s | %.0f | %s | %s | %s | %s |\n", nm[i],
			    (bad[t] != "") ? " (" bad[t] ")" : "", m,
			    substr(rates[t], 2), (t in fs) ? fs[t] : "-", rs, r
			if (t == "maildir" && p > 0) goal = m / p
		}
		print ""
		if (goal != "")
			printf "Goal, ATRN into maildir ≥ Postfix into maildir: tern ÷ Postfix = %.2f (%s).\n",
			    goal, (goal >= 1) ? "met" : "not met"
	}' "$W/results"
}

summary()
{
	rm -f "$SUM"
	pf=$(awk '$1 == "postfix" { print $2 }' "$W/results")
	for t in maildir lmtp; do
		m="msgs/s into a maildir"
		[ "$t" = lmtp ] && m="msgs/s into a mailbox, tern by LMTP"
		# shellcheck disable=SC2046 # the runs
		summary_row "$SUM" pull "$m" tern \
		    $(awk -v t="$t" '$1 == t { print $2 }' "$W/results")
		[ -z "$pf" ] || summary_row "$SUM" pull "$m" \
		    "postfix (smtp-source → maildir)" $pf
	done
}

main()
{
	targets=
	while [ $# -gt 0 ]; do
		case $1 in
		-n)	N=$2; shift 2 ;;
		-r)	RUNS=$2; shift 2 ;;
		-f)	FN=$2; shift 2 ;;
		-p|-s)	shift 2 ;;	# enqueue.sh options, via bench/run
		-h|--help) usage ;;
		-*)	usage ;;
		*)	targets="$targets $1"; shift ;;
		esac
	done
	[ -n "$targets" ] || targets=$ALL
	[ "$FN" -le "$N" ] || FN=$N
	[ -x "$ROOT/build/tern" ] || die "build/tern missing: run make"
	[ -f "$ODMRD" ] || die "tests/lib/odmrd.py missing"
	mkdir -p "$W"
	chmod 0755 "$OUT" "$RUNS_DIR" "$W"
	rm -f "$W/results" "$W/err"
	cp "$ROOT/build/tern" "$W/.tern" && TERN=$W/.tern
	PORT=$(free_tcp_port "$PORT")
	gen_message "$MSG"
	. "$BENCH/peers/postfix.sh"
	. "$BENCH/peers/submit/postfix.sh"
	. "$BENCH/peers/pull/postfix.sh"
	. "$BENCH/peers/pull/dovecot.sh"
	trap 'sampler_stop; odmrd_stop; dc_stop; peer_stop "$W/postfix" 2>/dev/null' EXIT
	note "pull: filling the provider's spool ($N and $FN messages)"
	fill "$W/spool.snap" "$N"
	fill "$W/spool-f.snap" "$FN"
	for tgt in $targets; do
		r=0
		while [ $r -lt "$RUNS" ]; do
			note "pull: $tgt, run $((r + 1)) of $RUNS ($N messages)"
			case $tgt in
			postfix) run_postfix "$N" "" ;;
			*)	run_tern "$tgt" "$W/spool.snap" "$N" "" ;;
			esac || break
			r=$((r + 1))
		done
		note "pull: $tgt, fsyncs over $FN messages (strace)"
		case $tgt in
		postfix) run_postfix "$FN" trace ;;
		*)	run_tern "$tgt" "$W/spool-f.snap" "$FN" trace ;;
		esac
	done
	summary
	day=$(date -u +%Y-%m-%dT%H%M%SZ)
	md=$OUT/pull-$day.md
	{
		echo "## pull: $N x $(wc -c <"$MSG")-byte messages by ATRN into a mailbox"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs," \
		    "$(df -T "$RUNS_DIR" | awk 'NR == 2 { print $2 }');" \
		    "runs $RUNS; fsyncs (fsync + fdatasync, strace -f -c) over $FN messages; provider tests/lib/odmrd.py, plain, AUTH CRAM-MD5."
		echo
		table
	} >"$md"
	cat "$md"
	echo
	echo "(written to ${md#"$ROOT"/})"
}

main "$@"
