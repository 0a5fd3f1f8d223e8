# shellcheck shell=bash
# Sourced by tests that run netprof inside Debian's 6.1 kernel under qemu
# (tests/integration/vm.sh). One boot runs a list of named guest commands;
# each test then reads one command's files. See tests/vm/run-vm.sh for the
# guest, the cache ($OUTPUT/vm/) and how to run commands by hand.
#
#   vm_run DIR NAME 'command' [NAME 'command' ...]
#       boots once, runs the commands in order and leaves, per NAME,
#       DIR/NAME.out (stdout) NAME.err (stderr) NAME.rc NAME.seconds NAME.cmd;
#       also DIR/kernel (uname -r), modules.log, console.log, boot-seconds
#       (boot to poweroff) and, when the VM cannot run here, DIR/skip (why).
#       Returns run-vm.sh's status: 0 ran, 1 the guest did not finish, 77 cannot run.
#   vm_section FILE REGEX   the block of FILE that starts at the first line
#       matching REGEX and ends before the next blank line
#   vm_workload FILE NAME   a run report's "== NAME ==" part, up to the next
#       "== ... ==" heading
#   vm_feature DIR/check.out KEY   "state available" of a `netprof check --json`
#       feature (e.g. "yes true"), empty if absent

VM_HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run-vm.sh

vm_run() {
	local dir=$1 rc=0 i=0 name
	shift
	local -a names=() cmds=()
	while [ $# -ge 2 ]; do
		names+=("$1")
		cmds+=("$2")
		shift 2
	done
	mkdir -p "$dir"
	rm -f "$dir"/*.out "$dir"/*.err "$dir"/*.rc "$dir"/*.seconds "$dir"/*.cmd "$dir"/skip
	"$VM_HARNESS" -q -o "$dir" "${cmds[@]}" >"$dir/harness.log" 2>&1 || rc=$?
	for name in "${names[@]}"; do
		i=$((i + 1))
		local nn
		nn=$(printf %02d $i)
		for ext in out err rc seconds cmd; do
			[ -e "$dir/$nn.$ext" ] && mv "$dir/$nn.$ext" "$dir/$name.$ext"
		done
	done
	return $rc
}

vm_section() {
	awk -v re="$2" 'started && /^[[:space:]]*$/ { exit } $0 ~ re { started = 1 } started' "$1"
}

vm_workload() {
	awk -v h="== $2 ==" '$0 == h { on = 1; next } on && /^== .* ==$/ { exit } on' "$1"
}

vm_feature() {
	jq -r --arg k "$2" '.features[] | select(.name == $k) | "\(.state) \(.available)"' "$1" 2>/dev/null
}
