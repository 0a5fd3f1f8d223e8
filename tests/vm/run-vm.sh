#!/usr/bin/env bash
# Runs shell commands as root inside Debian 12's own distribution kernel
# (linux-image-6.1.0-*-amd64, the one `linux-image-amd64` depends on today)
# booted under qemu with TCG emulation, with a static netprof, busybox, the
# network tools netprof runs (ip, tc, iptables-legacy/nft, ipset, nft, sysctl,
# bpftool) and the modules its datapaths need, loaded in dependency order.
#
#   tests/vm/run-vm.sh 'netprof check' 'netprof run --cni calico -d 1s'
#   tests/vm/run-vm.sh -o /tmp/vmout -v 'netprof check -v'      (-v: console live)
#
# One boot runs every command in order, each in /tmp/work of the guest under
# `bash -c` (PATH: the host's tools first, then busybox's applets); each
# command's output and exit status come back as
#   RESULTS/NN.cmd  NN.out (stdout)  NN.err (stderr)  NN.rc  NN.seconds
# (NN = 01, 02, ... in the order given)
# and the kernel console as RESULTS/console.log, the guest's module loading as
# RESULTS/modules.log, `uname -r` as RESULTS/kernel. RESULTS is -o DIR, else
# $OUTPUT/vm/results (OUTPUT defaults to .output). The sections are also
# printed on stdout unless -q.
#
# Cached under $OUTPUT/vm/ (so a second run only repacks netprof and the
# commands, a few seconds plus the boot):
#   kernel-<version>/   the package's vmlinuz, config and the module subset (~15 MB)
#   base-<version>.cpio.gz  busybox, tools and libraries, modules, /init
# Delete $OUTPUT/vm to start afresh; a newer kernel package is picked up by
# itself (the name is asked of apt at run time, a network failure falls back
# to the newest cached kernel).
#
# The static netprof is $NETPROF_STATIC, else $OUTPUT/static/netprof, brought
# up to date with `make OUTPUT=$OUTPUT $OUTPUT/static/netprof` (the Makefile's
# `static` target, which links the objects of the normal build).
#
# Exit status: 0 the guest ran every command and powered off (whatever the
# commands returned: see NN.rc); 1 the guest did not finish (timeout after
# $VM_TIMEOUT s, default 900, or a crash: see console.log); 77 the VM cannot
# run here (no qemu, no kernel package): the reason is in RESULTS/skip and
# on stderr. Other knobs: VM_MEM (MiB, default 2048), VM_SMP (default 2),
# VM_CMD_TIMEOUT (s per command, default 600; a command stopped by it exits
# 143 and the next one runs), QEMU (default qemu-system-x86_64).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
CACHE=$OUTPUT/vm
RESULTS=$CACHE/results
VERBOSE=0
QUIET=0
VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_MEM=${VM_MEM:-2048}
VM_SMP=${VM_SMP:-2}
VM_CMD_TIMEOUT=${VM_CMD_TIMEOUT:-600}
QEMU=${QEMU:-qemu-system-x86_64}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

while getopts "o:vqh" opt; do
	case $opt in
	o) RESULTS=$OPTARG ;;
	v) VERBOSE=1 ;;
	q) QUIET=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
mkdir -p "$RESULTS"
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
rm -f "$RESULTS"/[0-9]*.cmd "$RESULTS"/[0-9]*.out "$RESULTS"/[0-9]*.err "$RESULTS"/[0-9]*.rc \
	"$RESULTS"/[0-9]*.seconds \
	"$RESULTS"/console.log "$RESULTS"/results.raw "$RESULTS"/skip "$RESULTS"/kernel \
	"$RESULTS"/modules.log "$RESULTS"/done "$RESULTS"/boot-seconds "$RESULTS"/qemu.err

log() { echo "run-vm: $*" >&2; }
cannot_run() {
	echo "$*" > "$RESULTS/skip"
	log "cannot run the VM: $*"
	exit 77
}

# ---- what the guest needs ----

