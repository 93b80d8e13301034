#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
bench.py - `make bench`: what tracing costs the traced IPC workload.

Runs each tools/ipcload workload untraced and traced, in pairs, alternating
which of the two goes first (untraced/traced, then traced/untraced, ...) so
machine drift cancels, and prints Markdown tables of the median per-pair
ratio traced/untraced and of the median added nanoseconds per crossing.
The full run also rewrites docs/BENCHMARKS.md.

Usage: tools/bench.py [--quick] [--only pipe,unix,tcp,futex,bulk,stress,server,profile]
                      [--aggregate-only] [--baseline BINARY]
       tools/bench.py --profile [REPS] [--profile-on WORKLOAD] [--baseline BINARY]
       tools/bench.py --long SECONDS [--long-flags "BOUNDTRACE OPTIONS"]
  --profile  only the per-program BPF cost (bpf_stats) a crossing of each
           mode, of the empty hooks and of the bystanders on the pinned
           pipe ping-pong (--profile-on: another of the workloads above,
           e.g. futex; redis, nginx: per request against the traced
           server), REPS interleaved rounds
  --baseline  another boundtrace build (an older commit's) measured in the
           same rounds as this one, each mode as "base: MODE"; with
           --aggregate-only, the default mode of both builds only (on the
           real servers too). The document is then not rewritten.
  --long   one long trace of a pipe ping-pong paced at 50k exchanges/s: RSS
           and CPU of boundtrace sampled over time, losses, exact counts
  --quick  each workload once with small counts (a few seconds): checks that
           the harness still works, not the timings. Exit status 1 only if
           ipcload or boundtrace failed or left no JSON; a missing or broken
           third-party tracer is reported in the table, never a failure.
Needs root (boundtrace loads BPF); without it, says so and exits 0.
"""
import functools
import itertools
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
IPCLOAD = str(ROOT / "build" / "tools" / "ipcload")
BOUNDTRACE = str(ROOT / "boundtrace")
BT_SCRIPT = str(ROOT / "tools" / "bench-aggregate.bt")
FLOORHOOKS = str(ROOT / "build" / "tools" / "floorhooks")
DOC = ROOT / "docs" / "BENCHMARKS.md"
TRACEFS = "/sys/kernel/tracing"
TASKSET = os.path.realpath(shutil.which("taskset") or "/usr/bin/taskset")
PIN = [TASKSET, "-c", "0"]      # the pinned workloads' and real servers' CPU
BYSTANDER = "bystander (boundtrace --peers 0 -p IDLE)"
# The front door's own mode: --peers 1 asks of every other process's read
# and write whether its channel is marked.
BYSTANDER_PEERS = "bystander (boundtrace -p IDLE)"
# The same while the target is busy: once a target has crossed a channel
# (a mark exists), every other process's read and write is looked at.
BYSTANDER_BUSY = "bystander (boundtrace -p BUSY)"
BUSY_RATE = 2000                # the busy target's exchanges/s (ipcload --rate, on CPU 1)
# --sockets-only: no syscall hook, so every other process's pipe calls pay nothing.
BYSTANDER_SOCKETS = "bystander (boundtrace --sockets-only -p IDLE)"
BYSTANDERS = (BYSTANDER, BYSTANDER_PEERS, BYSTANDER_BUSY, BYSTANDER_SOCKETS)
# Empty programs on the same tracepoints: what the hooks' mere existence
# costs every process; the issue holds a bystander to within 0.02 of it.
FLOOR = "floor: empty hooks (tools/floorhooks)"
FLOOR_SLACK = 0.02
# Real servers: the same empty hooks without the two syscall hooks (which
# put every task on the slow syscall path): what a design counting sockets
# from their tracepoints alone could not go below.
FLOOR_NO_SYSCALLS = "floor without sys_enter, sys_exit (tools/floorhooks)"
FLOOR_NO_SYSCALLS_HOOKS = ("sched_waking", "sock_send_length", "sock_recv_length",
                           "sk_data_ready", "inet_sock_set_state", "signal_deliver",
                           "sched_process_fork", "sched_process_exec", "sched_process_exit")
BASELINE = None                 # --baseline BINARY: another build, measured alongside
DELAY_MS = 200                  # ipcload sleeps this long after "ready PID"
TIMEOUT_S = 120                 # per run; a hung tool is a failure
PROFILE_DELAY_MS = 3000         # its workload's delay: the tracer attaches within it
LONG_RATE = 50_000              # long trace: exchanges (message + reply) per second
LONG_SAMPLES = 20               # long trace: RSS/CPU samples over the run
# The syscalls ipcload makes on its channels, as strace/perf name them.
CROSSING_SYSCALLS = {"read", "write", "readv", "writev", "sendto", "recvfrom",
                     "sendmsg", "recvmsg", "futex"}

METHOD = f"""\
- Every workload is `tools/ipcload` with `--delay-ms {DELAY_MS}`: it prints
  `ready PID` on stderr, sleeps {DELAY_MS} ms, then creates its channels,
  forks, runs the exchange, writes its JSON report (to a file, so the report
  is not itself a traced pipe) and exits. The time measured is from reading
  `ready` to the process exit (a pidfd becoming readable), minus the delay,
  with `time.perf_counter`: fork, setup, exchange, report and exit, and
  nothing of the tracer's own start or stop.
- Traced runs launch the workload under the tracer
  (`boundtrace -f json -o F -c CMD`, `strace -f -c -o F -- CMD`,
  `perf trace -s -o F -- CMD`, `bpftrace -o F -c CMD tools/bench-aggregate.bt`),
  so the tracer is fully attached before the workload even starts and
  follows every process it forks. (Attaching with `-p` during the delay
  would race the attach, and `perf trace -p` does not follow children
  forked after the attach: it traced only the client here.) boundtrace
  runs in each of its modes: the default, `--no-chains` (the cheapest,
  once chains are on by default; until then `--chains` is the extra mode)
  and `--stacks`. The workload's stderr is a pseudo-terminal, not
  a pipe, so no channel leads from the workload to the harness (boundtrace
  follows the far end of its targets' pipes, `--peers`, 1 hop by default).
- Ping-pong and bulk workloads are pinned with `taskset -c 0`, both sides on
  CPU 0 (a cross-CPU wakeup costs tens of microseconds per round trip on a
  small VM and would drown the tracer's cost); tracers are not pinned.
- Runs come in pairs, untraced and traced with the same count, the order
  alternating from one pair to the next; the tables show medians over the
  pairs of traced/untraced and of (traced - untraced) / crossings.
- A crossing is one syscall on an IPC channel, counted by ipcload itself in
  its JSON report (the traced run's count: futex call counts vary with
  timing). Each tracer's own count is checked against it: boundtrace must
  match ipcload row for row; the others must see at least as many calls
  (they also count the loader's and the report's reads and writes, so this
  only catches gross misses, such as an untraced child).
- Slow tracers get proportionally smaller counts (the per-crossing figure
  does not depend on the count).
- boundtrace's resources: `lost` summed over its JSON reports; CPU = on-CPU
  time of the boundtrace process (`/proc/PID/task/*/schedstat`, user and
  kernel) during the measured window, as a share of one core; "of it,
  chain folds" and "records/s" are boundtrace's own report (its JSON's
  `tracer.chain_cpu_ns`, the chain windows' passes, and every record the
  kernel sent it) over the same window: the rest of its CPU is the
  records' intake, the collections and discovery. A short run (quick
  mode) folds nothing until its report, which neither figure includes;
  peak RSS = `ru_maxrss` from `wait4` (boundtrace and, at most, the small
  ipcload it reaped); BPF map memory = `memlock` of the maps boundtrace holds open
  (`/proc/PID/fdinfo`, the figure `bpftool map show` calls `bytes_memlock`).
- The stress run is not pinned: several pipe clients with 1-byte messages
  on both CPUs, to check that nothing is lost at well over 1M crossings/s.
- The bystander rows: `boundtrace --peers 0 -p IDLE` traces an idle
  process of its own while the workload runs untraced: what every other
  process on the machine pays for the hooks' early exit; `boundtrace -p
  IDLE`, the default `--peers 1`, also asks of each of its reads and
  writes whether the channel is one a target marked (none is, while the
  idle target has crossed nothing: no process is asked); `boundtrace -p
  BUSY` traces a pipe ping-pong paced at {BUSY_RATE:,} exchanges/s on CPU 1
  (`ipcload --rate`, `--follow`), so a mark exists and every read and
  write of the workload is asked. The floor row:
  `tools/floorhooks` holds empty programs on the same tracepoints (the
  syscall tracepoints put every task on the slow syscall path, and each
  hook's dispatch runs): no tracer built on them can cost less; the issue
  holds a bystander to within 0.02 of it.
- Real servers: redis-server (its own unix socket and loopback port) under
  redis-benchmark `-t set`, and nginx (one worker, a static page, no access
  log) under `ab -k`, server and load generator pinned together to CPU 0
  as the ping-pongs are (unpinned, a request's cross-CPU wakeups on this
  VM made pairs of one row differ by 0.5–1.2× and hid the tracer); each
  traced with `-p` (boundtrace `--peers 0`, the
  bpftrace script with the server as its target, `perf trace -s -p`),
  attached before and stopped after each traced load run, untraced and
  traced runs alternating, the tracers interleaved round after round (one
  pair of each per round; with `--baseline`, the other build's modes too);
  the ratio is the median of the pairs', with its range. The load
  generator is never traced (`--peers 0`: with the default `--peers 1` it
  would be followed and traced too), but pays for the hooks' early exit
  like any bystander (redis-benchmark makes 9 syscalls a request, 5 of
  them epoll_ctl, and redis-server 3). Throughput is the load generator's
  own figure; added µs/request is the median over the pairs of
  1/traced − 1/untraced. The
  bystander row (`boundtrace --peers 0 -p IDLE`, the server untraced) has
  every hook attached, none of them doing a target's work; the floor row
  holds the same hooks empty (tools/floorhooks), and the row without
  sys_enter, sys_exit all of them but those two: what a tracer counting
  sockets from their own tracepoints alone, with no hook on every
  syscall, could not go below.
- Per-program cost: with `kernel.bpf_stats_enabled=1` (restored after),
  the kernel's run_time_ns and run_cnt of each program, read just before
  each pinned workload forks its two ends and again when it has exited,
  divided by the crossings it made (its own count): what each hook costs
  a crossing. For each workload: boundtrace's modes attached with
  `--follow -p` (the workload waits {PROFILE_DELAY_MS:,} ms before it forks, so
  boundtrace is attached by then even on a busy machine; a round where it
  was not is skipped, said on stderr), the empty hooks (tools/floorhooks),
  and on the pipe ping-pong the bystanders (the workload untraced), modes
  interleaved round after round. bpf_stats itself adds two clock reads a
  run: an empty tp_btf program measures about 48–55 ns this way on this
  VM. "Beyond empty programs" is a mode's figure less, for each of its
  programs, as many runs of the empty program on the same tracepoint:
  the work the programs do, without their dispatch and bpf_stats' clock.
- Where the nanoseconds go: each ratio target the issue sets a workload,
  as nanoseconds a crossing (the target less 1, times the untraced runs'
  time a crossing), against what the mode added, what the floor row's
  empty hooks add on their own (the syscall tracepoints' slow path and
  the dispatch), what that leaves the programs, and what the profile
  says the programs take beyond empty ones.
- Per-program cost on real servers: the same counters, read before and
  after one load run against each server (its first case above, pinned
  alike), for boundtrace's modes attached with `-p`,
  the bystander and the empty hooks (tools/floorhooks, whose programs'
  own figures are the dispatch and bpf_stats' clock reads alone),
  interleaved round after round; per request: how often each program
  ran and what it took, the load generator's syscalls included.
- The long trace (`make bench` does not run it; `tools/bench.py --long
  SECONDS`): a pinned pipe ping-pong paced at {LONG_RATE:,} exchanges/s
  (`ipcload --rate`), traced with `-c` in the default mode; boundtrace's
  RSS (VmRSS) and CPU (schedstat) sampled {LONG_SAMPLES} times.
"""


# ---- what is measured -----------------------------------------------------

@dataclass
class Workload:
    key: str
    title: str
    args: list                  # ipcload arguments, --count excepted
    count: int                  # --count in full mode, with boundtrace
    target: Optional[float] = None   # issue target for the aggregate ratio
    pinned: bool = True


WORKLOADS = [
    Workload("pipe", "pipe ping-pong, 1 B",
             ["pipe", "--size", "1", "--reply-size", "1"], 200_000, 1.20),
    Workload("unix", "unix stream ping-pong, 1 B",
             ["unix-stream", "--size", "1", "--reply-size", "1"], 120_000, 1.15),
    Workload("tcp", "TCP loopback ping-pong, 1 B",
             ["tcp", "--size", "1", "--reply-size", "1"], 100_000, 1.10),
    Workload("futex", "futex ping-pong, 2 threads",
             ["futex", "--threads", "2"], 250_000, 1.25),
    Workload("bulk", "bulk pipe, 64 KiB writes",
             ["pipe", "--size", "65536"], 50_000, 1.02),
]
STRESS = Workload("stress", "stress: 4 pipe clients, 1 B, both CPUs",
                  ["pipe", "--clients", "4", "--size", "1"], 400_000,
                  pinned=False)


@dataclass
class Tracer:
    name: str
    reps: int                   # pairs per workload in full mode
    scale: int                  # counts are divided by this
    command: Callable[[list, str], list]     # (workload argv, out file) -> argv
    seen: Callable[[str, dict], int]         # calls it counted (out, ipcload report)
    problem: Optional[str] = None            # why it cannot run here
    ours: bool = False                       # boundtrace: its failures fail the bench
    # A bystander tracer traces something else while the workload runs
    # untraced: it is started before the run and stopped after it.
    background: Optional[Callable[[str], "Background"]] = None
    mode_flag: str = ""                      # boundtrace: the mode option it adds


@dataclass
class Run:
    seconds: float              # measured window
    crossings: int              # per ipcload's own report
    seen: Optional[int] = None  # per the tracer
    lost: int = 0               # boundtrace only
    lost_kinds: Counter = field(default_factory=Counter)  # the same, by kind
    cpu_ns: int = 0             # tracer process, during the window
    chain_cpu_ns: int = 0       # boundtrace: of its CPU, the chain folds' (its own report)
    records: int = 0            # boundtrace: records the kernel sent it (its own report)
    maxrss_kib: int = 0
    map_bytes: int = 0


@dataclass
class Pair:
    untraced: Run
    traced: Run

    @property
    def ratio(self):
        return self.traced.seconds / self.untraced.seconds

    @property
    def added_ns(self):
        return (self.traced.seconds - self.untraced.seconds) * 1e9 / self.traced.crossings


@dataclass
class Cell:
    workload: Workload
    tracer: Tracer
    count: int
    reps: int                   # pairs to measure
    pairs: list = field(default_factory=list)
    error: Optional[str] = None


class ToolFailed(Exception):
    def __init__(self, msg, ours):
        super().__init__(msg)
        self.ours = ours        # ipcload or boundtrace, not a third-party tracer


# ---- reading the tools' reports -------------------------------------------

def rows(report):
    """(pid, channel, direction) -> calls of a boundtrace or ipcload report."""
    return {(p["pid"], b["channel"], b["direction"]): b["calls"]
            for p in report["processes"] for b in p["boundaries"]}


def load_json(path, who):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ToolFailed(f"{who}: no JSON report ({e})", ours=True)


def boundtrace_seen(out, ipc):
    got = rows(load_json(out, "boundtrace"))
    return sum(got.get(k, 0) for k in rows(ipc))


def boundtrace_lost(out):
    return sum(lost_by_kind(load_json(out, "boundtrace")).values())


def lost_by_kind(report):
    """boundtrace's lost counters that are not 0, by kind (report: its JSON, loaded)."""
    return Counter({k: v for k, v in report["lost"].items() if v})


def own_cost(report):
    """boundtrace's own report of itself: (chain folds' CPU ns, records from the kernel)."""
    me = report["tracer"]
    return me["chain_cpu_ns"], sum(me["records"].values())


def strace_seen(out, _ipc):
    # "% time  seconds  usecs/call  calls  [errors]  syscall"
    n = 0
    for f in map(str.split, open(out)):
        if len(f) in (5, 6) and f[-1] in CROSSING_SYSCALLS and f[3].isdigit():
            n += int(f[3])
    return n


def perf_seen(out, _ipc):
    # per thread: "syscall  calls  errors  total  min  avg  max  stddev"
    n = 0
    for f in map(str.split, open(out)):
        if len(f) >= 3 and f[0] in CROSSING_SYSCALLS and f[1].isdigit():
            n += int(f[1])
    return n


def bpftrace_seen(out, _ipc):
    # "@calls[PID, KEY]: N"
    return sum(int(line.rsplit(":", 1)[1]) for line in open(out)
               if line.startswith("@calls["))


# ---- the tracers ----------------------------------------------------------

def boundtrace_cmd(extra, binary=None):
    return lambda argv, out: [binary or BOUNDTRACE, *extra, "-f", "json", "-o", out,
                              "-c", shlex.join(argv)]


def tool_problem(tool, probe):
    """None if `probe` (a command) works, else why not."""
    if not shutil.which(tool):
        return "n/a (not installed)"
    r = subprocess.run(probe, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        return f"n/a ({' '.join(probe)} fails: {why})"
    return None


def ensure_tracefs():
    """bpftrace's and perf's syscall tracepoints need tracefs mounted."""
    if not os.path.isdir(TRACEFS + "/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS],
                       capture_output=True)
    return os.path.isdir(TRACEFS + "/events")


@functools.lru_cache(maxsize=None)
def help_text(binary):
    """binary's --help, asked once a run."""
    return subprocess.run([binary, "--help"], capture_output=True, text=True).stdout


def lists_option(binary, flag):
    """Whether binary's --help lists flag (a build before it does not)."""
    return re.search(rf"(^|\s){flag}\b(?!-)", help_text(binary), re.M) is not None


def boundtrace_variants():
    """The default mode always; the other modes once --help lists them.
    With --no-chains (chains on by default) that is the cheapest mode and
    --chains is the default; before it, --chains is the extra mode."""
    listed = lambda flag: lists_option(BOUNDTRACE, flag)  # noqa: E731
    global CHEAPEST
    CHEAPEST = "boundtrace --no-chains" if listed("--no-chains") else "boundtrace"
    variants = []
    for name, flag in (("boundtrace --no-chains", "--no-chains"),
                       ("boundtrace --chains", "--chains"),
                       ("boundtrace --stacks", "--stacks"),
                       (SOCKETS_ONLY, "--sockets-only")):
        if flag == "--chains" and CHEAPEST != "boundtrace":
            continue            # the default mode already
        if flag == "--no-chains" and CHEAPEST == "boundtrace":
            continue            # not there yet
        t = Tracer(name, 11 if flag == "--no-chains" else 5, 1, boundtrace_cmd([flag]),
                   boundtrace_seen, ours=True, mode_flag=flag)
        if not listed(flag):
            t.problem = "n/a (not implemented yet)"
        variants.append(t)
    return variants


# Counts socket calls only: measured on the socket workloads alone.
SOCKETS_ONLY = "boundtrace --sockets-only"
SOCKET_WORKLOADS = ("unix", "tcp")

# The mode the per-workload targets are for (the cheapest one);
# the default mode, once chains are on by default, may add DEFAULT_EXTRA.
CHEAPEST = "boundtrace"
DEFAULT_EXTRA = 0.05


def target_of(tracer_name, w):
    """The issue's ratio target for this mode on w, or None."""
    if not w.target:
        return None
    if tracer_name == CHEAPEST:
        return w.target
    if tracer_name == "boundtrace":
        return w.target + DEFAULT_EXTRA
    return None


def bystander_seen(out, ipc):
    """The bystander's workload is not traced: it must see none of it."""
    seen = boundtrace_seen(out, ipc)
    if seen:
        raise ToolFailed(f"boundtrace -p IDLE counted {seen} of an untraced workload's calls",
                         ours=True)
    return sum(rows(ipc).values())


def baseline_variants(variants):
    """--baseline BINARY: each boundtrace mode once more with that build,
    named "base: ...", measured in the same rounds (old and new builds
    interleaved, as the traced and untraced runs are)."""
    if not BASELINE:
        return []
    return [Tracer(f"base: {t.name}", t.reps, t.scale,
                   boundtrace_cmd([t.mode_flag] if t.mode_flag else [], BASELINE),
                   boundtrace_seen, ours=True) for t in variants if not t.problem and
            (not t.mode_flag or lists_option(BASELINE, t.mode_flag))]


def tracers():
    # "boundtrace" is the default mode (chains on once --no-chains exists);
    # the cheapest mode, which the per-workload targets hold, is a variant.
    aggregate = Tracer("boundtrace", 11, 1, boundtrace_cmd([]), boundtrace_seen, ours=True)
    bystander = Tracer(BYSTANDER, 9, 1, lambda argv, out: argv, bystander_seen, ours=True,
                       background=Background)
    bystander_peers = Tracer(BYSTANDER_PEERS, 9, 1, lambda argv, out: argv, bystander_seen,
                             ours=True, background=lambda out: Background(out, peers=None))
    bystander_busy = Tracer(BYSTANDER_BUSY, 9, 1, lambda argv, out: argv, bystander_seen,
                            ours=True, background=BusyBackground)
    bystander_sockets = Tracer(BYSTANDER_SOCKETS, 9, 1, lambda argv, out: argv, bystander_seen,
                               ours=True, background=lambda out: Background(
                                   out, peers=None, extra=["--sockets-only"]))
    if not lists_option(BOUNDTRACE, "--sockets-only"):
        bystander_sockets.problem = "n/a (not implemented yet)"
    strace = Tracer("strace -f -c", 5, 40,
                    lambda argv, out: ["strace", "-f", "-c", "-o", out, "--", *argv],
                    strace_seen)
    perf = Tracer("perf trace -s", 3, 20,
                  lambda argv, out: ["perf", "trace", "-s", "-o", out, "--", *argv],
                  perf_seen)
    bpft = Tracer("bpftrace (tools/bench-aggregate.bt)", 7, 1,
                  lambda argv, out: ["bpftrace", "-o", out, "-c", " ".join(argv), BT_SCRIPT],
                  bpftrace_seen)
    tracefs = ensure_tracefs()
    strace.problem = tool_problem("strace", ["strace", "-f", "-c", "-o", "/dev/null", "true"])
    perf.problem = tool_problem("perf", ["perf", "trace", "-s", "-o", "/dev/null", "--", "true"])
    bpft.problem = tool_problem("bpftrace", ["bpftrace", "--version"]) or \
        (None if tracefs else f"n/a (tracefs not mounted at {TRACEFS} and cannot be)")
    variants = [aggregate, *boundtrace_variants()]
    floor = Tracer(FLOOR, 9, 1, lambda argv, out: argv, lambda out, ipc: sum(rows(ipc).values()),
                   background=FloorHooks)
    floor.problem = floor_problem()
    return [*variants, *baseline_variants(variants), floor, bystander, bystander_peers,
            bystander_busy, bystander_sockets, strace, perf, bpft]


class Background:
    """`boundtrace --peers 0 -p IDLE` (peers=None: the default --peers 1):
    traces an idle process of its own, so everything else on the machine
    is a bystander that pays only for the hooks' early exit (and, with
    peers, the marked-channel test of its reads and writes)."""

    def __init__(self, out, peers="0", extra=(), binary=None):
        self.idle = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
        self.bt = subprocess.Popen([binary or BOUNDTRACE, *(["--peers", peers] if peers else []),
                                    *extra, "-f", "json", "-o", out,
                                    "-p", str(self.idle.pid)], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_attached(self.bt, "boundtrace -p IDLE", True, self.stop)

    def stop(self):
        self.bt.send_signal(signal.SIGINT)
        self.idle.kill()
        self.idle.wait()
        return reap(self.bt)


class BusyBackground:
    """`boundtrace --follow -p BUSY`, the default --peers 1: BUSY is a pipe
    ping-pong paced at BUSY_RATE exchanges/s on CPU 1 (ipcload --rate), so
    its channels are marked before the workload starts, and the workload,
    untraced on CPU 0, is a bystander of a tracer at work."""

    DELAY_S = 3.0       # ipcload's --delay-ms: boundtrace attaches within it
    ready = False       # the busy target crosses, traced: stop() checks it was

    def __init__(self, out):
        self.out, start = out, time.monotonic()
        self.busy = subprocess.Popen(
            [TASKSET, "-c", "1", IPCLOAD, *WORKLOADS[0].args,
             "--rate", str(BUSY_RATE), "--count", "1000000000",
             "--delay-ms", str(int(self.DELAY_S * 1000)), "--out", "/dev/null"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.bt = subprocess.Popen([BOUNDTRACE, "-f", "json", "-o", out, "--follow",
                                    "-p", str(self.busy.pid)], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_attached(self.bt, "boundtrace -p BUSY", True, self.stop)
        if time.monotonic() > start + self.DELAY_S:
            self.stop()
            raise ToolFailed("boundtrace -p BUSY attached after the busy target forked",
                             ours=True)
        # Past the delay: its two ends fork, are followed and cross (a mark is made).
        time.sleep(start + self.DELAY_S + 0.3 - time.monotonic())
        self.ready = True

    def stop(self):
        self.bt.send_signal(signal.SIGINT)
        try:
            os.killpg(self.busy.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.busy.wait()
        got = reap(self.bt)
        if not self.ready:
            return got
        try:
            traced = sum(b["calls"] for p in load_json(self.out, "boundtrace -p BUSY")["processes"]
                         for b in p["boundaries"] if b["kind"] == "pipe")
        except ToolFailed:
            traced = 0
        if not traced:
            raise ToolFailed("boundtrace -p BUSY traced none of the busy target's pipe calls",
                             ours=True)
        return got


class FloorHooks:
    """tools/floorhooks: empty programs on boundtrace's tracepoints, held
    while the workload runs untraced."""

    def __init__(self, out):
        with open(out, "w") as f:
            self.bt = subprocess.Popen([FLOORHOOKS], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=f)
        wait_attached(self.bt, "floorhooks", False, self.stop, out)

    def stop(self):
        self.bt.send_signal(signal.SIGTERM)
        return reap(self.bt)


def floor_problem():
    return None if os.access(FLOORHOOKS, os.X_OK) else "n/a (build/tools/floorhooks not built)"


def bpf_attached(pid):
    """boundtrace holds BPF links once its programs are attached."""
    try:
        return any(os.readlink(fd) == "anon_inode:bpf_link"
                   for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def wait_attached(proc, what, ours, cleanup=None, errfile=None):
    """Wait up to 10 s for proc to hold BPF links; if it exits or the time
    runs out, cleanup() and fail (with errfile's text, if given)."""
    end = time.monotonic() + 10
    while not bpf_attached(proc.pid):
        if proc.poll() is not None or time.monotonic() > end:
            if cleanup:
                cleanup()
            said = f": {Path(errfile).read_text()}" if errfile else ""
            raise ToolFailed(f"{what} did not attach{said}", ours=ours)
        time.sleep(0.01)


# ---- one run ---------------------------------------------------------------

class ReadyWatcher(threading.Thread):
    """Reads a child's stderr terminal: notes when 'ready PID' arrives, keeps
    the rest. A pty, not a pipe: boundtrace follows the far ends of its
    targets' pipes (--peers) and would trace this harness."""

    def __init__(self):
        super().__init__(daemon=True)
        self.master, self.slave = pty.openpty()
        self.pid, self.at, self.lines = None, None, []
        self.ready = threading.Event()

    def run(self):
        with open(self.master, errors="replace") as tty:
            try:
                for line in tty:
                    self.note(line)
            except OSError:     # EIO: every writer has closed the terminal
                pass
        self.ready.set()        # the child died, ready or not

    def note(self, line):
        if self.pid is None and line.startswith("ready "):
            self.at, self.pid = time.perf_counter(), int(line.split()[1])
            self.ready.set()
        else:
            self.lines.append(line)

    def tail(self):
        return "".join(self.lines[-5:]).strip()


def cpu_ns(pid):
    """On-CPU time of every thread of pid so far, user and kernel."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, IndexError):
            pass                # a thread that just exited
    return total


def bpf_fdinfo(pid, kind):
    """The fdinfo fields of every BPF object of kind ("map", "prog") pid
    holds open; those closed meanwhile are skipped."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) != f"anon_inode:bpf-{kind}":
                continue
            yield {k: v.strip() for k, v in (line.split(":", 1) for line in
                   Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines())}
        except OSError:
            continue


def bpf_map_bytes(pid):
    """memlock of the BPF maps pid holds open (bpftool's bytes_memlock)."""
    return sum({info["map_id"]: int(info["memlock"])
                for info in bpf_fdinfo(pid, "map")}.values())


def wait_exit(pid, timeout):
    """Block until pid exits; False on timeout."""
    fd = os.pidfd_open(pid)
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def reap(proc, grace=10):
    """wait4 the tracer or workload process, stopping it if it lingers.
    None if it was reaped already (a poll() saw it exit)."""
    if proc.returncode is not None:
        return None
    if not wait_exit(proc.pid, grace):
        proc.send_signal(signal.SIGINT)
        if not wait_exit(proc.pid, 5):
            proc.kill()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ru


def workload_argv(w, count, ipc_json, delay_ms=DELAY_MS):
    pin = PIN if w.pinned else []
    return [*pin, IPCLOAD, *w.args, "--count", str(count),
            "--delay-ms", str(delay_ms), "--out", ipc_json]


RUN_IDS = itertools.count()


def start_watched(argv, what, ours, **popen):
    """Start argv with its stderr on a ReadyWatcher's terminal and wait for
    the workload's 'ready PID'. (process, watcher)."""
    watch = ReadyWatcher()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=watch.slave, **popen)
    os.close(watch.slave)
    watch.start()
    if not watch.ready.wait(TIMEOUT_S) or watch.pid is None:
        reap(proc, grace=1)
        raise ToolFailed(f"{what}: the workload never got ready: {watch.tail()}", ours)
    return proc, watch


def run_once(w, count, tracer, tmp):
    """One measured run of w, under tracer if not None."""
    n = next(RUN_IDS)
    ipc_json, out = f"{tmp}/{n}-ipcload.json", f"{tmp}/{n}-tracer.out"
    argv = workload_argv(w, count, ipc_json)
    name = tracer.name if tracer else "ipcload"
    ours = tracer is None or tracer.ours
    bg = tracer.background(out) if tracer and tracer.background else None
    proc, watch = start_watched(tracer.command(argv, out) if tracer else argv, name, ours)
    tracer_pid = bg.bt.pid if bg else proc.pid
    cpu0 = cpu_ns(tracer_pid) if tracer else 0
    maps = bpf_map_bytes(tracer_pid) if tracer else 0
    if not wait_exit(watch.pid, TIMEOUT_S):
        reap(proc, grace=0)
        raise ToolFailed(f"{name}: the workload took over {TIMEOUT_S} s", ours)
    end = time.perf_counter()
    cpu1 = cpu_ns(tracer_pid) if tracer else 0
    ru = reap(proc)
    if bg:
        ru = bg.stop()
        if bg.bt.returncode != 0:
            raise ToolFailed(f"{name} exited with status {bg.bt.returncode}", ours)
    watch.join(5)
    if proc.returncode != 0:
        raise ToolFailed(f"{name} exited with status {proc.returncode}: {watch.tail()}", ours)
    ipc = load_json(ipc_json, "ipcload")
    run = Run(seconds=end - watch.at - DELAY_MS / 1000,
              crossings=sum(rows(ipc).values()), cpu_ns=cpu1 - cpu0,
              maxrss_kib=ru.ru_maxrss, map_bytes=maps)
    if tracer:
        run.seen = tracer.seen(out, ipc)
        if tracer.ours:
            report = load_json(out, "boundtrace")
            run.lost_kinds = lost_by_kind(report)
            run.lost = sum(run.lost_kinds.values())
            run.chain_cpu_ns, run.records = own_cost(report)
    return run


def run_pair(cell, flip, tmp):
    """Untraced and traced, the traced run first if flip."""
    first, second = (cell.tracer, None) if flip else (None, cell.tracer)
    a = run_once(cell.workload, cell.count, first, tmp)
    b = run_once(cell.workload, cell.count, second, tmp)
    cell.pairs.append(Pair(b, a) if flip else Pair(a, b))


# ---- the plan ---------------------------------------------------------------

def plan(tracer_list, quick, only=None, aggregate_only=False):
    """The cells to measure. The stress run is aggregate mode's alone; quick
    mode runs the other tracers on the first workload only. `only` keeps
    the named workloads; `aggregate_only` drops the other tracers (both for
    quick checks while tuning; the document is then not rewritten)."""
    aggregate, *others = [t for t in tracer_list if not t.problem]
    if aggregate_only:
        others = [t for t in others if t.name == "base: boundtrace"]
    cells = []
    for w in WORKLOADS:
        if only and w.key not in only:
            continue
        for t in [aggregate] + (others if not quick or w is WORKLOADS[0] else []):
            if t.name in BYSTANDERS and w is not WORKLOADS[0]:
                continue
            if t.name.endswith(SOCKETS_ONLY) and w.key not in SOCKET_WORKLOADS:
                continue
            cells.append(new_cell(w, t, quick, t.reps))
    if not only or STRESS.key in only:
        cells.append(new_cell(STRESS, aggregate, quick, 3))
    return cells


def new_cell(w, tracer, quick, reps):
    count = max(w.count // tracer.scale // (100 if quick else 1), 200)
    return Cell(w, tracer, count, 1 if quick else reps)


def measure(cells, tmp):
    """Round after round, one pair per cell and round until it has its reps."""
    total, done = sum(c.reps for c in cells), 0
    for r in range(max((c.reps for c in cells), default=0)):
        for c in cells:
            if r >= c.reps or c.error:
                continue
            done += 1
            try:
                run_pair(c, r % 2 == 1, tmp)
            except ToolFailed as e:
                c.error = str(e)
                if e.ours:
                    raise
            progress(done, total, c)


def progress(done, total, c):
    p = c.pairs[-1] if c.pairs else None
    what = c.error or f"{p.untraced.seconds * 1e3:.0f} -> {p.traced.seconds * 1e3:.0f} ms"
    print(f"[{done}/{total}] {c.workload.key:6} {c.tracer.name:20.20}  {what}",
          file=sys.stderr, flush=True)


# ---- a long trace --------------------------------------------------------------



def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def long_run(seconds, tmp, extra=()):
    """boundtrace (default mode) over a pinned pipe ping-pong paced at
    LONG_RATE exchanges/s for `seconds`: its RSS and CPU sampled over time,
    its losses, and its counts against ipcload's. A Markdown report."""
    count = LONG_RATE * seconds
    ipc_json, out = f"{tmp}/long-ipcload.json", f"{tmp}/long-bt.json"
    argv = [*PIN, IPCLOAD, "pipe", "--size", "1", "--reply-size", "1",
            "--count", str(count), "--rate", str(LONG_RATE), "--timeout", "0",
            "--delay-ms", str(DELAY_MS), "--out", ipc_json]
    bt, watch = start_watched([BOUNDTRACE, *extra, "-f", "json", "-o", out,
                               "-c", shlex.join(argv)], "long run", True)
    time.sleep(DELAY_MS / 1000)
    samples = []                # (seconds, RSS KiB, CPU ns so far)
    t0, cpu0 = time.perf_counter(), cpu_ns(bt.pid)
    step = seconds / LONG_SAMPLES
    while not wait_exit(watch.pid, step):
        samples.append((time.perf_counter() - t0, rss_kib(bt.pid), cpu_ns(bt.pid) - cpu0))
        print(f"[long] {samples[-1][0]:.0f} s: RSS {samples[-1][1] / 1024:.1f} MiB, "
              f"CPU {samples[-1][2] / 1e9:.2f} s", file=sys.stderr, flush=True)
    wall = time.perf_counter() - t0
    reap(bt)
    watch.join(5)
    if bt.returncode != 0:
        raise ToolFailed(f"long run: boundtrace exited {bt.returncode}: {watch.tail()}", ours=True)
    ipc = load_json(ipc_json, "ipcload")
    crossings, seen, lost = sum(rows(ipc).values()), boundtrace_seen(out, ipc), boundtrace_lost(out)
    lines = ["| t (s) | RSS (MiB) | CPU in the interval (share of one core) |", "|--:|--:|--:|"]
    prev = (0.0, 0, 0)
    for t, rss, cpu in samples:
        lines.append(f"| {t:.0f} | {rss / 1024:.1f} | {100 * (cpu - prev[2]) / ((t - prev[0]) * 1e9):.2f}% |")
        prev = (t, rss, cpu)
    if not samples:
        return "long run: the workload ended before the first sample"
    later = samples[len(samples) // 4:]     # past the start-up (tables, symbol caches)
    growth = (later[-1][1] - later[0][1]) / 1024
    peak = max(s[1] for s in samples) / 1024
    cpu = samples[-1][2] / (samples[-1][0] * 1e9)
    verdicts = [
        f"| RSS flat after the first quarter | {growth:+.1f} MiB from {later[0][0]:.0f} s to "
        f"{later[-1][0]:.0f} s | {verdict(abs(growth) <= 1)} |",
        f"| RSS ≤ 64 MiB | {peak:.1f} MiB (peak sample) | {verdict(peak <= 64)} |",
        f"| userspace ≤ 2% of one core | {100 * cpu:.2f}% (mean) | {verdict(cpu <= 0.02)} |",
        f"| 0 lost at {LONG_RATE:,} exchanges/s | {lost} lost; counted {seen:,} of "
        f"{crossings:,} crossings | {verdict(lost == 0 and seen == crossings)} |",
    ]
    mode = " ".join(extra) or "default mode"
    return (f"boundtrace ({mode}) for {wall:.0f} s over `taskset -c 0 tools/ipcload pipe --size 1 "
            f"--reply-size 1 --rate {LONG_RATE} --count {count}` "
            f"({LONG_RATE:,} exchanges/s, {4 * LONG_RATE:,} crossings/s):\n\n"
            + "\n".join(lines) + "\n\n| target | measured | |\n|---|---|---|\n"
            + "\n".join(verdicts))


