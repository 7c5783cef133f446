# A second libvirt host for the sandbox (sourced by sandbox.sh when
# FOLLOWME_SANDBOX_HOSTS=2): a network namespace of its own, with its own
# libvirtd, virtlogd and sshd in a private mount namespace, joined to the
# sandbox's namespace by a veth pair, the underlay. Neither namespace has a
# route out. The controller reaches it only over qemu+ssh, with a client key
# made here and its host key pinned:
#   FOLLOWME_HOST2_URI       qemu+ssh://root@<underlay 2>/system?keyfile=…
#   FOLLOWME_HOST2_HOST_KEY  its sshd's ed25519 public key line
#   FOLLOWME_UNDERLAY1/2     the two ends' underlay addresses
#   FOLLOWME_HOST2_NETNS     its namespace (for faults: stop its libvirtd, cut the underlay)
#   FOLLOWME_HOST2_RUN       runs a command in its namespaces (the tests' own look at it)

UNDERLAY1=192.168.77.1
UNDERLAY2=192.168.77.2

start_second_host() {
  local h2ns="$FOLLOWME_NETNS-h2" w2="$work/host2"
  mkdir -p "$w2"/{etc,lib,run,log,cache}
  ip netns add "$h2ns"
  ip netns exec "$h2ns" ip link set lo up
  ip link add fmul1 type veth peer name fmul2 netns "$h2ns"
  ip addr add "$UNDERLAY1/24" dev fmul1
  ip link set fmul1 up
  ip netns exec "$h2ns" ip addr add "$UNDERLAY2/24" dev fmul2
  ip netns exec "$h2ns" ip link set fmul2 up

  ssh-keygen -q -t ed25519 -N '' -C followme-sandbox-controller -f "$w2/controller_key"
  ssh-keygen -q -t ed25519 -N '' -C followme-sandbox-host2 -f "$w2/ssh_host_ed25519_key"
  cp "$w2/controller_key.pub" "$w2/authorized_keys"
  chmod 0600 "$w2/controller_key" "$w2/ssh_host_ed25519_key" "$w2/authorized_keys"
  cat > "$w2/sshd_config" <<EOF
ListenAddress $UNDERLAY2
HostKey $w2/ssh_host_ed25519_key
PermitRootLogin prohibit-password
AuthorizedKeysFile $w2/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $w2/sshd.pid
EOF
  # Host 2's own libvirt, as the sandbox's (its config without the machine's networks, domains or pools); the daemons
  # keep the mount namespace alive after this shell ends.
  cp -a /etc/libvirt/. "$w2/etc/"
  rm -rf "$w2/etc/qemu/networks" "$w2/etc/storage" "$w2/etc/qemu/"*.xml "$w2/etc/nwfilter" 2>/dev/null || true
  ip netns exec "$h2ns" unshare --mount --propagation private bash -euc '
    w2=$1
    mount --bind "$w2/etc" /etc/libvirt
    mount --bind "$w2/lib" /var/lib/libvirt
    mount -t tmpfs -o mode=0755 tmpfs /run/libvirt
    mount --bind "$w2/log" /var/log/libvirt
    mount --bind "$w2/cache" /var/cache/libvirt
    mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/images /run/sshd
    virtlogd -d -p "$w2/virtlogd.pid"
    libvirtd -d -p "$w2/libvirtd.pid"
    /usr/sbin/sshd -f "$w2/sshd_config"
  ' second-host "$w2"
  # Runs a command in host 2's namespaces, as its own shell would (the tests look at it without followme's code).
  cat > "$w2/on-host2" <<EOF
#!/bin/sh
exec ip netns exec "$h2ns" nsenter --mount="/proc/\$(cat "$w2/libvirtd.pid")/ns/mnt" "\$@"
EOF
  chmod 0700 "$w2/on-host2"
  FOLLOWME_HOST2_URI="qemu+ssh://root@$UNDERLAY2/system?keyfile=$w2/controller_key"
  FOLLOWME_HOST2_HOST_KEY=$(cut -d' ' -f1,2 "$w2/ssh_host_ed25519_key.pub")
  export FOLLOWME_HOST2_URI FOLLOWME_HOST2_HOST_KEY FOLLOWME_HOST2_NETNS="$h2ns" FOLLOWME_HOST2_RUN="$w2/on-host2" FOLLOWME_UNDERLAY1="$UNDERLAY1" FOLLOWME_UNDERLAY2="$UNDERLAY2"
  # Up when libvirt answers over SSH at the pinned key.
  local known="$w2/known_hosts"
  echo "$UNDERLAY2 $FOLLOWME_HOST2_HOST_KEY" > "$known"
  for _ in $(seq 1 100); do
    "$w2/on-host2" virsh -c qemu:///system version >/dev/null 2>&1 &&
      ssh -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes \
        -i "$w2/controller_key" "root@$UNDERLAY2" true 2>/dev/null && break
    sleep 0.2
  done
  ssh -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -i "$w2/controller_key" "root@$UNDERLAY2" virsh -c qemu:///system version >/dev/null ||
    { echo "sandbox: the second host did not come up (libvirtd and sshd in $h2ns)" >&2; return 1; }
  echo "sandbox: second host in $h2ns, libvirtd over ssh at $UNDERLAY2" >&2
}

stop_second_host() {
  local h2ns="$FOLLOWME_NETNS-h2" w2="$work/host2" d
  ip netns list 2>/dev/null | grep -q "^$h2ns\b" || return 0
  for d in $("$w2/on-host2" virsh -q list --name 2>/dev/null); do "$w2/on-host2" virsh -q destroy "$d" >/dev/null 2>&1 || true; done
  kill $(ip netns pids "$h2ns" 2>/dev/null) 2>/dev/null || true
  sleep 0.5
  kill -9 $(ip netns pids "$h2ns" 2>/dev/null) 2>/dev/null || true
  ip netns del "$h2ns" 2>/dev/null || true
}
