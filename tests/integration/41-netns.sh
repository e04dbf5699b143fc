#!/bin/bash
# SPDX-License-Identifier: ISC
# A link going up in a network namespace made by the test (veth, default
# route added) makes ternd deliver without any hook: netlink, no polling.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$(dirname "$0")/../lib/common.sh"
NS=tern$$
ip netns add "$NS" 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 0; }
on_exit "ip netns del $NS"
on_exit "ip link del tv$$a 2>/dev/null"
nx() { ip netns exec "$NS" "$@"; }
nx ip link set lo up
mkdir -p "$T/sink"
ip netns exec "$NS" smtp-sink -d "$T/sink/%M." -u root 127.0.0.1:2525 10 > "$T/sink.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for i in $(seq 50); do nx bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null && break; sleep 0.1; done
write_conf "submit off" "[smarthost]" "host 127.0.0.1" "port 2525" "tls none" "[retry]" "schedule 1h"
ip netns exec "$NS" "$TERND" -c "$CONF" 2> "$T/ternd.log" &
tpid=$!
on_exit "kill $tpid 2>/dev/null"
for i in $(seq 100); do [ -S "$T/state/control.sock" ] && break; sleep 0.05; done
sleep 0.3
[ "$("$TERN" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["link"])')" = down ] ||
	{ cat "$T/ternd.log"; "$TERN" status --json; fail "link should be down without a default route"; }
ok "no default route: link down"
printf 'Subject: netns\n\nhi\n' | nx "$TERN" sendmail a@x.test || fail inject
sleep 1
[ -z "$(ls "$T/sink")" ] || fail "delivered while down"
ok "mail waits while the link is down"
# The link comes up: a veth with an address and a default route.
ip link add tv$$a type veth peer name tv$$b
ip link set tv$$b netns "$NS"
nx ip addr add 198.18.0.2/24 dev tv$$b
nx ip link set tv$$b up
ip link set tv$$a up
nx ip route add default dev tv$$b
for i in $(seq 100); do [ -n "$(ls "$T/sink")" ] && break; sleep 0.1; done
[ -n "$(ls "$T/sink")" ] || { cat "$T/ternd.log"; fail "no delivery after the default route appeared"; }
grep -q "link up (route change)" "$T/ternd.log" || fail "ternd did not log the link change"
ok "default route added: ternd saw it and delivered, no hook called"
nx ip route del default
sleep 0.5
grep -q "link down (route change)" "$T/ternd.log" || fail "route removal not seen"
ok "default route removed: link down"
echo "$checks checks passed"
