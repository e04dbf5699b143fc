# SPDX-License-Identifier: ISC
# shellcheck shell=sh disable=SC2034 # sourced: its variables are used by the caller
# Helpers shared by the bench/ scenarios. POSIX sh, sourced; needs $BENCH
# (the bench/ directory) set by the caller.

ROOT=$(cd "$BENCH/.." && pwd)
OUT=${BENCH_OUT:-$BENCH/out}
PEERS=$OUT/peers		# extracted .deb trees, one folder per peer
DEBS=$OUT/debs			# downloaded .deb files (never committed)
RUNS_DIR=$OUT/run		# fresh instances; on disk, not tmpfs, so
				# fsync costs what it costs

note()
{
	printf '%s\n' "bench: $*" >&2
}

die()
{
	note "$*"
	exit 1
}

# now_ns: monotonic enough for whole-second spans; date is the only clock
# POSIX sh has, and two extra processes per run are noise.
now_ns()
{
	date +%s%N
}

# fetch_debs DEST PKG...: apt-get download each package once into $DEBS and
# unpack it into DEST with dpkg -x. Nothing is installed system-wide.
fetch_debs()
{
	dest=$1
	shift
	mkdir -p "$DEBS" "$dest"
	for pkg in "$@"; do
		set -- "$DEBS"/"${pkg}"_*.deb
		if [ ! -f "$1" ]; then
			(cd "$DEBS" && apt-get download "$pkg" >/dev/null 2>&1) ||
			    { note "apt-get download $pkg failed"; return 1; }
			set -- "$DEBS"/"${pkg}"_*.deb
		fi
		dpkg -x "$1" "$dest" || return 1
	done
}

# ns_expose PATH TARGET: inside a private mount namespace, make PATH (a
# compiled-in path of a peer, absent on this host) a symlink to TARGET. The
# parent directory gets a read-only overlay whose top layer holds the link,
# so the real filesystem is never touched. Call ns_mount after all; both
# are no-ops once mounted (the instance path of a peer is fixed).
ns_expose()
{
	[ -z "$NS_MOUNTED" ] || return 0
	parent=$(dirname "$1")
	top=$NS_TOP$(printf '%s' "$parent" | tr / _)
	mkdir -p "$top"
	printf '%s\n' "$parent" >"$top.parent"
	ln -sfn "$2" "$top/$(basename "$1")"
}

ns_mount()
{
	[ -z "$NS_MOUNTED" ] || return 0
	NS_MOUNTED=1
	for p in "$NS_TOP"*.parent; do
		[ -f "$p" ] || continue
		parent=$(cat "$p")
		mount -t overlay overlay \
		    -o "lowerdir=${p%.parent}:$parent" "$parent" ||
		    die "overlay on $parent failed (need root and unshare -m)"
	done
}

# gen_message FILE: the same deterministic 4096-byte message for all peers
# (LF line ends, as an MUA hands it to sendmail).
gen_message()
{
	awk 'BEGIN {
		h = "From: Bench <bench@example.org>\n" \
		    "To: Recipient <rcpt@example.org>\n" \
		    "Subject: enqueue benchmark message\n" \
		    "Date: Thu, 01 Jan 2026 00:00:00 +0000\n" \
		    "Message-ID: <bench-enqueue@example.org>\n" \
		    "MIME-Version: 1.0\n" \
		    "Content-Type: text/plain; charset=us-ascii\n\n"
		printf "%s", h
		n = length(h)
		for (i = 0; n + 63 <= 4096 - 64; i++) {
			l = sprintf("Line %03d: the quick brown fox jumps over " \
			    "the lazy dog 0123456789\n", i)
			printf "%s", l
			n += length(l)
		}
		pad = 4096 - n - 1
		l = ""
		while (length(l) < pad)
			l = l "x"
		printf "%s\n", l
	}' >"$1"
}

