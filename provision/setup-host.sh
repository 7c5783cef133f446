#!/usr/bin/env bash
# Prepares a Debian/Ubuntu controller (as root): the Debian packages followme
# drives (libvirt, QEMU, debootstrap, xorriso), KVM access for QEMU when the
# machine has it, the npm dependencies, and — unless --no-daemons — a running
# libvirtd + virtlogd for the main job. The test harness starts its own
# libvirtd inside a network namespace and does not need the machine's.
set -euo pipefail
cd "$(dirname "$0")/.."

daemons=1
[ "${1:-}" = "--no-daemons" ] && daemons=0

if [ "$(id -u)" != 0 ]; then echo "setup-host: run as root" >&2; exit 2; fi

packages=(
  libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
  qemu-system-x86 qemu-utils debootstrap xorriso dnsmasq-base
  iproute2 iptables e2fsprogs ca-certificates curl util-linux
  ffmpeg  # the video workload's test-pattern video (Table I of the paper)
  tcpdump  # npm run bench -- streams captures the streams' packets (FOLLOWME_STREAMS_PCAP)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The tests' second libvirt host (test/harness/two-hosts.sh) runs its own
# sshd in its namespace: the machine gets the binary, not a running service.
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup-host: installing openssh-server (its sshd left stopped and disabled: the tests start their own)"
  export DEBIAN_FRONTEND=noninteractive
  # No service start during the install; a policy the machine already has is left as it is.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && own_policy=1; fi
  rc=0
  apt-get update -q && apt-get install -y -q --no-install-recommends openssh-server || rc=$?
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || exit "$rc"
  if command -v systemctl >/dev/null; then systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true; fi
fi

# Debian's udev rule gives /dev/kvm to group kvm (mode 0660); without udev
# (containers, minimal VMs) the node stays root-only and QEMU, running as
# libvirt-qemu, cannot open it.
if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || true
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

if [ "$daemons" = 1 ]; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start virtlogd.socket libvirtd.socket libvirtd.service 2>/dev/null || systemctl start libvirtd
  else
    pgrep -x virtlogd >/dev/null || virtlogd -d
    pgrep -x libvirtd >/dev/null || libvirtd -d
  fi
  for _ in $(seq 1 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
  virsh -c qemu:///system version >/dev/null
fi
echo "setup-host: ready"
