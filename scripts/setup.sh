#!/bin/sh
# Installs every Debian 12 package that building, running and testing netprof needs.
# Idempotent: apt-get skips what is already installed. Run as root.
set -eu

BUILD_PKGS="make gcc pkg-config clang-19 llvm-19 clang libbpf-dev libelf-dev zlib1g-dev bpftool"
RUN_PKGS="iproute2 iptables nftables conntrack kmod ipset ethtool"
TEST_PKGS="jq python3 iperf3 sockperf qperf linux-perf procps psmisc nodejs"
# The VM test (tests/vm/): Debian's own kernel under qemu (TCG), busybox and
# netprof in a cpio initramfs.
VM_PKGS="qemu-system-x86 busybox-static cpio xz-utils"


if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (try: sudo $0)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD_PKGS $RUN_PKGS $TEST_PKGS $VM_PKGS >/dev/null
echo "setup.sh: all packages present"
