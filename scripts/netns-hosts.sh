#!/usr/bin/env bash
# Hosts on one machine, for shard tests and benches: Linux network namespaces
# joined by a bridge that has no uplink, so their traffic cannot leave the
# machine. Needs root and `ip netns`.
#
#   scripts/netns-hosts.sh up <tag> <n>     # namespaces <tag>-t (the target, 10.<k>.0.10) and <tag>-1 … <tag>-n (10.<k>.0.11 …)
#   scripts/netns-hosts.sh down <tag> <n>
#
# <tag> is short (the bridge is named br-<tag>, at most 15 characters); the
# subnet is 10.<k>.0.0/24 with k derived from the tag, printed by `up`.
set -euo pipefail
cmd=${1:?up|down}; tag=${2:?tag}; n=${3:?host count}
bridge="br-$tag"
k=$(( ( $(printf '%s' "$tag" | cksum | cut -d' ' -f1) % 200 ) + 20 ))
names=("$tag-t"); for i in $(seq 1 "$n"); do names+=("$tag-$i"); done

down() {
  for ns in "${names[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    # A namespace is torn down lazily: its veth end here can outlive it a while.
    ip link del "v-$ns" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "netns-hosts: up or down, not $cmd" >&2; exit 2; }
trap 'down' ERR
ip link add "$bridge" type bridge
ip link set "$bridge" up
for idx in "${!names[@]}"; do
  ns=${names[$idx]}
  ip netns add "$ns"
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master "$bridge" up
  ip netns exec "$ns" ip addr add "10.$k.0.$((10 + idx))/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip link set lo up
done
echo "10.$k.0"