# ---- per-program profile ------------------------------------------------------

STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def prog_stats(pid):
    """prog id -> (run_time_ns, run_cnt) of the BPF programs pid holds open
    (/proc/PID/fdinfo; the kernel counts them while bpf_stats_enabled is 1)."""
    return {int(info["prog_id"]): (int(info.get("run_time_ns", 0)), int(info.get("run_cnt", 0)))
            for info in bpf_fdinfo(pid, "prog")}


def prog_names(ids):
    """prog id -> name, from bpftool (fdinfo does not name programs)."""
    r = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True)
    try:
        return {p["id"]: p.get("name", "?") for p in json.loads(r.stdout) if p["id"] in ids}
    except ValueError:
        return {}


def prog_delta(before, after, names):
    """Program name -> (ns, runs) between two prog_stats readings."""
    result = {}
    for pid_, (ns, cnt) in after.items():
        ns0, cnt0 = before.get(pid_, (0, 0))
        result[names.get(pid_, str(pid_))] = (ns - ns0, cnt - cnt0)
    return result


@dataclass
class ProfileCase:
    title: str                  # the mode's name in the overhead table
    flags: list                 # boundtrace options
    bystander: bool = False     # trace an idle process; the workload is untraced
    peers0: bool = True         # the bystander's boundtrace runs with --peers 0
    binary: Optional[str] = None    # --baseline: the other build
    floor: bool = False         # tools/floorhooks' empty programs instead of boundtrace


