# SPDX-License-Identifier: ISC
# Sourced by integration tests (bash). Gives each test a private directory,
# a config whose state lives there, and small assertion helpers. The runner
# sets TERN, TERND (binaries under test) and TERN_TOP (the checkout).
set -u
: "${TERN_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TERN:=$TERN_TOP/build/check/tern}"
: "${TERND:=$TERN_TOP/build/check/ternd}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1}"
export LSAN_OPTIONS="suppressions=$TERN_TOP/tests/lsan.supp"

T=$(mktemp -d /tmp/tern-test.XXXXXX)
chmod 755 "$T"
CONF=$T/tern.conf
export TERN_CONFIG=$CONF
export HOME=$T/home
mkdir -p "$HOME"
checks=0

cleanup_hooks=()
on_exit() { cleanup_hooks+=("$1"); }
run_cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
}
trap run_cleanup EXIT

# write_conf [extra lines...]: hostname and state fixed, the rest appended
write_conf() {
	{
		echo "hostname node.test"
		echo "state $T/state"
		echo "from me@node.test"
		printf '%s\n' "$@"
	} > "$CONF"
}
write_conf

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok: $*"; }

# expect_rc CODE DESCRIPTION -- command...
expect_rc() {
	local want=$1 what=$2 rc
	shift 3
	"$@" > "$T/out" 2> "$T/err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$T/err" >&2; fail "$what: exit $rc, want $want"; }
	ok "$what (exit $rc)"
}

# stderr of the last expect_rc must contain a string
expect_err() {
	grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$1'"; }
	ok "stderr says '$1'"
}

qjson() { "$TERN" queue --json; }
qcount() { "$TERN" queue --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
