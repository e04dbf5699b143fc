# SPDX-License-Identifier: ISC
# odmr.sh: the test ODMR provider (odmrd.py) and SMTP sink (smtpsink.py)
# for the integration tests. bash only: source it. Every process started
# here is remembered by name; odmr_stop_all (put it in the EXIT trap, e.g.
# `on_exit odmr_stop_all`) ends each of them by its pid.
#
#   odmrd_start NAME PORT [odmrd.py options]   log $ODMR_DIR/NAME.log
#   smtpsink_start NAME PORT DIR [options]     log $ODMR_DIR/NAME.log
#   odmr_stop NAME                             SIGTERM, SIGKILL after 5 s
#   odmr_enqueue SPOOL FROM TO[,TO...] < MSG   one held message
#   odmr_fill SPOOL N TO                       N small held messages
#   odmr_held SPOOL [DOMAIN]                   count of held messages
#   odmr_stat FILE PATH...                     numbers from --stats JSON, one
#                                              line each (PATH: key/key...)
#   sink_count DIR                             messages the sink stored
#
# The start functions wait for the "listening on" log line, not for a
# test connection, so --stats counts only the test's own sessions. Both
# servers get --idle-timeout 60 unless the caller passes one.

ODMR_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${ODMR_DIR:=${T:-$(mktemp -d /tmp/tern-odmr.XXXXXX)}}"
declare -A odmr_pids=()

# odmr_spawn NAME PORT command...: background start, wait until listening.
odmr_spawn()
{
	local name=$1 port=$2 i=0 pid
	shift 2
	: > "$ODMR_DIR/$name.log"
	"$@" 2> "$ODMR_DIR/$name.log" &
	pid=$!
	odmr_pids[$name]=$pid
	while [ "$i" -lt 100 ]; do
		if grep -q "listening on 127.0.0.1:$port" "$ODMR_DIR/$name.log"
		then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "odmr: $name died:" >&2
			cat "$ODMR_DIR/$name.log" >&2
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "odmr: $name not listening on $port after 5 s" >&2
	return 1
}

odmrd_start()
{
	local name=$1 port=$2
	shift 2
	odmr_spawn "$name" "$port" python3 "$ODMR_LIB/odmrd.py" \
	    --port "$port" --idle-timeout 60 "$@"
}

smtpsink_start()
{
	local name=$1 port=$2 dir=$3
	shift 3
	odmr_spawn "$name" "$port" python3 "$ODMR_LIB/smtpsink.py" \
	    --port "$port" --dir "$dir" --idle-timeout 60 "$@"
}

odmr_stop()
{
	local pid=${odmr_pids[$1]:-} i=0
	[ -n "$pid" ] || return 0
	unset "odmr_pids[$1]"
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

odmr_stop_all()
{
	local n
	for n in "${!odmr_pids[@]}"; do
		odmr_stop "$n"
	done
}

odmr_enqueue()
{
	python3 "$ODMR_LIB/odmrd.py" --spool "$1" --enqueue --from "$2" \
	    --to "$3" > /dev/null
}

odmr_fill()
{
	python3 "$ODMR_LIB/odmrd.py" --spool "$1" --fill "$2" --to "$3"
}

odmr_held()
{
	local n=0 f
	for f in "$1"/${2:-*}/*.env; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

odmr_stat()
{
	python3 -c 'import json, sys
top = json.load(open(sys.argv[1]))
for path in sys.argv[2:]:
	d = top
	for k in path.split("/"):
		d = d.get(k, 0) if isinstance(d, dict) else 0
	print(d)' "$@"
}

sink_count()
{
	local n=0 f
	for f in "$1"/*.env; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}