def profile_cases(w):
    """The modes profiled on w: those the issue gives w a target for, the
    socket-layer mode on the socket workloads, the empty hooks (what any
    program there costs), and on the pipe ping-pong the bystanders."""
    cases = [ProfileCase("boundtrace", [])]
    if lists_option(BOUNDTRACE, "--no-chains"):
        cases.append(ProfileCase("boundtrace --no-chains", ["--no-chains"]))
    if w.key in SOCKET_WORKLOADS and lists_option(BOUNDTRACE, "--sockets-only"):
        cases.append(ProfileCase(SOCKETS_ONLY, ["--sockets-only"]))
    if w is WORKLOADS[0]:
        cases.append(ProfileCase(BYSTANDER, [], bystander=True))
        cases.append(ProfileCase(BYSTANDER_PEERS, [], bystander=True, peers0=False))
    if BASELINE:
        cases += [ProfileCase(f"base: {c.title}", c.flags, c.bystander, c.peers0, BASELINE)
                  for c in list(cases) if not c.flags or lists_option(BASELINE, c.flags[0])]
    if not floor_problem():
        cases.append(ProfileCase(FLOOR, [], floor=True))
    return cases


def profile_one(case, w, tmp, quick):
    """bpf_stats of each program over one whole run of w (pinned, its bench
    count): program -> (ns, runs), and the crossings ipcload made. None
    when the tracer attached too late to see the run from its start."""
    n = next(RUN_IDS)
    ipc_json = f"{tmp}/{n}-profile.json"
    # The tracer must be attached before the workload forks its two ends
    # (-p PID --follow follows children forked after the attach only):
    # loading takes over a second on a busy machine, so a longer delay here.
    argv = workload_argv(w, max(w.count // (100 if quick else 1), 200), ipc_json,
                         PROFILE_DELAY_MS)
    work, watch = start_watched(argv, "profile", True, start_new_session=True)
    holder = bt = None
    try:
        if case.floor:
            holder = FloorHooks(f"{tmp}/{n}-floorhooks.err")
        elif case.bystander:
            holder = Background(f"{tmp}/{n}-profile-bt.json", "0" if case.peers0 else None,
                                binary=case.binary)
        else:
            bt = subprocess.Popen([case.binary or BOUNDTRACE, *case.flags, "--follow", "-p",
                                   str(watch.pid), "-f", "json", "-o",
                                   f"{tmp}/{n}-profile-bt.json"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            wait_attached(bt, "profile: boundtrace", True)
        fork_at = watch.at + PROFILE_DELAY_MS / 1000
        if time.perf_counter() > fork_at - 0.1:
            # Its two ends may run untraced: this round says nothing of the mode.
            print(f"[profile] {case.title}: attached after the workload forked; round skipped",
                  file=sys.stderr, flush=True)
            return None
        # As late as the fork allows: the rest of the machine's calls are not the workload's.
        time.sleep(fork_at - 0.1 - time.perf_counter())
        pid = holder.bt.pid if holder else bt.pid
        before = prog_stats(pid)
        if not wait_exit(work.pid, TIMEOUT_S):
            raise ToolFailed(f"profile: {w.key} did not finish in {TIMEOUT_S} s", ours=True)
        after = prog_stats(pid)
        names = prog_names(set(after))      # while they are loaded
    finally:
        if bt:
            bt.send_signal(signal.SIGINT)
            reap(bt)
        if holder:
            holder.stop()
        try:
            os.killpg(work.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        work.wait()
    crossings = sum(rows(load_json(ipc_json, "ipcload")).values())
    return prog_delta(before, after, names), crossings


# A program's empty counterpart in tools/floorhooks: floor_ and its tracepoint.
FLOOR_OF = {"sock_send_count": "floor_sock_send_length",
            "sock_recv_count": "floor_sock_recv_length",
            "proc_fork": "floor_sched_process_fork", "proc_exec": "floor_sched_process_exec",
            "proc_exit": "floor_sched_process_exit"}


def profile_workload(w, tmp, quick, reps):
    """Per crossing of w, each mode's programs: {mode: {program: (runs,
    ns)}} a crossing, the median over reps interleaved rounds."""
    cases = profile_cases(w)
    got = {c.title: {} for c in cases}
    for _ in range(reps):       # interleaved: mode after mode, round after round
        for c in cases:
            res = profile_one(c, w, tmp, quick)
            if not res:
                continue
            delta, crossings = res
            for name, (ns, cnt) in delta.items():
                if cnt and crossings:
                    got[c.title].setdefault(name, []).append((cnt / crossings, ns / crossings))
    return {mode: {name: (med([x[0] for x in xs]), med([x[1] for x in xs]))
                   for name, xs in progs.items()} for mode, progs in got.items()}


def beyond_empty(progs, floor):
    """What a mode's programs take a crossing beyond empty programs on the
    same tracepoints (the floor's ns a run, bpf_stats' own clock reads
    included in both); None without the floor's figures."""
    if not floor:
        return None
    per_run = {name: ns / runs for name, (runs, ns) in floor.items() if runs}
    fallback = med(list(per_run.values()))
    return sum(ns - runs * per_run.get(FLOOR_OF.get(name, f"floor_{name}"), fallback)
               for name, (runs, ns) in progs.items())


def profile_table(tmp, quick, reps=None, on=None):
    """bpf_stats per program and per crossing for each mode on each pinned
    workload (on: only that one): what each hook costs a crossing, and what
    the modes' programs take beyond empty ones. (table, {(workload key,
    mode): ns a crossing beyond empty programs})."""
    if not shutil.which("bpftool"):
        return "n/a: bpftool not installed", {}
    try:
        old = Path(STATS_SYSCTL).read_text().strip()
    except OSError as e:
        return f"n/a: {STATS_SYSCTL}: {e}", {}
    reps = reps or (1 if quick else 3)
    chosen = [x for x in WORKLOADS if x.key == on] if on else WORKLOADS[:1] if quick else WORKLOADS
    lines = [f"Median of {reps} run{'s' if reps > 1 else ''} of each workload's whole exchange "
             "(a program that ran less than once in 100 crossings, such as fdscan at the start, "
             "counts in the total only):", "",
             "| workload | mode | program | runs/crossing | ns/run | ns/crossing |",
             "|---|---|---|--:|--:|--:|"]
    beyond = {}
    try:
        Path(STATS_SYSCTL).write_text("1")
        for w in chosen:
            modes = profile_workload(w, tmp, quick, reps)
            for mode, progs in modes.items():
                for name, (runs, ns) in sorted(progs.items()):
                    if runs >= 0.01:
                        lines.append(f"| {w.title} | {mode} | {name} | {runs:.2f} "
                                     f"| {ns / runs:.0f} | {ns:.0f} |")
                total = sum(ns for _, ns in progs.values())
                lines.append(f"| {w.title} | {mode} | **all** | | | **{total:.0f}** |")
                extra = beyond_empty(progs, modes.get(FLOOR)) if mode != FLOOR else None
                if extra is not None:
                    beyond[(w.key, mode)] = extra
                    lines.append(f"| {w.title} | {mode} | **beyond empty programs** | | "
                                 f"| **{extra:.0f}** |")
                print(f"[profile] {w.key}, {mode}: {total:.0f} ns a crossing"
                      + (f", {extra:.0f} beyond empty programs" if extra is not None else ""),
                      file=sys.stderr, flush=True)
    finally:
        Path(STATS_SYSCTL).write_text(old)
    return "\n".join(lines), beyond


# ---- a real server ------------------------------------------------------------

@dataclass
class ServerCase:
    title: str
    args: list                  # the load generator's arguments but -n
    requests: int
    server: str = "redis"       # key of SERVERS


SERVER_CASES = [
    ServerCase("redis SET, unix socket, 1 client", ["-c", "1", "-t", "set"], 30_000),
    ServerCase("redis SET, unix socket, 8 clients", ["-c", "8", "-t", "set"], 60_000),
    ServerCase("redis SET, loopback TCP, 1 client", ["-c", "1", "-t", "set", "--tcp"], 30_000),
    ServerCase("redis SET, loopback TCP, 8 clients", ["-c", "8", "-t", "set", "--tcp"], 60_000),
    ServerCase("nginx GET 3.6 KB, keep-alive, 1 client (ab)", ["-k", "-c", "1"], 20_000, "nginx"),
    ServerCase("nginx GET 3.6 KB, keep-alive, 8 clients (ab)", ["-k", "-c", "8"], 40_000, "nginx"),
]


class RedisServer:
    def __init__(self, tmp):
        self.dir = f"{tmp}/redis"
        os.makedirs(self.dir)
        self.sock = f"{self.dir}/redis.sock"
        with socket_bound() as port:
            self.port = port
        self.p = subprocess.Popen(
            [*PIN, "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--unixsocket", self.sock, "--dir", self.dir, "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.p.poll() is not None or time.monotonic() > end:
                raise ToolFailed("redis-server did not start", ours=False)
            time.sleep(0.02)
        self.pid = self.p.pid

    def benchmark(self, case, n):
        """Requests per second, from redis-benchmark's own CSV."""
        where = (["-h", "127.0.0.1", "-p", str(self.port)] if "--tcp" in case.args
                 else ["-s", self.sock])
        args = [a for a in case.args if a != "--tcp"]
        r = subprocess.run([*PIN, "redis-benchmark", *where, *args, "-n", str(n), "--csv"],
                           capture_output=True, text=True, timeout=TIMEOUT_S,
                           stdin=subprocess.DEVNULL)
        for line in r.stdout.splitlines():
            f = [x.strip('"') for x in line.split(",")]
            if len(f) > 1 and f[0] in ("SET", "GET"):
                return float(f[1])
        raise ToolFailed(f"redis-benchmark: no result ({r.stderr.strip()[-200:]})", ours=False)

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


class NginxServer:
    """nginx, one worker (the traced process), a static page on a loopback
    port, no access log; ab (apache2-utils) drives it."""

    def __init__(self, tmp):
        d = f"{tmp}/nginx"
        os.makedirs(f"{d}/www")
        Path(f"{d}/www/index.html").write_text("boundtrace\n" * 330)
        with socket_bound() as port:
            self.port = port
        Path(f"{d}/nginx.conf").write_text(
            f"daemon off; master_process on; worker_processes 1; user root;\n"
            f"pid {d}/nginx.pid; error_log {d}/error.log;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{ access_log off; client_body_temp_path {d}/body; "
            f"proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi; "
            f"uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi; keepalive_requests 1000000;\n"
            f"  server {{ listen 127.0.0.1:{port}; root {d}/www; }} }}\n")
        self.p = subprocess.Popen([*PIN, "nginx", "-p", d, "-c", f"{d}/nginx.conf"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        self.pid = None
        while not self.pid:
            try:
                kids = Path(f"/proc/{self.p.pid}/task/{self.p.pid}/children").read_text().split()
                self.pid = int(kids[0]) if kids else None
            except OSError:
                pass
            if self.p.poll() is not None or time.monotonic() > end:
                raise ToolFailed("nginx did not start its worker", ours=False)
            time.sleep(0.02)

    def benchmark(self, case, n):
        """Requests per second, as ab reports them."""
        r = subprocess.run([*PIN, "ab", *case.args, "-n", str(n), f"http://127.0.0.1:{self.port}/"],
                           capture_output=True, text=True, timeout=TIMEOUT_S,
                           stdin=subprocess.DEVNULL)
        m = re.search(r"^Requests per second:\s+([\d.]+)", r.stdout, re.M)
        failed = re.search(r"^Failed requests:\s+(\d+)", r.stdout, re.M)
        if not m or (failed and int(failed.group(1))):
            raise ToolFailed(f"ab: no clean result ({(r.stdout + r.stderr).strip()[-200:]})",
                             ours=False)
        return float(m.group(1))

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


SERVERS = {"redis": (RedisServer, ("redis-server", "redis-benchmark")),
           "nginx": (NginxServer, ("nginx", "ab"))}


class socket_bound:
    """A free loopback port (closed again before use)."""

    def __enter__(self):
        import socket
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        return self.s.getsockname()[1]

    def __exit__(self, *exc):
        self.s.close()


@dataclass
class ServerTracer:
    name: str
    command: Callable[[int, str], list]      # (server pid, out file) -> argv
    attached: Callable[["subprocess.Popen", str], bool]
    reps: int
    ours: bool = False
    problem: Optional[str] = None


def file_says(text):
    """Attached once the tracer's output file holds text (bpftrace's
    'Attaching N probes')."""
    def check(proc, out):
        try:
            return text in Path(out).read_text(errors="replace")
        except OSError:
            return False
    return check


def settled(seconds):
    """For a tracer that says nothing when attached (perf trace): a fixed wait."""
    def check(proc, out):
        if not hasattr(proc, "bt_started"):
            proc.bt_started = time.monotonic()
        return time.monotonic() - proc.bt_started >= seconds
    return check


def server_tracers(tracer_list, aggregate_only=False):
    """boundtrace's modes (and, with --baseline, the same modes of that
    build) and the third-party tracers, attached with -p; with
    --aggregate-only the default mode of each build alone."""
    def bt(extra, binary=None):
        return lambda pid, out: [binary or BOUNDTRACE, *extra, "--peers", "0", "-f", "json",
                                 "-o", out, "-p", str(pid)]
    attached = lambda proc, out: bpf_attached(proc.pid)    # noqa: E731
    flags = [[]]
    if not aggregate_only:
        flags += [[t.mode_flag] for t in tracer_list
                  if t.ours and t.mode_flag in ("--no-chains", "--chains") and not t.problem
                  and not t.name.startswith("base: ")]
        # Socket calls at the socket layer alone: the mode the servers' target is for.
        if lists_option(BOUNDTRACE, "--sockets-only"):
            flags.append(["--sockets-only"])
    modes = [ServerTracer(" ".join(["boundtrace", *f]), bt(f), attached, 5, ours=True)
             for f in flags]
    if BASELINE:
        modes += [ServerTracer(" ".join(["base: boundtrace", *f]), bt(f, BASELINE), attached, 5,
                               ours=True) for f in flags if not f or lists_option(BASELINE, f[0])]
    if aggregate_only:
        return modes
    # The bystander: the server untraced, every hook attached (what the
    # default mode costs beyond it is the target's own work); the floor:
    # the same hooks empty (what no tracer on them can go below).
    modes.append(ServerTracer(
        BYSTANDER, lambda pid, out: [BOUNDTRACE, "--peers", "0", "-f", "json", "-o", out,
                                     "-p", str(IDLE.pid())], attached, 5, ours=True))
    modes.append(ServerTracer(FLOOR, lambda pid, out: [FLOORHOOKS], attached, 5,
                              problem=floor_problem()))
    modes.append(ServerTracer(FLOOR_NO_SYSCALLS,
                              lambda pid, out: [FLOORHOOKS, *FLOOR_NO_SYSCALLS_HOOKS],
                              attached, 5, problem=floor_problem()))
    problems = {t.name.split(" (")[0]: t.problem for t in tracer_list}
    modes.append(ServerTracer(
        "bpftrace (tools/bench-aggregate.bt)",
        lambda pid, out: ["bpftrace", "-o", out, bt_script_for(pid, out)],
        file_says("Attaching"), 3, problem=problems.get("bpftrace")))
    modes.append(ServerTracer(
        "perf trace -s", lambda pid, out: ["perf", "trace", "-s", "-o", out, "-p", str(pid)],
        settled(1.5), 3, problem=problems.get("perf trace -s")))
    return modes


class IdleProcess:
    """One idle process for the real servers' bystander rows, started when
    first asked for and killed with the server bench."""

    def __init__(self):
        self.p = None

    def pid(self):
        if not self.p:
            self.p = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
        return self.p.pid

    def stop(self):
        if self.p:
            self.p.kill()
            self.p.wait()
            self.p = None


IDLE = IdleProcess()


def bt_script_for(pid, out):
    """tools/bench-aggregate.bt for a running process: its one target is
    pid rather than the -c child (bpftrace refuses cpid without -c)."""
    text = Path(BT_SCRIPT).read_text().replace("@target[cpid] = 1;", f"@target[{pid}] = 1;")
    path = out + ".bt"
    Path(path).write_text(text)
    return path


def start_server_tracer(t, pid, out):
    proc = subprocess.Popen(t.command(pid, out), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while not t.attached(proc, out):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise ToolFailed(f"{t.name} -p SERVER did not attach", ours=t.ours)
        time.sleep(0.01)
    return proc


def stop_server_tracer(t, proc, out):
    """Stop it; boundtrace's losses, 0 for the others."""
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise ToolFailed(f"{t.name} -p SERVER did not stop", ours=t.ours)
    if rc != 0:
        raise ToolFailed(f"{t.name} -p SERVER exited {rc}", ours=t.ours)
    return lost_by_kind(load_json(out, "boundtrace")) if t.ours else Counter()


def server_bench(tmp, quick, tracer_list, aggregate_only=False):
    """Throughput of real servers untraced and traced with -p, in alternating
    pairs, the tracers interleaved round after round (one pair of each per
    round, as the ipcload cells are); a Markdown table (a server whose
    tools are missing: a line saying so)."""
    lines = ["| workload | tracer | pairs | untraced req/s | traced req/s | traced/untraced (min–max) "
             "| added µs/request | target | lost |", "|---|---|--:|--:|--:|--:|--:|---|--:|"]
    modes = [t for t in server_tracers(tracer_list, aggregate_only) if not t.problem]
    for key, (make, tools) in SERVERS.items():
        cases = [c for c in SERVER_CASES if c.server == key][:1 if quick else None]
        missing = [t for t in tools if not shutil.which(t)]
        if missing:
            lines.append(f"| {key} | | | | | | | | n/a: {', '.join(missing)} not installed "
                         "(`make deps`) |")
            continue
        srv = make(tmp)
        try:
            for case in cases:
                lines += server_case(srv, case, modes[:1] if quick else modes, tmp, quick)
        finally:
            srv.stop()
            IDLE.stop()
    for t in server_tracers(tracer_list, aggregate_only):
        if t.problem:
            lines.append(f"| all | {t.name} | | | | | | | {t.problem} |")
    return "\n".join(lines)


def server_case(srv, case, modes, tmp, quick):
    """One table line per tracer for this case; round r runs one pair of
    each tracer that wants more than r pairs."""
    n = 2000 if quick else case.requests
    cells = {t.name: {"un": [], "tr": [], "ratios": [], "added": [], "lost": Counter(),
                      "error": None}
             for t in modes}
    for rep in range(1 if quick else max(t.reps for t in modes)):
        for t in modes:
            c = cells[t.name]
            if c["error"] or rep >= (1 if quick else t.reps):
                continue
            try:
                server_pair(srv, case, t, n, rep, tmp, c)
            except ToolFailed as e:
                if e.ours:
                    raise
                c["error"] = e
    lines = []
    for t in modes:
        c = cells[t.name]
        if c["error"]:
            lines.append(f"| {case.title} | {t.name} | | | | | | | failed: {c['error']} |")
            continue
        r = med(c["ratios"])
        target = "" if quick or t.name != "boundtrace" and not t.name.startswith("boundtrace --") \
            else f"≥ 0.95 {verdict(r >= 0.95)}"
        print(f"[server] {case.title}, {t.name}: {med(c['un']):,.0f} -> {med(c['tr']):,.0f} "
              f"req/s, ratio {r:.3f} ({min(c['ratios']):.3f}–{max(c['ratios']):.3f})",
              file=sys.stderr, flush=True)
        lines.append(f"| {case.title} | {t.name} | {len(c['ratios'])} | {med(c['un']):,.0f} "
                     f"| {med(c['tr']):,.0f} | {r:.3f} ({min(c['ratios']):.3f}–"
                     f"{max(c['ratios']):.3f}) | {med(c['added']):.2f} | {target} "
                     f"| {lost_text(c['lost']) if t.ours else ''} |")
    return lines


def server_pair(srv, case, t, n, rep, tmp, c):
    """One untraced and one traced load run of case, the order alternating."""
    out = f"{tmp}/server-{next(RUN_IDS)}.out"
    runs = {}
    for traced in ((False, True) if rep % 2 == 0 else (True, False)):
        proc = start_server_tracer(t, srv.pid, out) if traced else None
        runs[traced] = srv.benchmark(case, n)
        if proc:
            c["lost"].update(stop_server_tracer(t, proc, out))
    c["un"].append(runs[False])
    c["tr"].append(runs[True])
    c["ratios"].append(runs[True] / runs[False])
    c["added"].append(1e6 / runs[True] - 1e6 / runs[False])


def lost_text(lost):
    """'0', or the total and its kinds: '3 (no_entry 3)'."""
    total = sum(lost.values())
    return f"{total} ({', '.join(f'{k} {v}' for k, v in lost.items())})" if total else "0"


def server_profile_table(tmp, quick, tracer_list, reps=None, key="redis"):
    """bpf_stats per program, per request, while the load generator drives
    a traced server (the first case of SERVERS[key]): boundtrace's modes, the
    bystander and the empty hooks, interleaved round after round. What
    a request pays, hook by hook, and how much of it any tracer on these
    tracepoints pays (the floor's rows: dispatch and bpf_stats' clock)."""
    make, tools = SERVERS[key]
    missing = [t for t in (*tools, "bpftool") if not shutil.which(t)]
    if missing:
        return f"n/a: {', '.join(missing)} not installed (`make deps`)"
    try:
        old = Path(STATS_SYSCTL).read_text().strip()
    except OSError as e:
        return f"n/a: {STATS_SYSCTL}: {e}"
    case = next(c for c in SERVER_CASES if c.server == key)
    n = 2000 if quick else case.requests
    reps = reps or (1 if quick else 3)
    modes = [t for t in server_tracers(tracer_list)
             if (t.ours or t.name == FLOOR) and not t.problem]
    got = {t.name: {} for t in modes}       # name -> program -> [(runs, ns)] a request
    os.makedirs(f"{tmp}/profile-{key}")     # the server bench's directory may exist
    srv = make(f"{tmp}/profile-{key}")
    try:
        Path(STATS_SYSCTL).write_text("1")
        for _ in range(reps):
            for t in modes:
                out = f"{tmp}/server-profile-{next(RUN_IDS)}.out"
                proc = start_server_tracer(t, srv.pid, out)
                try:
                    before = prog_stats(proc.pid)
                    srv.benchmark(case, n)
                    after = prog_stats(proc.pid)
                    names = prog_names(set(after))
                finally:
                    stop_server_tracer(t, proc, out)
                for name, (ns, cnt) in prog_delta(before, after, names).items():
                    if cnt:
                        got[t.name].setdefault(name, []).append((cnt / n, ns / n))
    finally:
        Path(STATS_SYSCTL).write_text(old)
        srv.stop()
        IDLE.stop()
    lines = [f"{case.title}, {n:,} requests a run, median of {reps} run{'s' if reps > 1 else ''} "
             "(a program that ran less than once in 100 requests, such as the load generator's "
             "exec and exit, counts in the total only):", "",
             "| mode | program | runs/request | ns/run | ns/request |", "|---|---|--:|--:|--:|"]
    for t in modes:
        total = 0.0
        for name, xs in sorted(got[t.name].items()):
            runs, ns = med([x[0] for x in xs]), med([x[1] for x in xs])
            total += ns
            if runs >= 0.01:
                lines.append(f"| {t.name} | {name} | {runs:.2f} | {ns / runs:.0f} | {ns:.0f} |")
        lines.append(f"| {t.name} | **all** | | | **{total:.0f}** |")
        print(f"[server profile] {t.name}: {total:.0f} ns a request", file=sys.stderr, flush=True)
    return "\n".join(lines)


# ---- tables -----------------------------------------------------------------

def med(values):
    return statistics.median(values) if values else float("nan")


def verdict(ok):
    return "**met**" if ok else "**missed**"


def coverage_note(c):
    crossings = sum(p.traced.crossings for p in c.pairs)
    seen = sum(p.traced.seen for p in c.pairs)
    if c.tracer.ours:
        return "" if seen == crossings else f"counted {seen - crossings:+d} calls vs ipcload"
    return "" if seen >= crossings else f"saw only {100 * seen / crossings:.1f}% of the calls"


def overhead_table(cells, tracer_list, judge):
    out = ["| workload | tracer | pairs | crossings/run | untraced ms | traced ms "
           "| ratio | added ns/crossing | issue target | note |",
           "|---|---|--:|--:|--:|--:|--:|--:|---|---|"]
    for c in cells:
        if c.error:
            out.append(f"| {c.workload.title} | {c.tracer.name} | | | | | | | | failed: {c.error} |")
            continue
        ps = c.pairs
        ratio = med([p.ratio for p in ps])
        target = ""
        goal = target_of(c.tracer.name, c.workload)
        if goal:
            target = f"≤ {goal:.2f}×"
            if judge:
                target += " " + verdict(ratio <= goal)
        note = coverage_note(c)
        if c.workload is STRESS:
            note = (note + " " if note else "") + f"{rate(c) / 1e6:.2f} M crossings/s traced"
        out.append(f"| {c.workload.title} | {c.tracer.name} | {len(ps)} "
                   f"| {int(med([p.traced.crossings for p in ps])):,} "
                   f"| {med([p.untraced.seconds for p in ps]) * 1e3:.1f} "
                   f"| {med([p.traced.seconds for p in ps]) * 1e3:.1f} "
                   f"| {ratio:.3f}× | {med([p.added_ns for p in ps]):.0f} | {target} | {note} |")
    for t in tracer_list:
        if t.problem:
            out.append(f"| all | {t.name} | | | | | | | | {t.problem} |")
    return "\n".join(out)


def rate(c):
    return med([p.traced.crossings / p.traced.seconds for p in c.pairs])


def cpu_share(run):
    return run.cpu_ns / (run.seconds * 1e9)


def resources_table(cells):
    """CPU is the tracer process's over the window; its chain folds' part
    and its records are its own report's (over the trace, a little longer)."""
    out = ["| workload | mode | lost | CPU (share of one core) | of it, chain folds "
           "| records/s | peak RSS | BPF map memory |",
           "|---|---|--:|--:|--:|--:|--:|--:|"]
    for c in cells:
        if not c.tracer.ours or not c.pairs:
            continue
        runs = [p.traced for p in c.pairs]
        kinds = sum((r.lost_kinds for r in runs), Counter())
        out.append(f"| {c.workload.title} | {c.tracer.name} | {lost_text(kinds)} "
                   f"| {100 * med([cpu_share(r) for r in runs]):.2f}% "
                   f"| {100 * med([r.chain_cpu_ns / (r.seconds * 1e9) for r in runs]):.2f}% "
                   f"| {med([r.records / r.seconds for r in runs]):,.0f} "
                   f"| {max(r.maxrss_kib for r in runs) / 1024:.1f} MiB "
                   f"| {max(r.map_bytes for r in runs) / 2**20:.1f} MiB |")
    return "\n".join(out)


def bt_cells(cells, modes=("boundtrace",)):
    """The cells of these boundtrace modes (default: the default mode) that have results."""
    return [c for c in cells if c.tracer.name in modes and c.pairs and not c.error]


def judged_modes():
    """The modes with targets: the default and the cheapest (may be one)."""
    return tuple(dict.fromkeys(("boundtrace", CHEAPEST)))


def bpftrace_factors(cells):
    """Workload key -> bpftrace's added ns per crossing / boundtrace's."""
    ours = {c.workload.key: med([p.added_ns for p in c.pairs]) for c in bt_cells(cells)}
    factors = {}
    for c in cells:
        if c.tracer.name.startswith("bpftrace") and c.pairs and c.workload.key in ours:
            theirs, mine = med([p.added_ns for p in c.pairs]), ours[c.workload.key]
            factors[c.workload.key] = theirs / mine if mine > 0 else float("inf")
    return factors


def targets_table(cells):
    out = ["| target (from the issue) | measured | |", "|---|---|---|"]
    for c in bt_cells(cells, judged_modes()):
        goal = target_of(c.tracer.name, c.workload)
        if goal:
            r = med([p.ratio for p in c.pairs])
            out.append(f"| {c.tracer.name} ≤ {goal:.2f}× on {c.workload.title} "
                       f"| {r:.3f}× | {verdict(r <= goal)} |")
    for c in cells:
        if c.tracer.name in BYSTANDERS and c.pairs:
            r = med([p.ratio for p in c.pairs])
            out.append(f"| {c.tracer.name} ≤ 1.15× on {c.workload.title} | {r:.3f}× "
                       f"| {verdict(r <= 1.15)} |")
            floor = [f for f in cells if f.tracer.name == FLOOR and f.pairs and
                     f.workload is c.workload]
            if floor:
                rf = med([p.ratio for p in floor[0].pairs])
                out.append(f"| {c.tracer.name} within {FLOOR_SLACK:.2f} of the empty-hook floor "
                           f"({rf:.3f}×) on {c.workload.title} | {r:.3f}× "
                           f"| {verdict(r <= rf + FLOOR_SLACK)} |")
    factors = bpftrace_factors(cells)
    if factors:
        shown = ", ".join(f"{k} {v:.1f}×" for k, v in factors.items())
        out.append(f"| ≥ 6× less added ns/crossing than the bpftrace script "
                   f"| {shown} | {verdict(min(factors.values()) >= 6)} |")
    else:
        out.append("| ≥ 6× less added ns/crossing than the bpftrace script | bpftrace not run | n/a |")
    stress = [c for c in bt_cells(cells) if c.workload is STRESS]
    if stress:
        lost = sum(p.traced.lost for p in stress[0].pairs)
        r = rate(stress[0])
        out.append(f"| 0 lost at 1M crossings/s | {lost} lost at {r / 1e6:.2f} M/s "
                   f"| {verdict(lost == 0 and r >= 0.9e6)} |")
    # The "every mode": each mode of ours that traces a workload (bystanders trace an idle one).
    judged = [c for c in cells if c.tracer.ours and not c.tracer.background
              and c.pairs and not c.error and c.workload is not STRESS]
    if judged:
        cpu = {(c.tracer.name, c.workload.key): med([cpu_share(p.traced) for p in c.pairs])
               for c in judged}
        rss = {(c.tracer.name, c.workload.key): max(p.traced.maxrss_kib for p in c.pairs) / 1024
               for c in judged}
        worst, fattest = max(cpu, key=cpu.get), max(rss, key=rss.get)
        stress_cpu = [med([cpu_share(p.traced) for p in c.pairs]) for c in stress]
        extra = f"; stress run: {100 * stress_cpu[0]:.2f}%" if stress_cpu else ""
        out.append(f"| userspace ≤ 2% of one core, every mode | {100 * cpu[worst]:.2f}% (worst "
                   f"median: {worst[0]}, {worst[1]}){extra} | {verdict(cpu[worst] <= 0.02)} |")
        out.append(f"| ≤ 32 MiB RSS, every mode | {rss[fattest]:.1f} MiB (peak: {fattest[0]}, "
                   f"{fattest[1]}) | {verdict(rss[fattest] <= 32)} |")
    return "\n".join(out)


def budget_table(cells, beyond):
    """Each ratio target of a ping-pong as nanoseconds a crossing: what the
    target lets the tracer add (from the untraced runs), what it added,
    what the empty hooks alone add (the floor row), what that leaves the
    programs, and what the mode's programs take beyond empty ones
    (bpf_stats, the per-crossing profile): why a missed target is missed."""
    floors = {c.workload.key: med([p.added_ns for p in c.pairs])
              for c in cells if c.tracer.name == FLOOR and c.pairs}
    out = ["| workload | mode | target | allowed | added | empty hooks (floor row) "
           "| left for the programs | programs beyond empty ones | why |",
           "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for c in bt_cells(cells, judged_modes()):
        goal = target_of(c.tracer.name, c.workload)
        if not goal:
            continue
        base = med([p.untraced.seconds * 1e9 / p.untraced.crossings for p in c.pairs])
        allowed, added = (goal - 1) * base, med([p.added_ns for p in c.pairs])
        floor, prog = floors.get(c.workload.key), beyond.get((c.workload.key, c.tracer.name))
        left = allowed - floor if floor is not None else None
        if added <= allowed:
            why = "met"
        elif left is not None and left <= 0:
            why = "the empty hooks alone add more than the target allows"
        elif left is not None and prog is not None and prog > left:
            why = f"the programs take {prog / left:.1f}× what is left"
        else:
            why = "missed, not by the programs' measured work (noise, or what bpf_stats misses)"
        show = lambda v: "n/a" if v is None else f"{v:.0f}"  # noqa: E731
        out.append(f"| {c.workload.title} | {c.tracer.name} | ≤ {goal:.2f}× | {allowed:.0f} "
                   f"| {added:.0f} | {show(floor)} | {show(left)} | {show(prog)} | {why} |")
    return "\n".join(out)


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown")
    return (f"- kernel: {os.uname().release} ({os.uname().machine})\n"
            f"- CPU: {model}, nproc {os.cpu_count()}\n"
            f"- boundtrace: {revision()}\n"
            f"- started: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")


def revision():
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown revision (not a git checkout)"
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return f"commit {head.stdout.strip()}" + (", with uncommitted changes" if dirty else "")


def workloads_md(tracer_list):
    lines = []
    for w in WORKLOADS + [STRESS]:
        pin = "taskset -c 0 " if w.pinned else ""
        lines.append(f"- {w.title}: `{pin}tools/ipcload {' '.join(w.args)} --count {w.count}`"
                     + (f" (issue target for aggregate mode: ≤ {w.target:.2f}×)" if w.target else ""))
    scaled = ", ".join(f"{t.name} {t.scale}" for t in tracer_list if t.scale > 1)
    return "\n".join(lines) + f"\n\nCounts are divided by: {scaled}.\n"


def report(cells, tracer_list, quick, server, profile, sprofile):
    profile, beyond = profile
    targets = ("quick run: counts too small for the timings to mean anything, "
               "targets not checked" if quick else targets_table(cells))
    budget = ("quick run: not judged" if quick else budget_table(cells, beyond))
    return (f"### Overhead\n\n{overhead_table(cells, tracer_list, not quick)}\n\n"
            f"### Real servers (redis-benchmark, ab against a traced redis-server, nginx worker)\n\n{server}\n\n"
            f"### boundtrace resources (traced runs)\n\n{resources_table(cells)}\n\n"
            f"### Per-program cost (bpf_stats, per crossing of the pinned workloads)\n\n{profile}\n\n"
            f"### Per-program cost on real servers (bpf_stats, per request)\n\n{sprofile}\n\n"
            f"### Targets\n\n{targets}\n\n"
            f"### Where each ping-pong target's nanoseconds go (a crossing)\n\n{budget}\n")


LONG_HEADER = "## Long trace\n"


def long_section():
    """The document from its long-trace section on, as it is: a full run
    keeps it (the long trace and the notes after it are not its own)."""
    try:
        text = DOC.read_text()
    except OSError:
        return ""
    return text[text.index(LONG_HEADER):] if LONG_HEADER in text else ""


def write_long_section(text):
    """A long run of a minute or more replaces the document's long-trace
    section (up to the next section)."""
    doc = DOC.read_text()
    rest = ""
    if LONG_HEADER in doc:
        doc, tail = doc[:doc.index(LONG_HEADER)], doc[doc.index(LONG_HEADER) + len(LONG_HEADER):]
        rest = tail[tail.index("\n## ") + 1:] if "\n## " in tail else ""
    DOC.write_text(doc.rstrip("\n") + "\n\n" + LONG_HEADER + "\n" + text.rstrip("\n") + "\n"
                   + ("\n" + rest if rest else ""))


def write_doc(text, tracer_list):
    kept = long_section()
    DOC.write_text(
        "# Benchmarks\n\n"
        "Generated by `make bench` (`tools/bench.py`); `make bench QUICK=1` only checks\n"
        "that the harness runs. Targets are informational: a missed one never fails\n"
        "the run. The VM these ran on is shared and noisy; compare ratios, not\n"
        "absolute times, and rerun before trusting a difference of a few percent.\n\n"
        f"## Method\n\n{METHOD}\n## Workloads\n\n{workloads_md(tracer_list)}\n## Results\n\n{text}"
        + ("\n" + kept if kept else ""))


def snapshot(tmp):
    """Measure one build throughout, even if ./boundtrace is rebuilt meanwhile."""
    global BOUNDTRACE, IPCLOAD, BASELINE
    BOUNDTRACE = shutil.copy2(BOUNDTRACE, f"{tmp}/boundtrace")
    if BASELINE:
        BASELINE = shutil.copy2(BASELINE, f"{tmp}/boundtrace-base")
    IPCLOAD = shutil.copy2(IPCLOAD, f"{tmp}/ipcload")


def main():
    args = sys.argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    quick = "--quick" in args
    only = args[args.index("--only") + 1].split(",") if "--only" in args else None
    aggregate_only = "--aggregate-only" in args
    profile_only = "--profile" in args
    if "--baseline" in args:
        global BASELINE
        BASELINE = os.path.abspath(args[args.index("--baseline") + 1])
    if os.geteuid() != 0:
        print("bench skipped: it needs root (boundtrace loads BPF)")
        return 0
    # A SIGTERM unwinds like ^C: the finally blocks stop the workloads and
    # put bpf_stats_enabled back (left at 1, it slows every BPF program).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start, about = time.monotonic(), machine()
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as tmp:
        snapshot(tmp)
        if "--long" in args:
            seconds = int(args[args.index("--long") + 1])
            try:
                text = long_run(seconds, tmp, args[args.index("--long-flags") + 1].split()
                                if "--long-flags" in args else ())
            except ToolFailed as e:
                print(f"bench: {e}", file=sys.stderr)
                return 1
            text += f"\n\nMachine:\n{about}\n"
            print(text)
            if seconds >= 60 and not quick:
                write_long_section(text)
            return 0
        if profile_only:
            on = args[args.index("--profile-on") + 1] if "--profile-on" in args else "pipe"
            if on not in [x.key for x in WORKLOADS] + list(SERVERS):
                print(f"bench: --profile-on {on}: one of "
                      f"{', '.join([x.key for x in WORKLOADS] + list(SERVERS))}", file=sys.stderr)
                return 2
            reps = (int(args[args.index("--profile") + 1])
                    if args[args.index("--profile") + 1:][:1] != [] and
                    args[args.index("--profile") + 1].isdigit() else None)
            try:
                print(server_profile_table(tmp, quick, tracers(), reps, on) if on in SERVERS
                      else profile_table(tmp, quick, reps, on)[0])
            except ToolFailed as e:
                print(f"bench: {e}", file=sys.stderr)
                return 1
            return 0
        tracer_list = tracers()
        cells = plan(tracer_list, quick, only, aggregate_only)
        try:
            measure(cells, tmp)
            server = server_bench(tmp, quick, tracer_list, aggregate_only) if not only or "server" in only else "not run"
            profile = (profile_table(tmp, quick) if not only or "profile" in only
                       else ("not run", {}))
            sprofile = ("\n\n".join(server_profile_table(tmp, quick, tracer_list, key=k)
                                      for k in SERVERS)
                        if not only or "profile" in only or "server" in only else "not run")
        except ToolFailed as e:
            print(f"bench: {e}", file=sys.stderr)
            if e.ours:
                return 1
            server = sprofile = f"failed: {e}"
            profile = (server, {})
    text = (report(cells, tracer_list, quick, server, profile, sprofile) + f"\nMachine:\n{about}\n"
            f"- bench wall time: {(time.monotonic() - start) / 60:.1f} min\n")
    print(text)
    if not quick and not only and not aggregate_only and not BASELINE:
        write_doc(text, tracer_list)
    return 0


if __name__ == "__main__":
    sys.exit(main())
