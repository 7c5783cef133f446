#!/usr/bin/env bash
# Runs a command inside a hermetic sandbox: a fresh network namespace with no
# route out, holding its own libvirtd and virtlogd, whose sockets, config and
# state live in a private mount namespace. A libvirtd already running on the
# machine is not touched. Everything started inside is killed on exit.
#   usage: test/harness/sandbox.sh COMMAND [ARGS...]
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "sandbox: must run as root (it creates a network namespace and starts libvirtd)" >&2
  exit 2
fi

# What a sandbox killed outright (SIGKILL, a machine that went down) left: its
# namespace with whatever ran in it (QEMU guests), and its work directory
# (guest disks, GBs). A sandbox is dead when the shell named in its namespace
# is; its directory names its namespace. A live one is never touched.
sweep_dead_sandboxes() {
  local old pids dir pid
  for old in $(ip netns list 2>/dev/null | awk '/^followme-sb-[0-9]+/ {print $1}'); do
    # followme-sb-<pid>, or followme-sb-<pid>-h2 for its second host: the shell's pid either way.
    pid=${old#followme-sb-}
    kill -0 "${pid%%-*}" 2>/dev/null && continue
    pids=$(ip netns pids "$old" 2>/dev/null || true)
    if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null || true; sleep 1; fi
    ip netns del "$old" 2>/dev/null || true
    echo "sandbox: removed $old, left by a sandbox that died" >&2
  done
  for dir in /var/tmp/followme-sandbox.*; do
    [ -s "$dir/netns" ] || continue
    ip netns list 2>/dev/null | grep -q "^$(cat "$dir/netns")\b" && continue
    rm -rf "$dir"
    echo "sandbox: removed $dir, left by a sandbox that died" >&2
  done
}

if [ -z "${FOLLOWME_SANDBOX_INNER:-}" ]; then
  sweep_dead_sandboxes
  ns="followme-sb-$$"
  # Killed (a signal to the whole group), the inner shell's own exit trap destroys the guests and removes its
  # directory: let it finish (30 s at most, asking what is left to end after 10 s) before killing what remains.
  cleanup() {
    local n
    for n in $(seq 1 60); do
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      [ "$n" = 20 ] && { kill $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null || true; }
      sleep 0.5
    done
    kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null || true
    kill -9 $(ip netns pids "$ns-h2" 2>/dev/null) 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$ns-h2" 2>/dev/null || true
  }
  trap cleanup EXIT
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  set +e
  ip netns exec "$ns" unshare --mount --propagation private \
    env FOLLOWME_SANDBOX_INNER=1 FOLLOWME_NETNS="$ns" bash "$0" "$@"
  rc=$?
  exit $rc
fi

# --- inside the namespaces ---
work=$(mktemp -d /var/tmp/followme-sandbox.XXXXXX)
echo "$FOLLOWME_NETNS" > "$work/netns"
export FOLLOWME_STATE_DIR="${FOLLOWME_STATE_DIR:-$work/state}"
mkdir -p "$work"/{etc,lib,run,log,cache} "$FOLLOWME_STATE_DIR"
# libvirt keeps persistent definitions under /etc/libvirt: start from the
# machine's config files, without its networks, domains or pools.
cp -a /etc/libvirt/. "$work/etc/"
rm -rf "$work/etc/qemu/networks" "$work/etc/storage" "$work/etc/qemu/"*.xml "$work/etc/nwfilter" 2>/dev/null || true
mount --bind "$work/etc" /etc/libvirt
mount --bind "$work/lib" /var/lib/libvirt
mount -t tmpfs -o mode=0755 tmpfs /run/libvirt 2>/dev/null || { mkdir -p /run/libvirt; mount -t tmpfs -o mode=0755 tmpfs /run/libvirt; }
mkdir -p /var/log/libvirt && mount --bind "$work/log" /var/log/libvirt
mkdir -p /var/cache/libvirt && mount --bind "$work/cache" /var/cache/libvirt
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/images

stop_daemons() {
  if type stop_second_host >/dev/null 2>&1; then stop_second_host; fi
  for d in $(virsh -q list --name 2>/dev/null); do virsh -q destroy "$d" >/dev/null 2>&1 || true; done
  [ -f "$work/libvirtd.pid" ] && kill "$(cat "$work/libvirtd.pid")" 2>/dev/null || true
  [ -f "$work/virtlogd.pid" ] && kill "$(cat "$work/virtlogd.pid")" 2>/dev/null || true
  sleep 0.5
  umount -l /var/cache/libvirt /var/log/libvirt /run/libvirt /var/lib/libvirt /etc/libvirt 2>/dev/null || true
  if [ -z "${FOLLOWME_SANDBOX_KEEP:-}" ]; then rm -rf "$work"; else echo "sandbox: kept $work" >&2; fi
}
trap stop_daemons EXIT

virtlogd -d -p "$work/virtlogd.pid"
libvirtd -d -p "$work/libvirtd.pid"
for _ in $(seq 1 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.2
done
virsh -c qemu:///system version >/dev/null || { echo "sandbox: libvirtd did not start" >&2; exit 1; }
if [ "${FOLLOWME_SANDBOX_HOSTS:-1}" = 2 ]; then
  . "$(dirname "$0")/second-host.sh"
  start_second_host
fi
echo "sandbox: netns $FOLLOWME_NETNS, private libvirtd up, state in $FOLLOWME_STATE_DIR" >&2

set +e
"$@"