# Modules netprof's datapaths and `netprof check` use; their dependencies come
# from the package's modules.dep (modprobe --show-depends), in load order.
GUEST_MODULES="veth macvlan ipvlan vxlan bridge
	nf_conntrack nf_nat nf_defrag_ipv4 nf_defrag_ipv6
	x_tables ip_tables iptable_filter iptable_nat iptable_mangle iptable_raw ipt_rpfilter
	ip6_tables ip6table_filter ip6table_nat ip6table_mangle ip6table_raw ip6t_rpfilter
	xt_comment xt_conntrack xt_mark xt_multiport xt_owner xt_addrtype xt_statistic xt_tcpudp
	xt_nat xt_MASQUERADE xt_REDIRECT xt_set xt_connmark xt_CT
	ip_set ip_set_hash_ip ip_set_hash_net ip_set_hash_ipport ip_set_bitmap_port
	nf_tables nft_compat nft_chain_nat nft_ct nft_nat nft_masq nft_redir nft_reject_inet
	nft_fib_inet nft_limit nft_numgen nft_hash
	sch_ingress cls_bpf act_bpf act_mirred act_gact"

# Programs netprof runs through RUN() (grep user/ for RUN( and run_cmd_full),
# copied with the libraries ldd names, and bash for the commands: Debian's
# static busybox sh runs its own applets (ip, sysctl ...) ahead of PATH, and
# busybox ip has no `netns`. Busybox supplies the rest (mount, insmod,
# modprobe, ls, grep ...), after them in PATH.
GUEST_TOOLS="ip tc iptables-legacy iptables-legacy-restore iptables-legacy-save
	iptables-nft iptables-nft-restore iptables-nft-save ipset nft sysctl bpftool bash"