# inject_loop N: run $INJECT N times, each on a fresh copy of $MSG on
# stdin. Stops at the first failure (returns its status).
inject_loop()
{
	k=0
	while [ $k -lt "$1" ]; do
		# shellcheck disable=SC2086 # INJECT is a word list by design
		$INJECT <"$MSG" >/dev/null || return $?
		k=$((k + 1))
	done
}

# inject_parallel N P: N injections spread over P concurrent loops.
inject_parallel()
{
	n=$1
	p=$2
	if [ "$p" -le 1 ]; then
		inject_loop "$n"
		return
	fi
	j=0
	pids=
	while [ $j -lt "$p" ]; do
		share=$((n / p))
		[ $j -lt $((n % p)) ] && share=$((share + 1))
		inject_loop "$share" &
		pids="$pids $!"
		j=$((j + 1))
	done
	st=0
	for pid in $pids; do
		wait "$pid" || st=$?
	done
	return $st
}

# count_sync TRACE: from an `strace -f -o` log, print "FSYNCS SYNCWRITES":
# calls of the fsync family, and writes to descriptors opened O_SYNC or
# O_DSYNC (LMDB writes its meta page that way instead of a second fsync).
count_sync()
{
	awk '
	function handle(pid, s,    fd, m) {
		if (s ~ /^(fsync|fdatasync|sync_file_range|syncfs|sync)\(/) {
			fs++
			return
		}
		if (s ~ /^msync\(/ && s ~ /MS_SYNC/) {
			fs++
			return
		}
		if (s ~ /^(open|openat|openat2|creat)\(/ && s ~ /= [0-9]+/) {
			m = s
			sub(/.*= /, "", m)
			fd = m + 0
			dsync[pid, fd] = (s ~ /O_SYNC|O_DSYNC/)
			return
		}
		if (s ~ /^(write|pwrite64|writev|pwritev|pwritev2)\([0-9]+,/) {
			m = s
			sub(/^[a-z0-9]+\(/, "", m)
			fd = m + 0
			if (dsync[pid, fd])
				sw++
			return
		}
		if (s ~ /^close\([0-9]+\)/) {
			m = s
			sub(/^close\(/, "", m)
			delete dsync[pid, m + 0]
		}
	}
	{
		pid = $1
		s = $0
		sub(/^[0-9]+ +/, "", s)
		if (s ~ /<unfinished \.\.\.>$/) {
			sub(/ *<unfinished \.\.\.>$/, "", s)
			part[pid] = s
			next
		}
		if (s ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
			sub(/^<\.\.\. [a-z0-9_]+ resumed>/, "", s)
			s = part[pid] s
			delete part[pid]
		}
		handle(pid, s)
	}
	END { printf "%d %d\n", fs, sw }
	' "$1"
}

# The syscalls count_sync needs; everything else stays untraced.
STRACE_SET=open,openat,creat,close,write,pwrite64,writev,pwritev,pwritev2
STRACE_SET=$STRACE_SET,fsync,fdatasync,sync_file_range,syncfs,sync,msync

# median A B C ...: of numbers.
median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# deb_version PKG: the upstream-and-Debian version of a downloaded .deb.
deb_version()
{
	for d in "$DEBS/$1"_*.deb; do
		dpkg-deb -f "$d" Version 2>/dev/null | sed 's/^[0-9]*://'
		return
	done
}

# ---- added for submit.sh and pull.sh --------------------------------------

# The RSS sampler: every 0.1 s, the processes whose session id is one of
# SIDS (or whose pid is, when a session id is not known), until SIGTERM;
# then one line to OUT: "PEAK_RSS PEAK_HWM PEAK_ANON PEAK_SUM PEAK_PROCS"
# (KiB; RSS, VmHWM and RssAnon of the largest process, the largest sum of
# VmRSS over one sample, the most processes at one sample).
SAMPLER_PY='
import os, signal, sys, time
out, sids = sys.argv[1], set(int(x) for x in sys.argv[2:])
peak = [0, 0, 0, 0, 0]
def done(sig, frame):
    sample()
    with open(out, "w") as f:
        print(*peak, file=f)
    sys.exit(0)
def sample():
    cnt = tot = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
            r = st.rindex(")")
            sid = int(st[r + 2:].split()[3])
            if sid not in sids and int(p) not in sids:
                continue
            if st[st.index("(") + 1:r] in ("time", "strace"):
                continue
            v = {}
            for line in open("/proc/%s/status" % p):
                k, _, rest = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon"):
                    v[k] = int(rest.split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if not v.get("VmRSS"):
            continue
        cnt += 1
        tot += v["VmRSS"]
        peak[0] = max(peak[0], v["VmRSS"])
        peak[1] = max(peak[1], v.get("VmHWM", 0))
        peak[2] = max(peak[2], v.get("RssAnon", 0))
    peak[3] = max(peak[3], tot)
    peak[4] = max(peak[4], cnt)
signal.signal(signal.SIGTERM, done)
while True:
    sample()
    time.sleep(0.1)
'

# sampler_start OUT SID...: the sampler in the background (SAMPLER_PID).
sampler_start()
{
	rm -f "$1"
	python3 -c "$SAMPLER_PY" "$@" &
	SAMPLER_PID=$!
}

# sampler_stop: ends the sampler started last and waits for its line.
sampler_stop()
{
	[ -n "${SAMPLER_PID:-}" ] || return 0
	kill -TERM "$SAMPLER_PID" 2>/dev/null
	wait "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=
}

# proc_field PID FIELD: a number from /proc/PID/status (KiB or count).
proc_field()
{
	awk -v k="$2:" '$1 == k { print $2; found = 1 }
	    END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null ||
	    echo 0
}

# vol_switches PID...: voluntary context switches summed over the threads
# of each process (a thread that sleeps and wakes counts one each time);
# a process that is gone counts 0.
vol_switches()
{
	s=0
	for p in "$@"; do
		for t in /proc/"$p"/task/*/status; do
			[ -f "$t" ] || continue
			v=$(awk '$1 == "voluntary_ctxt_switches:" { print $2 }' \
			    "$t" 2>/dev/null)
			s=$((s + ${v:-0}))
		done
	done
	echo "$s"
}

# strace_c_syncs FILE: calls of fsync + fdatasync in an `strace -c -o FILE`
# summary.
strace_c_syncs()
{
	awk '$NF == "fsync" || $NF == "fdatasync" {
		# columns: %time seconds usecs/call calls [errors] syscall
		n += $4
	} END { print n + 0 }' "$1" 2>/dev/null
}

# wait_listen PORT [TENTHS]: until something listens on 127.0.0.1:PORT.
wait_listen()
{
	wl=0
	until ss -Hltn "sport = :$1" | grep -q .; do
		wl=$((wl + 1))
		[ $wl -lt "${2:-100}" ] || return 1
		sleep 0.1
	done
}

# free_tcp_port FROM: the first port from FROM on which nothing listens.
free_tcp_port()
{
	fp=$1
	while ss -Hltn "sport = :$fp" | grep -q .; do
		fp=$((fp + 1))
	done
	echo "$fp"
}

# spread V...: "MEDIAN MIN MAX" of numbers (each "-" when there are none).
spread()
{
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
	    { v[NR] = $1 }
	    END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %s %s\n", m, v[1], v[NR]
	    }'
}

# summary_row FILE SCENARIO MEASURE WHO RUNS...: one line of the summary
# bench/run prints: "SCENARIO<TAB>MEASURE<TAB>WHO<TAB>MEDIAN<TAB>MIN<TAB>MAX"
# (WHO is tern or a peer; RUNS the figures of the individual runs).
summary_row()
{
	sf=$1 ss=$2 sm=$3 sw=$4
	shift 4
	# shellcheck disable=SC2046 # three numbers
	set -- $(spread "$@")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ss" "$sm" "$sw" "$1" "$2" "$3" >>"$sf"
}
