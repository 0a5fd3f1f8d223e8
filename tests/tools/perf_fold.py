#!/usr/bin/env python3
"""Folds `perf script` output into the folded format netprof writes:
comm;user frames (root first);kernel frames ending in _[k] COUNT.
Samples of the idle task (pid 0) are left out, as netprof leaves them out."""
import collections
import re
import sys

KERNEL_DSOS = ("[kernel.kallsyms]", "[bpf_prog]", "[kernel.vmlinux]")
header = re.compile(r"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+")


def main():
    stacks = collections.Counter()
    comm, pid, frames = None, None, []

    def flush():
        if comm is not None and pid != 0:
            stacks[";".join([comm.replace(" ", "_")] + list(reversed(frames)))] += 1

    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            comm, pid, frames = None, None, []
            continue
        if not line[0].isspace():
            m = header.match(line)
            comm, pid = (m.group(1), int(m.group(2))) if m else ("[unknown]", -1)
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        dso = parts[-1].strip("()") if parts[-1].startswith("(") else ""
        sym = " ".join(parts[1:-1]) if dso else " ".join(parts[1:])
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym) or "[unknown]"
        sym = sym.replace(";", "_").replace(" ", "_")
        kernel = ("[" + dso + "]") in KERNEL_DSOS or dso in KERNEL_DSOS or dso.startswith("kernel")
        frames.append(sym + "_[k]" if kernel else sym)
    flush()
    for stack, n in stacks.items():
        print(stack, n)


if __name__ == "__main__":
    main()