for need in "$QEMU" cpio gzip apt-get dpkg-deb depmod modprobe; do
	command -v "$need" >/dev/null 2>&1 ||
		cannot_run "$need not installed (run scripts/setup.sh)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || cannot_run "busybox not installed (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	cannot_run "$BUSYBOX is not static (apt-get install busybox-static)"

mkdir -p "$CACHE"

# ---- the kernel package ----

# The newest kernel already prepared in the cache, as a package name.
cached_kernel() {
	local d
	d=$(find "$CACHE" -maxdepth 2 -path "$CACHE/kernel-*/vmlinuz" 2>/dev/null | sort -V | tail -1)
	[ -z "$d" ] || basename "$(dirname "$d")" | sed 's/^kernel-/linux-image-/'
}

set_kernel() {
	KPKG=$1
	KVER=${KPKG#linux-image-}
	KDIR=$CACHE/kernel-$KVER
}

# The kernel package that linux-image-amd64 depends on today, as apt's lists say.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9.]+-[0-9]+-amd64$/ {print $2; exit}')
# apt knows no candidate (no lists): the newest kernel already cached.
[ -n "$KPKG" ] || KPKG=$(cached_kernel)
[ -n "$KPKG" ] || cannot_run "apt-cache names no linux-image-*-amd64 (run apt-get update)"
set_kernel "$KPKG"

prepare_kernel() {
	local tmp deb mods
	tmp=$(mktemp -d "$CACHE/kernel.XXXXXX")
	log "downloading $KPKG (first run only)"
	if ! (cd "$tmp" && apt-get download "$KPKG" >"$tmp/apt.log" 2>&1); then
		log "$(tail -2 "$tmp/apt.log")"
		rm -rf "$tmp"
		return 1
	fi
	deb=$(ls "$tmp"/*.deb)
	dpkg-deb -x "$deb" "$tmp/pkg" || { rm -rf "$tmp"; cannot_run "dpkg-deb -x $deb failed"; }
	mods=$tmp/pkg/lib/modules/$KVER
	[ -d "$mods" ] || { rm -rf "$tmp"; cannot_run "$KPKG has no lib/modules/$KVER"; }
	# The package ships no modules.dep (its postinst runs depmod).
	depmod -b "$tmp/pkg" "$KVER" || { rm -rf "$tmp"; cannot_run "depmod for $KVER failed"; }
	mkdir -p "$tmp/out/lib/modules/$KVER"
	local m line path list=$tmp/out/load.list
	: > "$list"
	for m in $GUEST_MODULES; do
		if ! modprobe -d "$tmp/pkg" -S "$KVER" --show-depends "$m" >"$tmp/dep" 2>&1; then
			# Built in, or absent from this kernel: say which in the log.
			echo "# $m: $(head -1 "$tmp/dep")" >> "$list"
			continue
		fi
		while read -r line; do
			case $line in
			insmod\ *) path=${line#insmod }; path=${path%% *}
				   path=${path#"$mods"/}
				   grep -qxF "$path" "$list" || echo "$path" >> "$list" ;;
			builtin\ *) echo "# ${line}" >> "$list" ;;
			esac
		done < "$tmp/dep"
	done
	while read -r path; do
		case $path in '#'*) continue ;; esac
		mkdir -p "$tmp/out/lib/modules/$KVER/$(dirname "$path")"
		case $path in
		*.ko.xz) xz -dc "$mods/$path" > "$tmp/out/lib/modules/$KVER/${path%.xz}" ;;
		*.ko.zst) zstd -qdc "$mods/$path" > "$tmp/out/lib/modules/$KVER/${path%.zst}" ;;
		*) cp "$mods/$path" "$tmp/out/lib/modules/$KVER/$path" ;;
		esac
	done < "$list"
	sed -i 's/\.ko\.\(xz\|zst\)$/.ko/' "$list"
	cp "$mods"/modules.builtin "$mods"/modules.order "$tmp/out/lib/modules/$KVER/"
	# The subset's own modules.dep: busybox modprobe serves the kernel's
	# request_module() (an iptables match netprof did not preload).
	depmod -b "$tmp/out" "$KVER" 2>/dev/null || { rm -rf "$tmp"; cannot_run "depmod for the module subset failed"; }
	cp "$tmp"/pkg/boot/vmlinuz-"$KVER" "$tmp/out/vmlinuz"
	cp "$tmp"/pkg/boot/config-"$KVER" "$tmp/out/config"
	rm -rf "$KDIR"
	mv "$tmp/out" "$KDIR"
	rm -rf "$tmp"
}

if [ ! -s "$KDIR/vmlinuz" ] && ! prepare_kernel; then
	# No network: a kernel cached by an earlier run still tests 6.1.
	cached=$(cached_kernel)
	[ -n "$cached" ] || cannot_run "apt-get download $KPKG failed (no network or no apt lists?)"
	log "apt-get download $KPKG failed: using the cached $cached"
	set_kernel "$cached"
fi

# ---- the base initramfs: busybox, tools, libraries, modules, /init ----

BASE=$CACHE/base-$KVER.cpio.gz
# The base is rebuilt when this script (the lists, /init) or a tool changes.
base_key() {
	{
		sha256sum "$0"
		for t in $GUEST_TOOLS; do
			p=$(command -v "$t" 2>/dev/null) && ls -lL "$p"
		done
		ls -lL "$BUSYBOX"
	} | sha256sum | cut -c1-16
}
KEY=$(base_key)

copy_with_libs() { # copy_with_libs FILE STAGE: FILE at its real path, plus its libraries
	local f=$1 stage=$2 lib
	mkdir -p "$stage$(dirname "$f")"
	cp -L "$f" "$stage$f"
	for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

write_init() {
	cat > "$1/init" <<'EOF'
#!/bin/busybox sh
# The guest's pid 1: mounts what netprof expects, loads the modules, runs
# /vm/commands (one command per file, in order) and powers off. Results go to
# the second serial port (ttyS1) as framed sections; the kernel console is
# ttyS0.
/bin/busybox mkdir -p /bbin
/bin/busybox --install -s /bbin
export PATH=/usr/sbin:/usr/bin:/bbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
hostname netprof-vm
ip link set lo up
echo /bbin/modprobe > /proc/sys/kernel/modprobe
R=/dev/ttyS1
kver=$(uname -r)
{
	echo "=== VM-KERNEL $kver"
	echo "=== VM-MODULES-BEGIN"
	while read -r m; do
		case $m in '#'*) echo "$m"; continue ;; esac
		if out=$(insmod "/lib/modules/$kver/$m" 2>&1); then
			echo "loaded $m"
		else
			echo "FAILED $m: $out"
		fi
	done < /vm/modules.load
	echo "=== VM-MODULES-END"
} > $R 2>&1
mkdir -p /tmp/work
cd /tmp/work
for c in $(ls /vm/commands | sort); do
	start=$(date +%s)
	# A command that hangs is stopped (SIGTERM: netprof cleans up) and the
	# next one runs: rc 143.
	timeout -k 10 "$(cat /vm/cmd-timeout)" /usr/bin/bash -c "$(cat /vm/commands/$c)" \
		> /tmp/cmd.out 2> /tmp/cmd.err < /dev/null
	rc=$?
	# awk 1: a last line without its newline must not swallow the marker.
	{
		echo "=== VM-OUT $c"
		awk 1 /tmp/cmd.out
		echo "=== VM-ERR $c"
		awk 1 /tmp/cmd.err
		echo "=== VM-CMD-END $c rc=$rc seconds=$(( $(date +%s) - start ))"
	} > $R
done
echo "=== VM-DONE" > $R
sync
poweroff -f
EOF
	chmod 755 "$1/init"
}

prepare_base() {
	local stage t p
	stage=$(mktemp -d "$CACHE/base.XXXXXX")
	log "building the base initramfs for $KVER"
	mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,run,tmp,root,etc,vm}
	ln -s usr/bin "$stage/bin"
	ln -s usr/sbin "$stage/sbin"
	ln -s usr/lib "$stage/lib"
	ln -s usr/lib64 "$stage/lib64"
	cp "$BUSYBOX" "$stage/bin/busybox"
	for t in $GUEST_TOOLS; do
		p=$(command -v "$t" 2>/dev/null) || cannot_run "$t not installed (run scripts/setup.sh)"
		# Multi-call binaries (xtables-*-multi) keep their name as a link.
		copy_with_libs "$(readlink -f "$p")" "$stage"
		[ "$(readlink -f "$p")" = "$p" ] || ln -sf "$(readlink -f "$p")" "$stage/usr/sbin/$t"
	done
	# iptables extensions are dlopen()ed, so ldd does not name them.
	for p in /usr/lib/x86_64-linux-gnu/xtables/*.so; do
		copy_with_libs "$p" "$stage"
	done
	for p in /etc/protocols /etc/services /etc/ethertypes /etc/iproute2 /etc/nsswitch.conf; do
		[ -e "$p" ] && cp -rL "$p" "$stage/etc/"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
	echo "root:x:0:" > "$stage/etc/group"
	mkdir -p "$stage/lib/modules"
	cp -r "$KDIR/lib/modules/$KVER" "$stage/lib/modules/"
	cp "$KDIR/load.list" "$stage/vm/modules.load"
	mkdir -p "$stage/sys/kernel/tracing" "$stage/sys/kernel/debug" "$stage/sys/fs/cgroup" \
		"$stage/sys/fs/bpf"
	write_init "$stage"
	# mktemp -d made it 0700: as the guest's / it would shut out uid 1337
	# (the sidecar's proxy).
	chmod 755 "$stage"
	(cd "$stage" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$BASE.tmp"
	echo "$KEY" > "$BASE.key"
	mv "$BASE.tmp" "$BASE"
	rm -rf "$stage"
}

if [ ! -s "$BASE" ] || [ "$(cat "$BASE.key" 2>/dev/null)" != "$KEY" ]; then
	prepare_base
fi

# ---- this run: netprof and the commands ----

STATIC=${NETPROF_STATIC:-$OUTPUT/static/netprof}
if [ -z "${NETPROF_STATIC:-}" ]; then
	# make decides: the static link reuses the objects of the normal build.
	if ! make -s OUTPUT="$OUTPUT" "$STATIC" >"$RESULTS/make.log" 2>&1; then
		tail -20 "$RESULTS/make.log" >&2
		log "make $STATIC failed"
		exit 1
	fi
fi
[ -x "$STATIC" ] || { log "no static netprof at $STATIC"; exit 1; }

RUNDIR=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$RUNDIR"' EXIT
mkdir -p "$RUNDIR/usr/sbin" "$RUNDIR/vm/commands"
cp "$STATIC" "$RUNDIR/usr/sbin/netprof"
echo "$VM_CMD_TIMEOUT" > "$RUNDIR/vm/cmd-timeout"
n=0
for c in "$@"; do
	n=$((n + 1))
	printf '%s\n' "$c" > "$RUNDIR/vm/commands/$(printf %02d $n)"
	printf '%s\n' "$c" > "$RESULTS/$(printf %02d $n).cmd"
done
# A second archive after the base: the kernel unpacks both, in order.
(cd "$RUNDIR" && find usr vm | sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$RUNDIR/run.cpio.gz"
cat "$BASE" "$RUNDIR/run.cpio.gz" > "$RUNDIR/initrd.gz"

# ---- boot ----

console=$RESULTS/console.log
raw=$RESULTS/results.raw
: > "$raw"
log "booting $KVER under qemu (TCG, ${VM_SMP} CPU, ${VM_MEM} MiB), $n command(s), timeout ${VM_TIMEOUT}s"
start=$(date +%s)
qemu_rc=0
# Not -nographic: its stdio mux would take the first serial port; the
# console goes to a file (or the terminal with -v) and the results to a
# second port, so kernel messages never interleave with command output.
if [ $VERBOSE = 1 ]; then
	serial0=stdio
else
	serial0=file:$console
fi
timeout --kill-after=10 "$VM_TIMEOUT" "$QEMU" \
	-accel tcg -cpu max -m "$VM_MEM" -smp "$VM_SMP" \
	-kernel "$KDIR/vmlinuz" -initrd "$RUNDIR/initrd.gz" \
	-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 rdinit=/init" \
	-display none -monitor none -no-reboot -nic none \
	-serial "$serial0" -serial "file:$raw" \
	</dev/null 2>"$RESULTS/qemu.err" | if [ $VERBOSE = 1 ]; then tee "$console"; else cat; fi ||
	qemu_rc=$?
elapsed=$(( $(date +%s) - start ))
echo "$elapsed" > "$RESULTS/boot-seconds"

# ---- split the results ----

# qemu that stops at once with nothing from the guest could not run here
# (no TCG, no memory ...): a skip with its reason, not a guest failure.
if [ "$qemu_rc" != 124 ] && [ "$qemu_rc" != 137 ] &&
   [ ! -s "$raw" ] && [ ! -s "$console" ]; then
	cannot_run "qemu exited $qemu_rc without booting: $(head -1 "$RESULTS/qemu.err")"
fi

tr -d '\r' < "$raw" | awk -v dir="$RESULTS" '
	/^=== VM-KERNEL / { print $3 > (dir "/kernel"); next }
	/^=== VM-MODULES-BEGIN/ { sect = dir "/modules.log"; next }
	/^=== VM-MODULES-END/ { sect = ""; next }
	/^=== VM-OUT / { sect = dir "/" $3 ".out"; printf "" > sect; next }
	/^=== VM-ERR / { sect = dir "/" $3 ".err"; printf "" > sect; next }
	/^=== VM-CMD-END / {
		sub("rc=", "", $4); print $4 > (dir "/" $3 ".rc")
		sub("seconds=", "", $5); print $5 > (dir "/" $3 ".seconds")
		sect = ""; next
	}
	/^=== VM-DONE/ { print "done" > (dir "/done"); next }
	sect != "" { print > sect }
'
if [ $QUIET = 0 ]; then
	for f in "$RESULTS"/[0-9]*.cmd; do
		b=${f%.cmd}
		echo "--- $(cat "$f") (exit $(cat "$b.rc" 2>/dev/null || echo '?'), $(cat "$b.seconds" 2>/dev/null || echo '?') s)"
		cat "$b.err" "$b.out" 2>/dev/null || true
	done
fi
if [ ! -e "$RESULTS/done" ]; then
	log "the guest did not finish after ${elapsed}s (qemu exit $qemu_rc); console: $console"
	tail -20 "$console" >&2 2>/dev/null || true
	exit 1
fi
rm -f "$RESULTS/done"
log "guest ran $n command(s) in ${elapsed}s (boot to poweroff); results in $RESULTS"
