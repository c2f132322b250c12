#!/usr/bin/env python3
"""Instructions per task on the start path, counted by valgrind (callgrind): independent of the machine's load.

Runs the benchmark program's start-path driver (`--profile-start MODE ROUNDS`, StartProfile.cs) under callgrind for
each mode. The driver zeroes the counters after its warm-up and dumps them after the measured rounds (callgrind client
requests, through a tiny native helper built here with gcc: valgrind starts with instrumentation off, the driver turns
it on after its warm-up and off after the measured rounds), so the count is exactly the measured rounds, all threads.
A thread that spends most of the window in the JIT (tier-1 compilation finishing in the background) is left out and
reported.
With --breakdown, the self cost of each function is printed too: JIT-compiled methods are named from the perf map the
runtime writes (DOTNET_PerfMapEnabled), native ones (coreclr, libc) by valgrind.

    python3 tests/TaskSupervisor.Benchmarks/profile-start.py                      # every mode, 20 rounds of 1,000 tasks
    python3 tests/TaskSupervisor.Benchmarks/profile-start.py raw unkeyed --breakdown 40

Needs valgrind and gcc (Debian packages `valgrind`, `gcc`) and a Release build of the benchmark project.
"""

import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from bisect import bisect_right

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "bin", "Release", "net10.0", "TaskSupervisor.Benchmarks.dll")
BATCH = 1000  # StartProfile.Batch
MODES = ["raw", "raw-yield", "unkeyed", "unkeyed-yield", "keyed", "tracker", "unkeyed-options",
         "raw-two-threads", "unkeyed-two-threads"]

HELPER_C = r"""
#include <valgrind/callgrind.h>
void profile_begin(void) { CALLGRIND_START_INSTRUMENTATION; }
void profile_end(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""

# Deterministic code: tiering starts counting calls at once (no 100 ms delay, which valgrind's slowness would make
# arbitrary), so the warm-up ends on tier-1 code with dynamic PGO, as in BenchmarkDotNet; W^X double mapping off
# (valgrind does not follow it); workstation GC.
ENVIRONMENT = {
    "DOTNET_TC_CallCountingDelayMs": "0",
    "DOTNET_EnableWriteXorExecute": "0",
    "DOTNET_gcServer": "0",
    "DOTNET_PerfMapEnabled": "3",  # 3 = the perf map only (no jitdump)
    "DOTNET_TieredCompilation": "1",
    "DOTNET_TieredPGO": "0",  # straight from tier 0 to tier 1: no instrumented code left when counting starts
    # Workers do not spin waiting for work: under valgrind, which runs one thread at a time, a spinning thread burns
    # instructions until the scheduler switches, a cost of the emulation and not of the code.
    "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0",
    "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
}


def build_helper(directory):
    source = os.path.join(directory, "profile_control.c")
    library = os.path.join(directory, "libprofile_control.so")
    with open(source, "w") as f:
        f.write(HELPER_C)
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", library, source], check=True)
    return library


def run(mode, rounds, directory, helper, breakdown):
    out = os.path.join(directory, f"callgrind.{mode}.out")
    env = dict(os.environ, **ENVIRONMENT, TS_PROFILE_CONTROL=helper)
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", f"--callgrind-out-file={out}"]
    command += ["dotnet", PROGRAM, "--profile-start", mode, str(rounds)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{mode}: valgrind failed\n{result.stderr[-3000:]}")
    pid = re.search(r"==(\d+)==", result.stderr).group(1)
    # One dump per thread at exit: thread 1 is the caller (the thread that starts the tasks), the rest are the thread
    # pool's and the runtime's.
    total, caller, jit = 0, 0, 0
    functions = defaultdict(int)
    for dump in sorted(f for f in os.listdir(directory) if re.fullmatch(re.escape(os.path.basename(out)) + r"-\d+", f)):
        cost, per_function, jit_cost = parse(os.path.join(directory, dump))
        if cost and jit_cost > cost * 0.25:
            jit += cost
            continue
        total += cost
        if dump.endswith("-01"):
            caller = cost
        for name, value in per_function.items():
            functions[name] += value
    return total, caller, jit, functions, f"/tmp/perf-{pid}.map"


def parse(path):
    """The total Ir of a callgrind dump, the self cost per function name, and the cost spent in the JIT."""
    names = {}
    objects = {}
    functions = defaultdict(int)
    total = 0
    jit = 0
    current = None
    current_object = ""
    skip_next = False
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                total = int(line.split()[1])
                continue
            if line.startswith("ob="):
                current_object = name_of(line[3:].strip(), objects)
                continue
            if line.startswith("fn="):
                current = name_of(line[3:].strip(), names)
                continue
            if line.startswith("calls="):
                skip_next = True  # the next line is the call's inclusive cost, not self cost
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and current is not None:
                    functions[current] += int(parts[1])
                    if "libclrjit" in current_object:
                        jit += int(parts[1])
                continue
            if line.startswith("cfn="):
                name_of(line[4:].strip(), names)
            elif line.startswith("cob="):
                name_of(line[4:].strip(), objects)
    return total, functions, jit


def name_of(text, names):
    match = re.match(r"\((\d+)\)(?: (.*))?", text)
    if not match:
        return text
    if match.group(2) is not None:
        names[match.group(1)] = match.group(2)
    return names.get(match.group(1), text)


def load_perf_map(path):
    entries = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) == 3:
                    entries.append((int(parts[0], 16), int(parts[1], 16), parts[2]))
    except FileNotFoundError:
        return [], []
    entries.sort()
    return [e[0] for e in entries], entries


def resolve(name, starts, entries):
    match = re.match(r"0x([0-9a-fA-F]+)$", name)
    if not match:
        return name
    address = int(match.group(1), 16)
    i = bisect_right(starts, address) - 1
    if i >= 0 and address < entries[i][0] + entries[i][1]:
        return re.sub(r"\[(OptimizedTier1|Tier1|Tier0|Optimized|PreJIT|Instrumented Tier1|Instrumented Tier0|QuickJitted|OSR)\]$", "", entries[i][2]).strip()
    return "(unmapped JIT code)"


def main(argv):
    breakdown = "--breakdown" in argv
    args = [a for a in argv if a != "--breakdown"]
    rounds = 20
    if args and args[-1].isdigit():
        rounds = int(args.pop())
    modes = args or MODES
    with tempfile.TemporaryDirectory(prefix="ts-profile-") as directory:
        helper = build_helper(directory)
        for mode in modes:
            total, caller, jit, functions, perf_map = run(mode, rounds, directory, helper, breakdown)
            tasks = rounds * BATCH
            print(f"{mode:22} {total / tasks:8.0f} instructions/task, {caller / tasks:6.0f} on the starting thread"
                  f"  ({total:,} over {tasks:,} tasks; a JIT thread left out: {jit:,})", flush=True)
            if breakdown:
                starts, entries = load_perf_map(perf_map)
                merged = defaultdict(int)
                for name, cost in functions.items():
                    merged[resolve(name, starts, entries)] += cost
                for name, cost in sorted(merged.items(), key=lambda kv: -kv[1])[:45]:
                    print(f"    {cost / tasks:8.1f}  {name[:150]}")
                try:
                    os.remove(perf_map)
                except OSError:
                    pass


if __name__ == "__main__":
    main(sys.argv[1:])
