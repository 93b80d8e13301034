#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Root integration tests: run the workloads in tools/ under boundtrace and
compare boundtrace's JSON with what the workload says it did, figure by
figure. No timing is asserted here (that is `make bench`).

Usage: tests/integration/run.py [-k SUBSTRING] [-v]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BT = os.path.join(ROOT, "boundtrace")
IPCLOAD = os.path.join(ROOT, "build", "tools", "ipcload")
IPCMESH = os.path.join(ROOT, "build", "tools", "ipcmesh")
TIERDEMO = os.path.join(ROOT, "build", "tools", "tierdemo")
STACKLOAD = os.path.join(ROOT, "build", "tools", "stackload")
TIMEOUTLOAD = os.path.join(ROOT, "build", "tools", "timeoutload")
PIPETIERS = os.path.join(ROOT, "build", "tools", "pipetiers")
WAKEFAN = os.path.join(ROOT, "build", "tools", "wakefan")
THREADCHURN = os.path.join(ROOT, "build", "tools", "threadchurn")
TMP = tempfile.mkdtemp(prefix="bt-it-")
VERBOSE = "-v" in sys.argv
# The longest a gated workload waits for boundtrace (run_gated opens the gate sooner).
GATE_MS = "30000"

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Failure(Exception):
    pass


class Skip(Exception):
    """The test cannot run here (a package is missing): counted as skipped."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def eq(got, want, what):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


def tmpfile(name):
    path = os.path.join(TMP, name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def run(args, timeout=60, **kw):
    if VERBOSE:
        print("   $ " + " ".join(args))
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def traced(mode, *ipc_args, bt_args=()):
    """Run tools/ipcload MODE under `boundtrace -c`; return (boundtrace, ipcload) JSON."""
    bt_out = tmpfile("bt.json")
    ipc_out = tmpfile("ipc.json")
    cmd = " ".join([IPCLOAD, mode, *ipc_args, "--out", ipc_out])
    r = run([BT, "-f", "json", "-o", bt_out, *bt_args, "-c", cmd])
    check(r.returncode == 0, "boundtrace -c '%s' exited %d: %s%s"
          % (cmd, r.returncode, r.stderr, r.stdout))
    with open(bt_out) as f:
        bt = json.load(f)
    with open(ipc_out) as f:
        ipc = json.load(f)
    return bt, ipc


def strip_path(channel):
    """unix:/path[1->2] -> unix:[1->2]; the workload names channels by inode only."""
    if channel.startswith("unix:") and "[" in channel:
        return "unix:" + channel[channel.index("["):]
    return channel


def bt_rows(bt, pid):
    procs = [p for p in bt["processes"] if p["pid"] == pid]
    check(len(procs) == 1, "pid %d appears %d times in boundtrace output" % (pid, len(procs)))
    return procs[0], {(b["kind"], strip_path(b["channel"]), b["direction"]): b
                      for b in procs[0]["boundaries"]}


def assert_matches(bt, ipc, fields=("calls", "bytes", "errors")):
    """Every crossing the workload made is in boundtrace's output, exactly;
    and boundtrace shows nothing else on the workload's channels."""
    check(bt["lost"]["map_full"] == 0 and bt["lost"]["events"] == 0,
          "boundtrace lost data: %r" % bt["lost"])
    channels = {b["channel"] for p in ipc["processes"] for b in p["boundaries"]}
    for p in ipc["processes"]:
        proc, rows = bt_rows(bt, p["pid"])
        eq(proc["comm"], p["comm"], "comm of pid %d" % p["pid"])
        want_keys = set()
        for b in p["boundaries"]:
            key = (b["kind"], b["channel"], b["direction"])
            want_keys.add(key)
            check(key in rows, "pid %d (%s): no row %r; boundtrace has %r"
                  % (p["pid"], p["comm"], key, sorted(rows)))
            for f in fields + (("woken",) if b["kind"] == "futex" and b["direction"] == "wake" else ()):
                eq(rows[key][f], b.get(f, 0), "pid %d %s %s %s %s" % ((p["pid"],) + key + (f,)))
        extra = [k for k in rows if k[1] in channels and k not in want_keys]
        check(not extra, "pid %d: unexpected rows on the workload's channels: %r" % (p["pid"], extra))


def start_announced(args, name):
    """Start a workload that prints `ready PID` on stderr before its delay;
    stderr goes to a file (a pipe to us would make us one of its peers).
    Its delay is a start gate (tools/workload.h): it ends when the file
    w.go exists (run_gated), or after --delay-ms at the latest."""
    err = tmpfile(name + ".err")
    go = tmpfile(name + ".go")
    with open(err, "w") as ef:
        w = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef,
                             env=dict(os.environ, WL_GO_FILE=go))
    w.go = go
    for _ in range(200):
        with open(err) as f:
            text = f.read()
        if "ready" in text:
            return w
        time.sleep(0.01)
    w.kill()
    raise Failure("%s did not announce itself: %r" % (name, text))


def start_gated(args, w, timeout=60):
    """Start boundtrace ARGS (-v added) while workload w waits at its start
    gate, and open the gate once boundtrace says it is tracing (loaded,
    attached, its first discovery done): a slow attach on a loaded machine
    costs time, not the workload's first crossings. Its stderr is in the
    file t.errfile."""
    t_err = tmpfile("bt-gated.err")
    with open(t_err, "w") as ef:
        t = subprocess.Popen([args[0], "-v", *args[1:]], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=ef, text=True)
    t.errfile = t_err
    wait_tracing(t, timeout)
    open(w.go, "w").close()
    return t


def wait_tracing(t, timeout=60):
    """Wait until boundtrace t (started with -v, its stderr in the file
    t.errfile) says it is tracing, exits, or timeout seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline and t.poll() is None:
        with open(t.errfile) as f:
            if "boundtrace: tracing;" in f.read():
                return
        time.sleep(0.01)


def run_gated(args, w, timeout=60):
    """run() for boundtrace while w waits at its start gate (start_gated)."""
    t = start_gated(args, w, timeout)
    try:
        out, _ = t.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        t.kill()
        t.wait()
        raise
    with open(t.errfile) as f:
        return subprocess.CompletedProcess(t.args, t.returncode, out, f.read())


def trace_announced(args, name, *bt_args):
    """Start a workload that announces itself (its last two arguments must be
    `--out FILE`), attach `boundtrace -f json BT_ARGS -p PID` during its delay
    and let it go once attached; return (pid, boundtrace JSON, workload JSON)."""
    out, bt_out = args[-1], tmpfile("bt.json")
    w = start_announced(args, name)
    r = run_gated([BT, "-f", "json", "-o", bt_out, *bt_args, "-p", str(w.pid)], w)
    eq(w.wait(timeout=60), 0, "%s exit status" % name)
    eq(r.returncode, 0, "boundtrace exit status (stderr: %s)" % r.stderr)
    with open(bt_out) as f:
        bt = json.load(f)
    with open(out) as f:
        report = json.load(f)
    return w.pid, bt, report


def ipc_row(ipc, role, kind, direction):
    rows = [b for p in ipc["processes"] if p["role"] == role for b in p["boundaries"]
            if b["kind"] == kind and b["direction"] == direction]
    check(len(rows) == 1, "workload report: %d %s %s %s rows" % (len(rows), role, kind, direction))
    return rows[0]


# ---- every kind and syscall family, exact -------------------------------------------

@test
def pipe_rw_exact():
    bt, ipc = traced("pipe", "--count", "10000", "--size", "100")
    assert_matches(bt, ipc)
    send = ipc_row(ipc, "client", "pipe", "send")
    eq((send["calls"], send["bytes"]), (10000, 1000000), "workload's own pipe sends")
    recv = ipc_row(ipc, "server", "pipe", "recv")
    eq(recv["bytes"], 1000000, "workload's pipe recv bytes")


# One descriptor number, three channels in turn: dup2 puts a second pipe
# over it, then it is closed and a socketpair takes the number again.
# Prints the channels' inodes; every call is one syscall of os.read/write.
FD_REUSE_SCRIPT = r"""
import json, os, socket, sys
r1, w1 = os.pipe()
r2, w2 = os.pipe()
ino = {"p1": os.fstat(w1).st_ino, "p2": os.fstat(w2).st_ino}
for _ in range(3):
    os.write(w1, b"a")
os.dup2(w2, w1)
for _ in range(5):
    os.write(w1, b"bb")
os.close(w1)
os.close(w2)
a, b = socket.socketpair()
assert a.fileno() == w1, (a.fileno(), w1)
ino["s"] = os.fstat(a.fileno()).st_ino
for _ in range(7):
    os.write(a.fileno(), b"ccc")
got = (os.read(r1, 100), os.read(r2, 100), os.read(b.fileno(), 100))
assert got == (b"a" * 3, b"bb" * 5, b"ccc" * 7), got
with open(sys.argv[1], "w") as f:
    json.dump(ino, f)
"""


def load_json(path):
    with open(path) as f:
        return json.load(f)


def named_rows(bt, name_of, mode):
    """(name, direction) -> (calls, bytes) of boundtrace's rows that
    name_of(row) names, each name and direction once."""
    got = {}
    for p in bt["processes"]:
        for b in p["boundaries"]:
            name = name_of(b)
            if name:
                check((name, b["direction"]) not in got, "%s: two %s rows" % (mode, name))
                got[(name, b["direction"])] = (b["calls"], b["bytes"])
    return got


@test
def fd_number_reused_for_other_channels_exact():
    script, ino_out = tmpfile("fdreuse.py"), tmpfile("fdreuse.json")
    with open(script, "w") as f:
        f.write(FD_REUSE_SCRIPT)
    for mode in ([], ["--no-chains"]):
        bt_out = tmpfile("bt%s.json" % "".join(mode))
        r = run([BT, "-f", "json", "-o", bt_out, *mode, "-c",
                 "%s %s %s" % (sys.executable, script, ino_out)])
        eq(r.returncode, 0, "boundtrace %s exit status (stderr: %s)" % (mode, r.stderr))
        bt, ino = load_json(bt_out), load_json(ino_out)
        chans = {"pipe:[%d]" % ino["p1"]: "p1", "pipe:[%d]" % ino["p2"]: "p2"}

        def name_of(b):
            if b["kind"] == "unix_stream" and b["channel"].startswith("unix:[%d->" % ino["s"]):
                return "s"
            if b["kind"] == "unix_stream" and b["channel"].endswith("->%d]" % ino["s"]):
                return "s-peer"
            return chans.get(b["channel"])
        got = named_rows(bt, name_of, mode)
        eq(got, {("p1", "send"): (3, 3), ("p1", "recv"): (1, 3),
                 ("p2", "send"): (5, 10), ("p2", "recv"): (1, 10),
                 ("s", "send"): (7, 21), ("s-peer", "recv"): (1, 21)},
           "%s: (calls, bytes) per channel and direction" % mode)


# The kernel holds a thread's crossings on the row it crossed last in a
# direction in the thread's own memory (the row cache) and adds them to the
# shared map later: every way that hold can end, exact and in the right row.
ROW_CACHE_SCRIPT = r"""
import json, os, sys, threading, time
out, done = sys.argv[1], sys.argv[2]
sys.stderr.write("ready %d\n" % os.getpid())
sys.stderr.flush()
while not os.path.exists(os.environ["WL_GO_FILE"]):
    time.sleep(0.01)
r1, w1 = os.pipe()
r2, w2 = os.pipe()
ino = {"p1": os.fstat(w1).st_ino, "p2": os.fstat(w2).st_ino}
def burst(fd, n, data):
    for _ in range(n):
        os.write(fd, data)
# Two rows in one direction, in turn: each call ends the other's hold.
for _ in range(150):
    os.write(w1, b"a")
    os.write(w2, b"bb")
# One row for longer than a hold keeps (127 calls).
burst(w1, 300, b"a")
# Threads that cross and exit at once: their holds outlive them.
ts = [threading.Thread(target=burst, args=(w1 if i % 2 else w2, 40 + i, b"ccc"))
      for i in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
# dup2 over the descriptor the thread just crossed on: the next calls are p2's.
x = os.dup(w1)
burst(x, 50, b"d")
os.dup2(w2, x)
burst(x, 70, b"e")
# A thread that crosses, then waits to the trace's end without crossing again.
crossed, never = threading.Event(), threading.Event()
def idle():
    burst(w2, 90, b"f")
    crossed.set()
    never.wait()
threading.Thread(target=idle, daemon=True).start()
crossed.wait()
got = (len(os.read(r1, 1 << 16)), len(os.read(r2, 1 << 16)))
assert got == (1028, 976), got
with open(out, "w") as f:
    json.dump(ino, f)
open(done, "w").close()
time.sleep(600)
"""


@test
def row_cache_holds_end_exact():
    """A thread's crossings held in its own memory (the row cache) reach
    the report exactly and in their rows: rows in turn, one row past a
    hold's size, threads that exit right after crossing, dup2 over the
    descriptor just crossed, and a live thread that never crosses again
    (read at the final collect)."""
    script = tmpfile("rowcache.py")
    with open(script, "w") as f:
        f.write(ROW_CACHE_SCRIPT)
    for mode in ([], ["--no-chains"]):
        ino_out, done = tmpfile("rowcache.json"), tmpfile("rowcache.done")
        for path in (ino_out, done):
            if os.path.exists(path):
                os.unlink(path)
        w = start_announced([sys.executable, script, ino_out, done], "rowcache")
        bt_out = tmpfile("bt-rowcache.json")
        try:
            t = start_gated([BT, "-f", "json", "-o", bt_out, *mode, "-p", str(w.pid)], w)
            deadline = time.time() + 60
            while not os.path.exists(done) and w.poll() is None and time.time() < deadline:
                time.sleep(0.01)
            check(os.path.exists(done), "%s: the workload did not finish its crossings" % mode)
            t.send_signal(2)
            t.communicate(timeout=60)
            eq(t.returncode, 0, "boundtrace %s exit status" % mode)
        finally:
            w.kill()
            w.wait()
        bt, ino = load_json(bt_out), load_json(ino_out)
        chans = {"pipe:[%d]" % ino["p1"]: "p1", "pipe:[%d]" % ino["p2"]: "p2"}
        got = named_rows(bt, lambda b: chans.get(b["channel"]), mode)
        eq(got, {("p1", "send"): (676, 1028), ("p1", "recv"): (1, 1028),
                 ("p2", "send"): (482, 976), ("p2", "recv"): (1, 976)},
           "%s: (calls, bytes) per pipe and direction" % mode)
        eq({k: v for k, v in bt["lost"].items() if v}, {}, "%s: lost" % mode)


@test
def no_chains_rows_exact():
    """--no-chains (no record rings are opened: a crash there once went
    unseen, no test ran this mode): a pipe and a unix ping-pong exact, no
    chains in the report, nothing lost."""
    for mode in ("pipe", "unix-stream"):
        bt, ipc = traced(mode, "--count", "3000", "--size", "10", "--reply-size", "3",
                         bt_args=("--no-chains",))
        assert_matches(bt, ipc)
        eq("chains" in bt, False, "%s: chains in a --no-chains report" % mode)
        eq({k: v for k, v in bt["lost"].items() if v}, {}, "%s: lost" % mode)


def blocked_fields(bt):
    """The JSON's blocked-time fields, on rows and edges."""
    rows = [b for p in bt["processes"] for b in p["boundaries"]] + bt["edges"]
    return sorted({k for r in rows for k in r if "blocked" in k or k == "wakeups"})


@test
def sockets_only_rows_exact():
    """--sockets-only (no syscall hook: calls counted at the socket layer):
    unix stream ping-pongs over a socketpair and over a bound path with
    sendmsg/recvmsg, TCP over IPv4 and IPv6, connected UDP: every call and
    byte exact as the workload counted them, every exchange of each end
    counted, nothing lost; no blocked time or wakeups in the JSON (not
    measured is absent, not 0); a pipe ping-pong's pipes not traced. An
    unconnected UDP socket names no remote at the socket layer: one row a
    socket and direction, its calls and bytes all the workload's."""
    cases = (("unix-stream", "--count", "3000", "--size", "10", "--reply-size", "3"),
             ("unix-stream", "--count", "1000", "--size", "100", "--reply-size", "7",
              "--api", "msg", "--path", tmpfile("bt-so.sock")),
             ("tcp", "--count", "2000", "--size", "100", "--reply-size", "20"),
             ("tcp", "--count", "500", "--size", "300", "--reply-size", "4", "--api", "msg",
              "--ipv6"),
             ("udp", "--count", "1000", "--size", "100", "--api", "send"))
    for args in cases:
        what = " ".join(args[:1] + args[-2:])
        bt, ipc = traced(*args, bt_args=("--sockets-only",))
        if args[0] == "udp":
            for p in ipc["processes"]:
                _, rows = bt_rows(bt, p["pid"])
                for d in ("send", "recv"):
                    got = [(r["calls"], r["bytes"], r["errors"]) for k, r in rows.items()
                           if k[2] == d]
                    want = [sum(b.get(f, 0) for b in p["boundaries"] if b["direction"] == d)
                            for f in ("calls", "bytes", "errors")]
                    eq(got, [tuple(want)], "udp: pid %d %s rows" % (p["pid"], d))
        else:
            assert_matches(bt, ipc)
        eq(bt.get("sockets_only"), True, "%s: sockets_only in the JSON" % what)
        eq({k: v for k, v in bt["lost"].items() if v}, {}, "%s: lost" % what)
        eq(blocked_fields(bt), [], "%s: fields of what was not measured" % what)
        if args[0] == "udp":
            continue
        for p in ipc["processes"]:
            _, rows = bt_rows(bt, p["pid"])
            eq(sum(r.get("exchanges", {}).get("count", 0) for r in rows.values()),
               int(args[2]), "%s: exchanges of pid %d" % (what, p["pid"]))
    bt, ipc = traced("pipe", "--count", "500", "--size", "10", bt_args=("--sockets-only",))
    eq([b["channel"] for p in bt["processes"] for b in p["boundaries"]], [],
       "rows of a pipe ping-pong under --sockets-only")


@test
def sockets_only_event_loop_exchanges_exact():
    """--sockets-only on tierdemo's epoll tiers (non-blocking reads, three
    clients), traced from the front end with --peers 2: each tier's
    exchanges exactly the requests and calls it made, with each end's
    role, as with the syscall hooks (exchanges_exact_in_every_mode)."""
    _, bt, tier = trace_announced([TIERDEMO, "--mode", "epoll", "--requests", "40",
                                   "--calls", "2", "--work-us", "50", "--clients", "3",
                                   "--delay-ms", GATE_MS, "--out", tmpfile("tier.json")],
                                  "tierdemo", "--peers", "2", "--sockets-only")
    eq(tier["requests"], 120, "requests made")
    check_tier_exchanges(bt, tier, 3, "--sockets-only")
    eq({k: v for k, v in bt["lost"].items() if v}, {}, "lost")


@test
def sockets_only_recording_and_refusals():
    """A --sockets-only recording reports as the live trace did (its mode
    kept: the table says what was not measured, the JSON has no blocked
    time); what the mode cannot do is refused with a clear error."""
    rec = tmpfile("so.rec")
    out = tmpfile("so-live.json")
    cmd = " ".join([IPCLOAD, "tcp", "--count", "300", "--size", "9", "--reply-size", "2",
                    "--out", tmpfile("ipc.json")])
    r = run([BT, "--sockets-only", "-f", "json", "-o", out, "--record", rec, "-c", cmd])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    live = load_json(out)
    r = run([BT, "report", rec, "-f", "json"])
    eq(r.returncode, 0, "report exit status (%s)" % r.stderr)
    again = json.loads(r.stdout)
    eq(again.get("sockets_only"), True, "sockets_only from the recording")
    eq(blocked_fields(again), [], "blocked fields from the recording")
    eq([(e["from"], e["to"], e["calls"], e["bytes"]) for e in again["edges"]],
       [(e["from"], e["to"], e["calls"], e["bytes"]) for e in live["edges"]], "edges")
    r = run([BT, "report", rec])
    check("sockets only: socket calls as the socket layer saw them" in r.stdout,
          "the table says what was not measured: %s" % r.stdout[:400])
    for extra in (["--chains"], ["--stacks"], ["--min-block", "5"], ["-f", "chains"],
                  ["-f", "svg"]):
        r = run([BT, "--sockets-only", *extra, "-d", "0.1", "-a"])
        eq(r.returncode, 2, "--sockets-only %s exit status" % " ".join(extra))
        check("does not combine with --sockets-only" in r.stderr,
              "--sockets-only %s: %s" % (" ".join(extra), r.stderr))


@test
def pipe_vec_pingpong():
    bt, ipc = traced("pipe", "--count", "2000", "--size", "64", "--reply-size", "8", "--api", "vec")
    assert_matches(bt, ipc)


@test
def pipe_splice_vmsplice_tee():
    bt, ipc = traced("pipe", "--count", "500", "--size", "256", "--api", "splice")
    assert_matches(bt, ipc)


@test
def unix_stream_socketpair():
    bt, ipc = traced("unix-stream", "--count", "5000", "--size", "100", "--reply-size", "10")
    assert_matches(bt, ipc)


@test
def unix_stream_path_msg():
    path = tmpfile("bt-it.sock")
    bt, ipc = traced("unix-stream", "--count", "2000", "--size", "100", "--api", "msg",
                     "--path", path)
    assert_matches(bt, ipc)
    paths = {b.get("path") for p in bt["processes"] for b in p["boundaries"]
             if b["kind"] == "unix_stream"}
    eq(paths, {path}, "bound path shown on both ends")


@test
def unix_stream_sendfile():
    bt, ipc = traced("unix-stream", "--count", "300", "--size", "1000", "--api", "sendfile")
    assert_matches(bt, ipc)


@test
def unix_dgram_send():
    bt, ipc = traced("unix-dgram", "--count", "3000", "--size", "200", "--api", "send")
    assert_matches(bt, ipc)


@test
def unix_dgram_mmsg():
    bt, ipc = traced("unix-dgram", "--count", "1000", "--size", "50", "--api", "mmsg",
                     "--batch", "8")
    assert_matches(bt, ipc)


@test
def tcp_rw_pingpong():
    bt, ipc = traced("tcp", "--count", "3000", "--size", "100", "--reply-size", "20")
    assert_matches(bt, ipc)


@test
def tcp_msg_ipv6():
    bt, ipc = traced("tcp", "--count", "1000", "--size", "300", "--reply-size", "4",
                     "--api", "msg", "--ipv6")
    assert_matches(bt, ipc)


@test
def udp_send_pingpong():
    bt, ipc = traced("udp", "--count", "2000", "--size", "100", "--api", "send")
    assert_matches(bt, ipc)


@test
def udp_mmsg():
    bt, ipc = traced("udp", "--count", "800", "--size", "64", "--api", "mmsg", "--batch", "4")
    assert_matches(bt, ipc)


@test
def futex_pingpong():
    bt, ipc = traced("futex", "--count", "5000")
    assert_matches(bt, ipc, fields=("calls", "errors"))


# ---- edge cases the core must count right --------------------------------------------

@test
def short_reads():
    bt, ipc = traced("pipe", "--count", "1000", "--size", "100", "--read-size", "4096")
    assert_matches(bt, ipc)
    recv = ipc_row(ipc, "server", "pipe", "recv")
    eq(recv["bytes"], 100000, "bytes of short reads")


@test
def eagain_counted_as_error():
    bt, ipc = traced("unix-stream", "--count", "100", "--size", "10", "--eagain", "3")
    assert_matches(bt, ipc)
    recv = ipc_row(ipc, "server", "unix_stream", "recv")
    eq(recv["errors"], 3, "workload's EAGAIN count")


@test
def pid_target_exits_mid_trace():
    """-p on a running process that exits while traced: boundtrace stops by
    itself and reports it, exited, with exact figures."""
    pid, bt, ipc = trace_announced([IPCLOAD, "pipe", "--count", "2000", "--size", "50",
                                    "--delay-ms", GATE_MS, "--out", tmpfile("ipc.json")],
                                   "ipcload", "--follow")
    assert_matches(bt, ipc)
    proc, _ = bt_rows(bt, pid)
    eq(proc["exited"], True, "target marked exited")


@test
def reused_thread_stacks_keep_their_process():
    """Short-lived threads of a traced process and of another one take
    turns on CPU 0, so the kernel hands a dead thread's kernel stack to the
    other process's next thread. The syscall hooks know a task by its stack
    (their tgid cache) and forget it at the task's exit: exactly the traced
    process's T * K one-byte writes, in its one pipe row, and nothing of
    the other process."""
    threads, writes = 300, 4
    out = tmpfile("churn.json")
    pid, bt, want = trace_announced([THREADCHURN, "--threads", str(threads), "--writes",
                                     str(writes), "--delay-ms", GATE_MS, "--out", out],
                                    "threadchurn")
    n = threads * writes
    eq((want["traced"]["pid"], want["traced"]["writes"], want["other"]["writes"]), (pid, n, n),
       "threadchurn's own report")
    eq(bt["lost"], {k: 0 for k in bt["lost"]}, "lost")
    _, rows = bt_rows(bt, pid)
    key = ("pipe", "pipe:[%d]" % want["traced"]["pipe"], "send")
    eq(sorted(rows), [key], "rows of churn-traced")
    eq((rows[key]["calls"], rows[key]["bytes"], rows[key]["errors"]), (n, n, 0),
       "churn-traced's pipe writes")
    other = [p for p in bt["processes"] if p["pid"] == want["other"]["pid"]]
    eq(other, [], "churn-other in the report")


# A thread that is not the leader execs ipcload: the kernel makes it the
# leader, with the leader's pid as its tid. Before that it made syscalls of
# its own (a write, and the thread's start), so the hooks' id cache, which
# knows a task by its kernel stack, held its own tid.
THREAD_EXEC_SCRIPT = r"""
import os, sys, threading
def run():
    os.write(2, b"")
    os.execv(sys.argv[1], sys.argv[1:])
threading.Thread(target=run).start()
threading.Event().wait()
"""


@test
def exec_from_a_thread_takes_the_leaders_tid():
    """A two-thread process whose second thread execs ipcload (a 1-byte
    pipe ping-pong, 300 rounds): the kernel gives that thread the
    leader's tid, and the hooks' id cache must forget the thread's old tid
    at exec, or the thread's calls are looked for under the old tid. Rows
    exact, the client's response row with its 300 exchanges, one chain of
    exchanges client -> server, its client thread the process's pid."""
    bt_out, ipc_out = tmpfile("bt.json"), tmpfile("ipc.json")
    cmd = [sys.executable, "-c", THREAD_EXEC_SCRIPT, IPCLOAD, "pipe", "--size", "1",
           "--reply-size", "1", "--count", "300", "--out", ipc_out]
    r = run([BT, "-f", "json", "-o", bt_out, "-c", *cmd])
    eq(r.returncode, 0, "boundtrace exit status (stderr: %s)" % r.stderr)
    bt, ipc = load_json(bt_out), load_json(ipc_out)
    assert_matches(bt, ipc)
    pids = {p["role"]: p["pid"] for p in ipc["processes"]}
    # The exchange step marks the thread's call (by its task's tid), which
    # sys_exit finds by the cached tid: a stale one leaves the row without.
    _, rows = bt_rows(bt, pids["client"])
    resp = rows[("pipe", ipc_row(ipc, "client", "pipe", "recv")["channel"], "recv")]
    eq((resp.get("role"), resp.get("exchanges", {}).get("count")), ("client", 300),
       "the client's response pipe: its role and exchanges")
    hops = [(h["from"]["pid"], h["from"]["tid"], h["to"]["pid"], h["to"]["tid"], h["calls"])
            for c in bt["chains"] if c["source"] == "exchanges" for h in c["hops"]]
    eq(hops, [(pids["client"], pids["client"], pids["server"], pids["server"], 300)],
       "the chain's hop: client thread is the exec'd process's pid")


@test
def peers_three_processes_from_one_pid():
    """-p A --peers 2 alone: B (pipe) and C (TCP, and unix from B) are found
    and traced before the traffic, and every edge is exact."""
    _, bt, mesh = trace_announced([IPCMESH, "--count", "500", "--size", "64", "--reply-size",
                                   "16", "--delay-ms", GATE_MS, "--out", tmpfile("mesh.json")],
                                  "ipcmesh", "--peers", "2")
    assert_matches(bt, mesh, fields=("calls", "bytes", "errors"))
    names = {p["role"]: (p["pid"], p["comm"]) for p in mesh["processes"]}
    eq(sorted((p["pid"], p["comm"]) for p in bt["processes"]), sorted(names.values()),
       "processes traced: A named, B and C found as peers")
    # One edge per service; each of the mesh's channels is one connection of one.
    edges = {}
    for e in bt["edges"]:
        eq(len(e["connections"]), e["connections_seen"], "connections listed")
        for c in e["connections"]:
            edges[(e["from"], e["to"], e["kind"], c["channel"])] = e
    for want in mesh["edges"]:
        key = (want["from"], want["to"], want["kind"], want["channel"])
        check(key in edges, "edge %r missing; boundtrace has %r" % (key, sorted(edges)))
        got = edges[key]
        eq(got["connections_seen"], 1, "connections of edge %r" % (key,))
        eq(got["unseen_bytes"], 0, "both ends of %r agree" % (key,))
        eq(got["calls"], want["calls"], "calls of edge %r" % (key,))
        if want["kind"] == "futex":
            eq(got["wakeups"], want["wakes"], "wakeups of futex edge %r" % (key,))
        else:
            eq(got["bytes"], want["bytes"], "bytes of edge %r" % (key,))
    eq(len(bt["edges"]), len(mesh["edges"]), "number of edges")
    a, b = names["a"][0], names["b"][0]
    _, rows_b = bt_rows(bt, b)
    pipe_recv = [v for k, v in rows_b.items() if k[0] == "pipe" and k[2] == "recv"]
    eq([x["peer"] for x in pipe_recv], [{"pid": a, "comm": "mesh-a"}], "peer of B's pipe")


@test
def peer_named_without_following():
    """--peers 0: only A is traced, yet the far ends are named from /proc."""
    _, bt, mesh = trace_announced([IPCMESH, "--count", "50", "--delay-ms", GATE_MS, "--out",
                                   tmpfile("mesh.json")], "ipcmesh", "--peers", "0")
    names = {p["role"]: p["pid"] for p in mesh["processes"]}
    eq([p["pid"] for p in bt["processes"] if p["boundaries"]], [names["a"]], "only A traced")
    _, rows = bt_rows(bt, names["a"])
    peers = sorted((k[0], k[2], v["peer"].get("pid")) for k, v in rows.items())
    eq(peers, [("pipe", "send", names["b"]), ("tcp", "recv", names["c"]),
               ("tcp", "send", names["c"])], "A's far ends by pid")


def traced_tierdemo(mode, *args, requests=200, min_block_us=10, one_cpu=False):
    """tools/tierdemo traced from its first process alone (-p, --peers 2, --chains).
    A middle answering from cache answers within microseconds: the negative
    cases lower --min-block so that every wait that blocks at all counts.
    one_cpu: the workload on CPU 0 (two pool workers reading one job pipe
    on two CPUs are ordered by their exits, not their copies:
    docs/ARCHITECTURE.md, "The pipes' lock")."""
    pin = ["taskset", "-c", "0"] if one_cpu else []
    _, bt, tier = trace_announced([*pin, TIERDEMO, "--mode", mode, "--requests", str(requests),
                                   *args, "--delay-ms", GATE_MS, "--out", tmpfile("tier.json")],
                                  "tierdemo", "--min-block", str(min_block_us), "--peers", "2")
    eq(bt["lost"]["episodes"], 0, "episodes lost")
    return bt, tier


@test
def tierdemo_server_modes_rows_exact():
    """The epoll-loop and worker-pool middles (4 clients at once, EAGAIN
    reads, a job pipe inside the middle) traced from -p frontend alone:
    every row of all three processes exact."""
    for mode in ("epoll", "pool"):
        _, bt, tier = trace_announced([TIERDEMO, "--mode", mode, "--clients", "4",
                                       "--requests", "50", "--calls", "2", "--work-us", "50",
                                       "--delay-ms", GATE_MS, "--out", tmpfile("tier.json")],
                                      "tierdemo", "--peers", "2")
        eq(tier["requests"], 200, "%s: requests made" % mode)
        eq(tier["backend_calls"], 400, "%s: backend calls made" % mode)
        assert_matches(bt, tier)


def exchange_rows(bt, pid, kind, direction):
    _, rows = bt_rows(bt, pid)
    return [v for k, v in rows.items() if k[0] == kind and k[2] == direction]


def check_tier_exchanges(bt, tier, clients, what):
    """Each tier of a tierdemo run (its JSON: tier) has exactly the
    exchanges it made, with the role of each end, on its `clients`
    connections a tier."""
    pids = {p["role"]: p["pid"] for p in tier["processes"]}
    n, k = tier["requests"], tier["requests"] * tier["calls"]
    for role, kind, direction, want_role, want in (
            ("frontend", "unix_stream", "recv", "client", n),
            ("middle", "unix_stream", "send", "server", n),
            ("middle", "tcp", "recv", "client", k),
            ("backend", "tcp", "send", "server", k)):
        rows = exchange_rows(bt, pids[role], kind, direction)
        eq(sorted({r.get("role") for r in rows}), [want_role],
           "%s: %s %s %s role" % (what, role, kind, direction))
        eq(sum(r.get("exchanges", {}).get("count", 0) for r in rows), want,
           "%s: %s %s exchanges" % (what, role, kind))
        eq(len(rows), clients, "%s: %s %s connections" % (what, role, kind))


@test
def exchanges_exact_in_every_mode():
    """Requests and responses counted per connection in the kernel, whether a
    call blocked or not (epoll: non-blocking reads; pool: a worker answers):
    every tier's exchanges are exactly the requests and calls tierdemo made,
    with the role of each end."""
    for mode, clients in (("blocking", 1), ("epoll", 3), ("pool", 3)):
        _, bt, tier = trace_announced([TIERDEMO, "--mode", mode, "--requests", "40",
                                       "--calls", "2", "--work-us", "50",
                                       *(["--clients", str(clients)] if clients > 1 else []),
                                       "--delay-ms", GATE_MS, "--out", tmpfile("tier.json")],
                                      "tierdemo", "--peers", "2")
        eq(tier["requests"], 40 * clients, "%s: requests made" % mode)
        check_tier_exchanges(bt, tier, clients, mode)
        eq(bt["lost"]["exchanges"], 0, "%s: exchanges lost" % mode)


def chain_names(chain):
    return [chain["hops"][0]["from"]["comm"]] + [h["to"]["comm"] for h in chain["hops"]]


# The pool races, made to happen every round (docs/ARCHITECTURE.md,
# "Exchanges"). `pool`: a server whose worker thread answers while its
# reader thread takes the next request. The client reads only the first
# bytes of a 1 MiB response, sends its next request, and drains the rest
# only once the server's reader has taken that request (told through a
# fifo): the worker's send is still inside the kernel, not stepped, when
# the next request is read. `mirror`: a client whose writer thread sends
# while its reader thread takes the answers. The writer sends 16 bytes,
# waits for the reader to take the answer, then sends 1 MiB; the server
# answers after its first 16 bytes and drains the rest only once the
# reader has taken that answer (the fifo): the writer's send is not
# stepped when its answer is read. The other messages are 16 bytes. The
# server writes its address to ADDRFILE once listening; SIDE `pair` forks
# the client, `server` and `client` run one side each.
RACE_SCRIPT = r"""
import os, queue, socket, sys, threading, time
race, side, kind, addrfile, fifo, rounds = sys.argv[1:6] + [int(sys.argv[6])]
BIG, SMALL = 1 << 20, 16
fam = socket.AF_UNIX if kind == "unix" else socket.AF_INET

def recv_exact(s, n):
    while n:
        got = len(s.recv(min(n, 1 << 16)))
        if not got:
            sys.exit("end of file with %d bytes to come" % n)
        n -= got

def accepted(buf):
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.bind(addrfile + ".sock" if kind == "unix" else ("127.0.0.1", 0))
    ls.listen(1)
    with open(addrfile + ".tmp", "w") as f:
        f.write(ls.getsockname() if kind == "unix" else str(ls.getsockname()[1]))
    os.rename(addrfile + ".tmp", addrfile)
    c, _ = ls.accept()
    if kind == "tcp":	# small buffers: a 1 MiB transfer waits for its reader
        c.setsockopt(socket.SOL_SOCKET, buf, 65536)
    return c

def connected(buf):
    while not os.path.exists(addrfile):
        time.sleep(0.01)
    addr = open(addrfile).read()
    s = socket.socket(fam, socket.SOCK_STREAM)
    if kind == "tcp":
        s.setsockopt(socket.SOL_SOCKET, buf, 65536)
    s.connect(addr if kind == "unix" else ("127.0.0.1", int(addr)))
    return s

def pool_server():
    c = accepted(socket.SO_SNDBUF)
    tell = os.open(fifo, os.O_WRONLY)
    jobs = queue.Queue()
    def worker():
        for size in iter(jobs.get, None):
            c.sendall(b"r" * size)
    w = threading.Thread(target=worker)
    w.start()
    for i in range(rounds):
        recv_exact(c, SMALL)
        jobs.put(BIG)
        recv_exact(c, SMALL)
        os.write(tell, b"t")
        jobs.put(SMALL)
    jobs.put(None)
    w.join()
    c.recv(1)

def pool_client():
    s = connected(socket.SO_RCVBUF)
    told = os.open(fifo, os.O_RDONLY)
    for i in range(rounds):
        s.sendall(b"q" * SMALL)
        got = len(s.recv(4096))
        s.sendall(b"q" * SMALL)
        os.read(told, 1)
        recv_exact(s, BIG - got)
        recv_exact(s, SMALL)

def mirror_server():
    c = accepted(socket.SO_RCVBUF)
    told = os.open(fifo, os.O_RDONLY)
    for i in range(rounds):
        recv_exact(c, SMALL)
        c.sendall(b"a" * SMALL)
        recv_exact(c, SMALL)
        c.sendall(b"a" * SMALL)
        os.read(told, 1)
        recv_exact(c, BIG - SMALL)
    c.recv(1)

def mirror_client():
    s = connected(socket.SO_SNDBUF)
    tell = os.open(fifo, os.O_WRONLY)
    answered = threading.Semaphore(0)
    def reader():
        for i in range(rounds):
            recv_exact(s, SMALL)
            answered.release()
            recv_exact(s, SMALL)
            os.write(tell, b"t")
    r = threading.Thread(target=reader)
    r.start()
    for i in range(rounds):
        s.sendall(b"q" * SMALL)
        answered.acquire()
        s.sendall(b"q" * BIG)
    r.join()

server, client = (pool_server, pool_client) if race == "pool" else (mirror_server, mirror_client)
if side == "client":
    client()
elif side == "server":
    server()
else:
    pid = os.fork()
    if pid == 0:
        client()
        os._exit(0)
    server()
    _, st = os.waitpid(pid, 0)
    sys.exit(st != 0)
"""


RACE_ROUNDS = 20
# Each round moves 1 MiB and 16 bytes one way (RACE_BIG in all), 2 x 16 bytes the other.
RACE_BIG, RACE_SMALL = RACE_ROUNDS * ((1 << 20) + 16), RACE_ROUNDS * 32


def traced_race(race, kind, client_traced):
    """RACE_SCRIPT's RACE on KIND (unix or tcp) under boundtrace, both sides
    traced, or the server alone (--peers 0) with the client started apart;
    boundtrace's rows of that kind as (direction, role, bytes, exchanges),
    sorted by role and direction, with the case's name for messages."""
    what = "%s %s, client %s" % (race, kind, "traced" if client_traced else "not traced")
    addrfile, fifo, bt_out = tmpfile("race.addr"), tmpfile("race.fifo"), tmpfile("bt.json")
    for p in (addrfile + ".sock", addrfile + ".tmp"):
        if os.path.exists(p):
            os.unlink(p)
    os.mkfifo(fifo)
    script = [sys.executable, "-c", RACE_SCRIPT, race]
    side = [kind, addrfile, fifo, str(RACE_ROUNDS)]
    if client_traced:
        r = run([BT, "-f", "json", "-o", bt_out, "-c", *script, "pair", *side])
    else:
        client = subprocess.Popen([*script, "client", *side], stdin=subprocess.DEVNULL)
        r = run([BT, "-f", "json", "-o", bt_out, "--peers", "0", "-c", *script, "server", *side])
        eq(client.wait(timeout=60), 0, "%s: client exit status" % what)
    eq(r.returncode, 0, "%s: boundtrace exit status (stderr: %s)" % (what, r.stderr))
    bt = load_json(bt_out)
    eq(bt["lost"]["exchanges"], 0, "%s: exchanges lost" % what)
    kname = "unix_stream" if kind == "unix" else "tcp"
    rows = sorted(((b["direction"], b.get("role"), b["bytes"], b.get("exchanges", {}).get("count", 0))
                   for p in bt["processes"] for b in p["boundaries"] if b["kind"] == kname),
                  key=lambda x: (x[1] or "", x[0]))
    return what, rows


@test
def pool_response_stepped_after_the_next_request_is_its_own():
    """A worker's response whose send is stepped after the reader thread
    took the next request (every round, forced: RACE_SCRIPT pool) is its
    own exchange: the response is owed, counted at its late step, and the
    next request begins at that read. TCP knows it from the socket's send
    sequence; a unix socket from its far end's sk_data_ready stamp, which a
    client not traced (--peers 0) gets too. 20 rounds: 40 exchanges at the
    server, 40 at a traced client (its second request is sent after the
    first response began), the bytes exact."""
    for kind, client_traced in (("unix", True), ("unix", False), ("tcp", True)):
        what, rows = traced_race("pool", kind, client_traced)
        n = 2 * RACE_ROUNDS
        want = [("recv", "client", RACE_BIG, n), ("send", "client", RACE_SMALL, 0),
                ("recv", "server", RACE_SMALL, 0), ("send", "server", RACE_BIG, n)]
        eq(rows, want if client_traced else want[2:],
           "%s: rows (direction, role, bytes, exchanges)" % what)


@test
def client_request_stepped_after_its_answer_is_its_own():
    """The mirror of the pool race: a client's request whose send is
    stepped after its reader thread took the answer (every round, forced:
    RACE_SCRIPT mirror) is its own exchange, counted at that read with the
    send's start, and the late step begins nothing. TCP knows it from the
    socket's send sequence; a unix socket from its far end's sk_data_ready
    stamp. 20 rounds: 40 exchanges at each end, the bytes exact."""
    for kind in ("unix", "tcp"):
        what, rows = traced_race("mirror", kind, True)
        n = 2 * RACE_ROUNDS
        eq(rows, [("recv", "client", RACE_SMALL, n), ("send", "client", RACE_BIG, 0),
                  ("recv", "server", RACE_BIG, 0), ("send", "server", RACE_SMALL, n)],
           "%s: rows (direction, role, bytes, exchanges)" % what)


@test
def chain_three_tiers_from_the_frontend():
    """frontend ⇢ middle ⇢ backend, K=3 sequential calls to backend per request,
    traced from -p frontend alone; the backend hop holds the largest share."""
    bt, tier = traced_tierdemo("chain", "--calls", "3", "--work-us", "300")
    assert_matches(bt, tier)
    chains = [c for c in bt["chains"] if chain_names(c) == ["frontend", "middle", "backend"]]
    eq(len(chains), 1, "one frontend ⇢ middle ⇢ backend chain (chains: %r)"
       % [chain_names(c) for c in bt["chains"]])
    c = chains[0]
    eq(bt["chains"][0] is c, True, "it is the chain with the most blocked time")
    to_middle, to_backend = c["hops"]
    eq((to_middle["kind"], to_backend["kind"]), ("unix_stream", "tcp"), "hop kinds")
    eq((to_middle["calls_min"], to_middle["calls_max"]), (1, 1), "one call to middle per request")
    eq((to_backend["calls_min"], to_backend["calls_p50"], to_backend["calls_max"]), (3, 3, 3),
       "3 sequential calls to backend per request")
    # Exchanges, not blocking waits: every request and call, whether or not it blocked.
    eq((c["requests"], to_backend["calls"]), (tier["requests"], tier["backend_calls"]),
       "requests and backend calls (tierdemo's count)")
    # The backend spins 300 us per call, the middle next to nothing. (How
    # long the tiers waited for a CPU, the queueing, depends on the machine.)
    check(to_backend["self_ns"] > to_middle["self_ns"],
          "backend work is the larger tier's share: %r" % c["hops"])


@test
def chain_from_exchanges_in_every_mode():
    """frontend ⇢ middle ⇢ backend from -p frontend alone, built from the
    requests and responses on each connection: a blocking middle; an epoll
    loop interleaving 3 clients' requests on one thread on non-blocking
    sockets; a pool whose main thread hands each request through a pipe to
    one of 2 workers (the hand-off followed byte for byte through the
    pipe; the time a job waits for a worker is queueing, not the middle's
    work). Every request in the chain, its calls counted exactly (K at min,
    p50 and max, mean K); the backend's self time at least the work it
    measured; no other chain from exchanges. Pool: a worker that takes a
    job and leaves the next one in the pipe wakes another worker, which
    is not a hand-off from it: every job's reader is followed to the
    thread that wrote it."""
    k = 3
    for mode, extra in (("blocking", []), ("epoll", ["--clients", "3"]),
                        ("pool", ["--clients", "3", "--workers", "2"]),
                        ("pool", ["--clients", "1", "--workers", "1"])):
        bt, tier = traced_tierdemo(mode, "--calls", str(k), "--work-us", "200", *extra,
                                   requests=60, min_block_us=1,
                                   one_cpu="--workers" in extra and extra[-1] != "1")
        n = tier["requests"]
        chains = [c for c in bt["chains"] if chain_names(c) == ["frontend", "middle", "backend"]]
        eq(len(chains), 1, "%s: one frontend ⇢ middle ⇢ backend chain: %r"
           % (mode, [(chain_names(c), c["episodes"]) for c in bt["chains"]]))
        c = chains[0]
        eq(c["source"], "exchanges", "%s: chain built from exchanges" % mode)
        eq(c["requests"], n, "%s: requests in the chain; chains %r" % (
            mode, [(chain_names(x), x.get("requests"), [h["calls"] for h in x["hops"]])
                   for x in bt["chains"]]))
        to_middle, to_backend = c["hops"]
        eq((to_middle["calls_min"], to_middle["calls_max"]), (1, 1), "%s: calls to middle" % mode)
        eq((to_backend["calls_min"], to_backend["calls_p50"], to_backend["calls_max"],
            to_backend["calls"]), (k, k, k, k * n),
           "%s: calls to backend per request (min, p50, max, total)" % mode)
        eq(to_backend["calls_per_episode"], float(k), "%s: mean calls per request" % mode)
        # The backend's spin is inside its service time: its self time holds
        # at least the work it measured (a time comparison between tiers
        # would depend on the machine's load).
        check(to_backend["self_ns"] >= tier["work_ns"] > 0,
              "%s: backend self %d ns holds its work %d ns: %r"
              % (mode, to_backend["self_ns"], tier["work_ns"], c["hops"]))
        check(c["latency_p50_ns"] <= c["latency_p99_ns"], "%s: latency percentiles" % mode)
        others = [(chain_names(x), x["requests"]) for x in bt["chains"]
                  if x["source"] == "exchanges" and x is not c]
        eq(others, [], "%s: no other exchange chain" % mode)


@test
def chains_fold_across_windows():
    """Chains aggregated as the trace goes: with the chain window's horizon
    made 100 ms (BOUNDTRACE_CHAIN_HORIZON_MS, for tests), a trace of about
    1.5 s folds its records window after window (twice a second: 3 folds,
    the largest window about 16,600 of some 36,000 records) and frees them;
    every request is still in the one frontend ⇢ middle ⇢ backend chain
    with exactly K calls each (min, p50, max, total), in a blocking middle,
    an epoll loop and a pool whose hand-offs cross the windows; nothing
    counted late (every request takes about 1 ms. With a 20 ms horizon a
    loaded 2-core machine once stalled one past it: late, rightly, and the
    test failed on the machine's load, not on boundtrace)."""
    k = 3
    os.environ["BOUNDTRACE_CHAIN_HORIZON_MS"] = "100"
    try:
        for mode, extra in (("blocking", []), ("epoll", ["--clients", "3"]),
                            ("pool", ["--clients", "3", "--workers", "2"])):
            bt, tier = traced_tierdemo(mode, "--calls", str(k), "--work-us", "100", *extra,
                                       requests=1500, min_block_us=1, one_cpu=mode == "pool")
            n = tier["requests"]
            chains = [c for c in bt["chains"]
                      if chain_names(c) == ["frontend", "middle", "backend"]]
            eq(len(chains), 1, "%s: one frontend ⇢ middle ⇢ backend chain: %r"
               % (mode, [(chain_names(c), c["episodes"]) for c in bt["chains"]]))
            c = chains[0]
            eq(c["requests"], n, "%s: requests in the chain" % mode)
            to_backend = c["hops"][1]
            eq((to_backend["calls_min"], to_backend["calls_p50"], to_backend["calls_max"],
                to_backend["calls"]), (k, k, k, k * n),
               "%s: calls to backend per request (min, p50, max, total)" % mode)
            eq(bt["exchanges_late"], 0, "%s: exchanges the window could not nest" % mode)
            eq(bt["lost"]["exchanges"], 0, "%s: exchanges lost" % mode)
    finally:
        del os.environ["BOUNDTRACE_CHAIN_HORIZON_MS"]


@test
def pipe_pairs_chain_from_exchanges():
    """frontend ⇢ middle ⇢ backend where every hop is a pair of pipes (a
    request down one, the response up the other, as with a coprocess),
    traced from -p frontend alone: one chain from exchanges, every request
    in it, K calls to the backend per request exactly (min, p50, max, total),
    the backend's self time at least its work, and no other chain:
    the blocked reads of the conversation are its exchanges' (a client's on
    its response, a server's idle between requests)."""
    check_pipe_pairs_chain()


@test
def pipe_pairs_chain_with_states_in_the_hash():
    """The same chain with one pipe slot in the kernel (BOUNDTRACE_PIPE_SLOTS=1):
    a pipe's state is in its slot (an array) unless another live pipe holds
    it, then in the pipes hash; with one slot, at most one of the four pipes
    is in a slot and the others, requests and responses, are in the hash, so
    each step joins the two places. The figures must not change."""
    os.environ["BOUNDTRACE_PIPE_SLOTS"] = "1"
    try:
        check_pipe_pairs_chain()
    finally:
        del os.environ["BOUNDTRACE_PIPE_SLOTS"]


SLOT_LET_GO = """
import json, os, sys
n, out = int(sys.argv[1]), sys.argv[2]
hold_r, hold_w = os.pipe()
os.write(hold_w, b"h")                  # the first pipe with a state: the slot
w_r, w_w = os.pipe()
x_r, x_w = os.pipe()
pid = os.fork()
if pid == 0:
    for fd in (hold_w, w_w, x_r):
        os.close(fd)
    for _ in range(n):
        os.read(w_r, 1)
        os.write(x_w, b"r")
    os._exit(0)
os.close(w_r)
os.close(x_w)
os.close(hold_w)
for i in range(n):
    if i == n // 2:                     # its end of file lets the slot go
        os.read(hold_r, 1)
        os.read(hold_r, 1)
    os.write(w_w, b"q")
    os.read(x_r, 1)
os.waitpid(pid, 0)
with open(out, "w") as f:
    json.dump({"client": os.getpid(), "server": pid}, f)
"""


@test
def pipe_conversation_in_the_hash_while_a_slot_frees():
    """One pipe slot (BOUNDTRACE_PIPE_SLOTS=1), held by a pipe written
    first; a conversation on two more pipes, whose states are therefore
    in the hash; halfway through, the first pipe is read to its end of
    file, which lets the slot go, and the conversation goes on: every one
    of the N exchanges is counted at both ends, none lost. (That a pipe
    whose state is in the hash keeps it rather than taking the free slot
    is not seen here: a conversation's fresh state recovers at the next
    write; the one left in the hash would only fill it.)"""
    n = 40
    script, bt_out, out = tmpfile("slotgo.py"), tmpfile("bt.json"), tmpfile("slotgo.json")
    with open(script, "w") as f:
        f.write(SLOT_LET_GO)
    os.environ["BOUNDTRACE_PIPE_SLOTS"] = "1"
    try:
        r = run([BT, "-f", "json", "-o", bt_out, "--min-block", "1",
                 "-c", "python3 %s %d %s" % (script, n, out)], timeout=60)
    finally:
        del os.environ["BOUNDTRACE_PIPE_SLOTS"]
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    with open(bt_out) as f:
        bt = json.load(f)
    with open(out) as f:
        pids = json.load(f)
    eq(bt["lost"]["exchanges"], 0, "exchanges lost")
    for who, direction, role in (("client", "recv", "client"), ("server", "send", "server")):
        rows = [r for r in exchange_rows(bt, pids[who], "pipe", direction)
                if r.get("role") == role]
        eq([r.get("exchanges", {}).get("count", 0) for r in rows], [n],
           "%s's pipe %s rows' exchanges" % (who, direction))


def check_pipe_pairs_chain():
    n, k = 60, 3
    _, bt, tier = trace_announced([PIPETIERS, "--requests", str(n),
                                   "--calls", str(k), "--work-us", "200", "--delay-ms", GATE_MS,
                                   "--out", tmpfile("pipetiers.json")],
                                  "pipetiers", "--min-block", "1", "--peers", "2")
    eq((tier["requests"], tier["backend_calls"]), (n, n * k), "pipetiers: what it did")
    assert_matches(bt, tier)
    eq((bt["lost"]["exchanges"], bt["lost"]["episodes"]), (0, 0), "exchanges, episodes lost")
    eq([(chain_names(c), c["source"]) for c in bt["chains"]],
       [(["frontend", "middle", "backend"], "exchanges")], "the only chain")
    c = bt["chains"][0]
    eq(c["requests"], n, "requests in the chain")
    to_middle, to_backend = c["hops"]
    eq((to_middle["kind"], to_backend["kind"]), ("pipe", "pipe"), "hop kinds")
    eq((to_middle["calls_min"], to_middle["calls_max"], to_middle["calls"]), (1, 1, n),
       "one call to middle per request")
    eq((to_backend["calls_min"], to_backend["calls_p50"], to_backend["calls_max"],
        to_backend["calls"]), (k, k, k, k * n), "calls to backend per request (min, p50, max, total)")
    # Each backend call spins at least --work-us inside its service time.
    check(to_backend["self_ns"] >= n * k * 200 * 1000,
          "backend self %d ns holds its work: %r" % (to_backend["self_ns"], c["hops"]))
    pids = {p["comm"]: p["pid"] for p in tier["processes"]}
    # Each end's rows count its exchanges: a client's at its read of the
    # response, a server's at its write of it; a server's request reads
    # and a middle's writes to the backend carry none.
    for comm, direction, want in (
            ("frontend", "recv", [("client", n)]), ("frontend", "send", [(None, 0)]),
            ("middle", "recv", [("client", n * k), ("server", 0)]),
            ("middle", "send", [(None, 0), ("server", n)]),
            ("backend", "recv", [("server", 0)]), ("backend", "send", [("server", n * k)])):
        rows = exchange_rows(bt, pids[comm], "pipe", direction)
        eq(sorted(((r.get("role"), r.get("exchanges", {}).get("count", 0)) for r in rows),
                  key=repr), sorted(want, key=repr),
           "%s's pipe %s rows: (role, exchanges)" % (comm, direction))
    waits = {w["pid"]: w for w in bt["waits"]}
    eq((waits[pids["frontend"]]["idle"]["count"], waits[pids["backend"]]["dependency"]["count"]),
       (0, 0), "the frontend is never idle, the backend never waits on a response: %r"
       % [waits[pids["frontend"]], waits[pids["backend"]]])


@test
def chain_not_through_backend_when_middle_answers_from_cache():
    bt, tier = traced_tierdemo("cache", requests=100, min_block_us=1)
    assert_matches(bt, tier)
    names = [chain_names(c) for c in bt["chains"]]
    check(["frontend", "middle"] in names, "frontend ⇢ middle reported: %r" % names)
    check(not any("backend" in n for n in names if n[0] == "frontend"),
          "no frontend chain reaches backend: %r" % names)


@test
def chain_not_through_backend_when_called_after_the_answer():
    bt, tier = traced_tierdemo("async", "--calls", "2", requests=100, min_block_us=1)
    assert_matches(bt, tier)
    names = [chain_names(c) for c in bt["chains"]]
    check(["frontend", "middle"] in names, "frontend ⇢ middle reported: %r" % names)
    check(not any("backend" in n for n in names if n[0] == "frontend"),
          "no frontend chain reaches backend: %r" % names)


@test
def chain_through_a_futex_hop():
    """waiter ⇢ futex ⇢ holder (same process) ⇢ pipe ⇢ feeder."""
    bt, tier = traced_tierdemo("futex-chain", "--work-us", "300", requests=100)
    assert_matches(bt, tier, fields=("calls", "bytes", "errors"))
    chains = [c for c in bt["chains"]
              if [h["kind"] for h in c["hops"]] == ["futex", "pipe"]]
    check(chains, "a futex ⇢ pipe chain: %r" % [chain_names(c) for c in bt["chains"]])
    c = chains[0]
    eq(chain_names(c), ["lockholder", "lockholder", "feeder"], "chain processes")
    eq((c["hops"][1]["calls_p50"], c["hops"][1]["calls_max"]), (1, 1),
       "one pipe read per lock wait")
    check(c["episodes"] >= 90, "lock waits seen: %d of 100" % c["episodes"])


@test
def episode_chains_fold_across_windows():
    """Episode chains aggregated as the trace goes: with the chain window's
    horizon made 100 ms (BOUNDTRACE_CHAIN_HORIZON_MS, for tests), 2000 lock
    rounds of 300 µs (about 0.9 s: a fold mid-trace, its window about 2,700
    episodes, and the last; 600 rounds took 0.35 s, the last fold alone)
    are folded window after window and freed; every lock
    wait that slept (the waiter's own count) is the root of exactly one
    chain from the futex hop, the futex ⇢ pipe chain has one pipe read per
    wait (min, p50, max), and nothing is counted late or lost."""
    os.environ["BOUNDTRACE_CHAIN_HORIZON_MS"] = "100"
    try:
        bt, tier = traced_tierdemo("futex-chain", "--work-us", "300", requests=2000)
    finally:
        del os.environ["BOUNDTRACE_CHAIN_HORIZON_MS"]
    from_lock = [c for c in bt["chains"] if c["source"] == "episodes"
                 and c["hops"][0]["kind"] == "futex" and chain_names(c)[:2] == ["lockholder"] * 2]
    eq(sum(c["episodes"] for c in from_lock), tier["blocked_rounds"],
       "lock waits in the chains from the futex hop: %r"
       % [(chain_names(c), c["episodes"]) for c in from_lock])
    chains = [c for c in from_lock if [h["kind"] for h in c["hops"]] == ["futex", "pipe"]]
    eq(len(chains), 1, "one futex ⇢ pipe chain")
    h = chains[0]["hops"][1]
    eq((h["calls_min"], h["calls_p50"], h["calls_max"]), (1, 1, 1), "one pipe read per lock wait")
    eq((bt["episodes_late"], bt["exchanges_late"]), (0, 0), "records the window could not nest")


FUTEX_TIMEOUT_SCRIPT = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
word = ctypes.c_int(0)
class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
ts = timespec(0, 30 * 1000 * 1000)
n = int(sys.argv[1])
timedout = 0
for _ in range(n):
    # FUTEX_WAIT_PRIVATE on a word that stays 0: only the 30 ms timeout ends it.
    r = libc.syscall(202, ctypes.byref(word), 128, 0, ctypes.byref(ts), None, 0)
    timedout += r == -1 and ctypes.get_errno() == 110
sys.exit(0 if timedout == n else 1)
"""


@test
def futex_wait_that_times_out_is_a_timeout():
    """A timed futex wait nobody wakes ends by its timeout: the wait is
    `timeout`, with no waker (whatever the timer interrupt hit did not wake
    it), and no chain starts from it."""
    if os.uname().machine != "x86_64":
        raise Skip("the script uses the x86-64 futex syscall number")
    n = 5
    out = tmpfile("bt.json")
    r = run([BT, "-f", "json", "-o", out, "-c", sys.executable, "-c", FUTEX_TIMEOUT_SCRIPT,
             str(n)])
    eq(r.returncode, 0, "every futex wait timed out (stderr: %s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    procs = [p for p in bt["processes"] if p["boundaries"]]
    eq(len(procs), 1, "one traced process")
    pid = procs[0]["pid"]
    waits = [w for w in procs[0]["boundaries"] if w["kind"] == "futex" and w["direction"] == "wait"]
    eq([(w["calls"], w["errors"]) for w in waits], [(n, n)], "futex wait rows (calls, errors)")
    cls = {w["pid"]: w for w in bt["waits"]}
    eq(cls[pid]["timeout"]["count"], n, "timeout waits")
    eq(sum(cls[pid][k]["count"] for k in ("blocked", "dependency", "idle", "signal")), 0,
       "no other wait class: %r" % cls[pid])
    eq([c for c in bt["chains"] if c["hops"][0]["from"]["pid"] == pid], [], "no chain from it")


@test
def waits_that_time_out_are_timeouts():
    """poll, ppoll, select, pselect6 and the epoll waits returning 0, and a
    recv on a blocking socket that SO_RCVTIMEO ended, are `timeout` waits
    with no waker and no chain; so is each readiness wait interrupted by a
    signal that then times out, whether a handler made it EINTR and the
    program called again, or a stop and continue made the kernel restart
    it (one timeout each, no signal wait); receives that miss without waiting
    (MSG_DONTWAIT, O_NONBLOCK) are not timeouts even when they are
    episodes (--min-block 1 us makes most of them one)."""
    n = 4
    out, want_f = tmpfile("bt.json"), tmpfile("timeouts.json")
    r = run([BT, "--min-block", "1", "-f", "json", "-o", out, "-c",
             "%s --waits %d --wait-ms 5 --out %s" % (TIMEOUTLOAD, n, want_f)])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    with open(want_f) as f:
        want = json.load(f)
    eq(want["timeouts"]["rcvtimeo"], n, "timeoutload: recv timeouts")
    check(want["total_timeouts"] >= 5 * n, "timeoutload: timed-out calls %r" % want["timeouts"])
    readiness = [c for c, v in want["timeouts"].items() if v and c != "rcvtimeo"]
    for how in ("handler", "stop"):
        eq([want["interrupted"][how][c] for c in readiness], [n] * len(readiness),
           "timeoutload: waits interrupted (%s) that timed out" % how)
    procs = [p for p in bt["processes"] if p["boundaries"]]
    eq(len(procs), 1, "one traced process")
    pid = procs[0]["pid"]
    rows = sorted((b["channel"], b["calls"], b["errors"]) for b in procs[0]["boundaries"])
    eq(rows, sorted((b["channel"], b["calls"], b["errors"])
                    for b in want["processes"][0]["boundaries"]), "receive rows")
    cls = {w["pid"]: w for w in bt["waits"]}[pid]
    eq(cls["timeout"]["count"], want["total_timeouts"], "timeout waits: %r" % cls)
    eq([cls[k]["count"] for k in ("dependency", "idle", "signal")], [0, 0, 0],
       "no dependency, idle or signal wait: %r" % cls)
    check(cls["blocked"]["count"] <= 2 * n, "only the misses can be other waits: %r" % cls)
    eq([c for c in bt["chains"] if c["hops"][0]["from"]["pid"] == pid], [], "no chain from it")


def stackload_folded(weight):
    out, folded = tmpfile("stack.json"), tmpfile("stack.folded")
    r = run([BT, "-f", "folded", "--weight", weight, "-o", folded, "-c",
             STACKLOAD + " --fast 300 --slow 120 --size 100 --hold-ms 700 --out " + out])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    with open(out) as f:
        want = json.load(f)
    lines = {}
    with open(folded) as f:
        for line in f:
            stack, w = line.rstrip("\n").rsplit(" ", 1)
            lines[stack] = lines.get(stack, 0) + int(w)
    return want, lines


@test
def stacks_known_call_paths_exact():
    """Both call paths of handle_request -> send_reply -> write, each with its
    exact call count and bytes, ending in the pipe frame naming the reader."""
    for weight, field in (("calls", "calls"), ("bytes", "bytes")):
        want, lines = stackload_folded(weight)
        for site in ("fast", "slow"):
            path = "main;serve_%s;handle_request;send_reply;write;-;" % site
            hits = {s: w for s, w in lines.items()
                    if s.startswith("stack-server;") and path in s}
            eq(len(hits), 1, "one folded line for the %s path (%r)" % (site, sorted(lines)))
            stack, w = hits.popitem()
            eq(w, want[site][field], "%s of the %s path" % (weight, site))
            check(stack.endswith("\u2192stack-reader") and ";pipe:[" in stack,
                  "boundary frame names the pipe and the reader: %r" % stack)


@test
def stacks_svg_is_wellformed_and_names_frames():
    svg = tmpfile("flame.svg")
    r = run([BT, "-f", "svg", "-o", svg, "-c",
             STACKLOAD + " --fast 50 --slow 20 --hold-ms 700 --out /dev/null"])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    r = run(["python3", os.path.join(ROOT, "tests", "unit", "check_xml.py"), svg])
    eq(r.returncode, 0, "check_xml.py: %s%s" % (r.stdout, r.stderr))
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    for name in ("serve_fast", "serve_slow", "handle_request", "send_reply", "stack-server"):
        check(name in text, "frame %s in the SVG" % name)


FORMATS = ("table", "json", "dot", "chains", "folded", "svg")


@test
def recording_reports_exactly_what_the_live_trace_said():
    """For every format: one run writes the live output and a recording;
    `boundtrace report` of the recording prints the same bytes."""
    for i, fmt in enumerate(FORMATS):
        live, rec, off = tmpfile("live." + fmt), tmpfile("r.btrec"), tmpfile("off." + fmt)
        r = run([BT, "--chains", "--stacks", "-f", fmt, "-o", live, "--record", rec, "-c",
                 TIERDEMO + " --requests 50 --hold-ms 300 --out /dev/null"])
        eq(r.returncode, 0, "live %s run (%s)" % (fmt, r.stderr))
        # Options before and after the FILE; chains as the issue wrote it:
        # `report FILE -f chains -o OUT`.
        order = ([["-f", fmt, "-o", off, rec], [rec, "-f", fmt, "-o", off],
                  ["-f", fmt, rec, "-o", off]][(i + 1) % 3])
        r = run([BT, "report", *order])
        eq(r.returncode, 0, "report %s (%s)" % (" ".join(order), r.stderr))
        with open(live, "rb") as a, open(off, "rb") as b:
            eq(b.read() == a.read(), True, "report -f %s equals the live output" % fmt)
        if fmt == "chains":
            # The README's own line: `boundtrace report trace.btrec -f chains`.
            r = run([BT, "report", rec, "-f", "chains"])
            eq(r.returncode, 0, "report FILE -f chains (%s)" % r.stderr)
            with open(live) as a:
                eq(r.stdout, a.read(), "report FILE -f chains on stdout equals the live output")


# Round trips of the ping-pong below: 1.2M exchange records, past the 1M a
# recording held when each snapshot was the whole model (427,272 lost then).
# Paced, steady, below the rate an unpaced one runs traced here (about
# 60,000 round trips a second), so the record rings (about 26,000 records,
# drained every 20 ms) are not at the mercy of a burst while other work on
# the shared machine holds the recorder off the CPU (4,050 records lost
# once, unpaced, in a full test run; 684 once at 60,000 a second, when the
# rings held 200 ms of records: at 40,000 they hold 320 ms).
PINGPONG_ROUND_TRIPS = 600000
PINGPONG_RATE = 40000


def pingpong_chain(report, n, what, kind="pipe"):
    """The one chain of a 1-byte ping-pong: every round trip a request,
    one call on its one hop; nothing lost, nothing late."""
    eq({k: v for k, v in report["lost"].items() if v}, {}, "%s: lost" % what)
    eq((report["exchanges_late"], report["episodes_late"]), (0, 0), "%s: late" % what)
    got = [(c["source"], c["requests"], [(h["kind"], h["calls"], h["calls_max"])
                                         for h in c["hops"]]) for c in report["chains"]]
    eq(got, [("exchanges", n, [(kind, n, 1)])], "%s: the ping-pong's chain" % what)


ONEHOP_AGREE = re.compile(r"one-hop check: (\d+) exchanges counted in the kernel, "
                          r"(\d+) paired as they came, the chains agree with every record's")


def onehop_trace(cmd, mode, *bt_args):
    """boundtrace -f json BT_ARGS -c CMD with BOUNDTRACE_ONEHOP=MODE (None:
    unset); returns (stderr, report)."""
    out = tmpfile("onehop.json")
    env = dict(os.environ)
    env.pop("BOUNDTRACE_ONEHOP", None)
    if mode is not None:
        env["BOUNDTRACE_ONEHOP"] = mode
    r = run([BT, "-f", "json", "-o", out, *bt_args, "-c", cmd], timeout=300, env=env)
    eq(r.returncode, 0, "boundtrace -c '%s' (BOUNDTRACE_ONEHOP=%s): %s" % (cmd, mode, r.stderr))
    return r.stderr, load_json(out)


def onehop_agrees(err, what, paired=0):
    """The check mode's verdict: the exchanges counted in the kernel (those
    paired as their records came must be `paired`, None: any, returned
    too), or a failure."""
    m = ONEHOP_AGREE.search(err)
    check(m is not None, "%s: the one-hop check agrees: %r" % (what, err))
    if paired is None:
        return int(m.group(1)), int(m.group(2))
    eq(int(m.group(2)), paired, "%s: exchanges paired as they came" % what)
    return int(m.group(1))


def sockets_pingpong_sane(report, n, what):
    """A socket ping-pong's exchanges: nothing lost or late, every one
    paired but at most one (a socketpair has no address to say which end
    is the client: the records' own fold may take its first exchange
    apart, counted in the kernel or not; the chains are the check's to
    compare)."""
    eq({k: v for k, v in report["lost"].items() if v}, {}, "%s: lost" % what)
    eq(report["exchanges_late"], 0, "%s: late" % what)
    check(report["exchanges_paired"] in (n - 1, n), "%s: paired %d of %d"
          % (what, report["exchanges_paired"], n))


@test
def onehop_counts_agree_with_every_record():
    """Chain mode counts an exchange whose tree is one hop (a root client,
    a server that called nobody while it answered) in the kernel instead
    of sending its two records. BOUNDTRACE_ONEHOP=check sends them too,
    marked, and compares the chains of the records and counts with those
    of every record, field by field. A 1-byte pipe ping-pong (read/write
    and readv/writev): every exchange but the conversation's first is
    counted (its records tell which pipes are a conversation's), n - 1;
    the default mode sends two records and gives the same chain; with
    BOUNDTRACE_ONEHOP=0 every record is sent. A unix and a TCP ping-pong:
    by default every record is sent, marked, and userspace pairs a client's
    root with its server's leaf as they come (the check compares those
    pairs too); with BOUNDTRACE_ONEHOP=sockets (check-sockets) the kernel
    counts them instead: every exchange counted or sent as records, never
    both. Trees that are not one hop
    are never counted, and their chains agree too: pipetiers' middle calls
    the backend while it serves, tierdemo's pool hands each request to a
    worker, its epoll loop serves three clients on one thread."""
    n = 3000
    for api in ("rw", "vec"):
        cmd = "%s pipe --count %d --size 1 --reply-size 1 --api %s --out /dev/null" % (
            IPCLOAD, n, api)
        err, bt = onehop_trace(cmd, "check")
        what = "pipe ping-pong (%s), check" % api
        eq(onehop_agrees(err, what), n - 1, "%s: exchanges counted" % what)
        eq((bt["tracer"]["exchanges_counted"], bt["tracer"]["records"]["exchanges"]),
           (n - 1, 2 * n), "%s: counted, and every record sent too" % what)
        pingpong_chain(bt, n, what)
    cmd = "%s pipe --count %d --size 1 --reply-size 1 --out /dev/null" % (IPCLOAD, n)
    for mode, counted, records in ((None, n - 1, 2), ("0", 0, 2 * n)):
        err, bt = onehop_trace(cmd, mode)
        what = "pipe ping-pong, BOUNDTRACE_ONEHOP=%s" % mode
        eq("one-hop check" in err, False, "%s: no check made" % what)
        eq((bt["tracer"]["exchanges_counted"], bt["tracer"]["records"]["exchanges"]),
           (counted, records), "%s: exchanges counted, exchange records sent" % what)
        pingpong_chain(bt, n, what)
    # Sockets: userspace pairs the two records as they come (an end's
    # record may come after the other's next one: those fold in the
    # window); with =sockets the two ends meet in the kernel instead.
    # Every exchange is counted (paired) or folded, never both, never
    # neither.
    for kind in ("unix-stream", "tcp"):
        cmd = "%s %s --count %d --size 1 --reply-size 1 --out /dev/null" % (IPCLOAD, kind, n)
        err, bt = onehop_trace(cmd, "check")
        what = "%s ping-pong, check" % kind
        counted, paired = onehop_agrees(err, what, None)
        eq((counted, bt["tracer"]["exchanges_counted"], bt["tracer"]["exchanges_paired"],
            bt["tracer"]["records"]["exchanges"]), (0, 0, paired, 2 * n),
           "%s: none counted in the kernel, the pairs reported, every record sent" % what)
        check(paired >= n // 2, "%s: most paired (%d)" % (what, paired))
        sockets_pingpong_sane(bt, n, what)
        err, bt = onehop_trace(cmd, "check-sockets")
        what = "%s ping-pong, check-sockets" % kind
        counted = onehop_agrees(err, what)
        eq((bt["tracer"]["exchanges_counted"], bt["tracer"]["records"]["exchanges"]),
           (counted, 2 * n), "%s: counted, and every record sent too" % what)
        sockets_pingpong_sane(bt, n, what)
        err, bt = onehop_trace(cmd, "sockets")
        what = "%s ping-pong, BOUNDTRACE_ONEHOP=sockets" % kind
        me = bt["tracer"]
        eq(me["exchanges_counted"] + me["records"]["exchanges"] // 2, n,
           "%s: exchanges counted + records / 2 (%r)" % (what, me))
        check(me["exchanges_counted"] >= n // 2, "%s: most counted (%r)" % (what, me))
        sockets_pingpong_sane(bt, n, what)
        err, bt = onehop_trace(cmd, None)
        what = "%s ping-pong, default" % kind
        me = bt["tracer"]
        eq((me["exchanges_counted"], me["records"]["exchanges"]),
           (0, 2 * n), "%s: connections' exchanges all sent" % what)
        check(me["exchanges_paired"] >= n // 2, "%s: most paired (%r)" % (what, me))
        sockets_pingpong_sane(bt, n, what)
        err, bt = onehop_trace(cmd, "0")
        what = "%s ping-pong, BOUNDTRACE_ONEHOP=0" % kind
        eq((bt["tracer"]["exchanges_counted"], bt["tracer"]["exchanges_paired"],
            bt["tracer"]["records"]["exchanges"]), (0, 0, 2 * n),
           "%s: every record sent and folded" % what)
        sockets_pingpong_sane(bt, n, what)
    for name, cmd, hops in (
            ("pipetiers", "%s --requests 200 --calls 3 --work-us 50 --out /dev/null"
             % PIPETIERS, [200, 600]),
            ("tierdemo pool", "%s --mode pool --requests 60 --calls 3 --work-us 200 "
             "--clients 3 --workers 2 --out /dev/null" % TIERDEMO, [180, 540]),
            ("tierdemo epoll", "%s --mode epoll --requests 60 --calls 3 --work-us 200 "
             "--clients 3 --out /dev/null" % TIERDEMO, [180, 540])):
        err, bt = onehop_trace(cmd, "check", "--min-block", "1")
        eq(onehop_agrees(err, name), 0, "%s: exchanges counted" % name)
        got = [[h["calls"] for h in c["hops"]] for c in bt["chains"]
               if c["source"] == "exchanges"]
        eq(got, [hops], "%s: the chain's calls" % name)


@test
def recording_keeps_every_exchange():
    """`record -o` of a fast 1-byte pipe ping-pong: `report FILE` has
    every round trip as a request, nothing lost (each snapshot writes the
    records since the one before). With --record beside a live report: the
    recording's report is the live report, byte for byte."""
    n = PINGPONG_ROUND_TRIPS
    rec, wl = tmpfile("pingpong.btrec"), tmpfile("pingpong-wl.json")
    load = "%s pipe --count %d --size 1 --reply-size 1 --rate %d --out %s" % (
        IPCLOAD, n, PINGPONG_RATE, wl)
    r = run([BT, "record", "-o", rec, "-c", load], timeout=300)
    eq(r.returncode, 0, "boundtrace record (%s)" % r.stderr)
    with open(wl) as f:
        send = ipc_row(json.load(f), "client", "pipe", "send")
    eq(send["calls"], n, "the workload's own requests")
    r = run([BT, "report", rec, "-f", "json"], timeout=300)
    eq(r.returncode, 0, "report (%s)" % r.stderr)
    pingpong_chain(json.loads(r.stdout), n, "report of record -o")

    live, rec2, off = tmpfile("pingpong-live.json"), tmpfile("pingpong2.btrec"), \
        tmpfile("pingpong-off.json")
    n = PINGPONG_ROUND_TRIPS // 6
    load = "%s pipe --count %d --size 1 --reply-size 1 --rate %d --out /dev/null" % (
        IPCLOAD, n, PINGPONG_RATE)
    r = run([BT, "-f", "json", "-o", live, "--record", rec2, "-c", load], timeout=300)
    eq(r.returncode, 0, "live run with --record (%s)" % r.stderr)
    r = run([BT, "report", rec2, "-f", "json", "-o", off], timeout=300)
    eq(r.returncode, 0, "report of --record (%s)" % r.stderr)
    with open(live, "rb") as a, open(off, "rb") as b:
        text = a.read()
        eq(b.read() == text, True, "report FILE equals the live report")
    pingpong_chain(json.loads(text), n, "live report beside --record")


@test
def record_subcommand_and_bad_recordings():
    rec = tmpfile("sub.btrec")
    r = run([BT, "record", "-o", rec, "-c", IPCLOAD + " pipe --count 500 --out /dev/null"])
    eq(r.returncode, 0, "boundtrace record (%s)" % r.stderr)
    eq(os.stat(rec).st_mode & 0o777, 0o600, "recording mode")
    r = run([BT, "record", "-o", rec, "-c", "true"])
    check(r.returncode != 0 and "exists" in r.stderr, "no overwrite without --force: %r"
          % r.stderr)
    r = run([BT, "report", "-f", "json", rec])
    eq(r.returncode, 0, "report (%s)" % r.stderr)
    sends = [b for p in json.loads(r.stdout)["processes"] for b in p["boundaries"]
             if b["kind"] == "pipe" and b["direction"] == "send"]
    eq([b["calls"] for b in sends], [500], "pipe sends in the recording")
    with open(rec, "rb") as f:
        data = f.read()
    cases = {
        "missing": (None, "No such file"),
        "empty": (b"", ""),
        "garbage": (b"this is not a recording at all\n" * 4, "not a boundtrace recording"),
        "cut": (data[: len(data) // 2], ""),
        "flipped": (data[:40] + bytes([data[40] ^ 0x55]) + data[41:], ""),
    }
    for name, (content, text) in cases.items():
        path = tmpfile("bad-%s.btrec" % name)
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
        r = run([BT, "report", path])
        check(r.returncode != 0 or "cut short" in r.stderr,
              "%s recording: exit %d, stderr %r" % (name, r.returncode, r.stderr))
        check(path in r.stderr and text in r.stderr, "%s recording message: %r" % (name, r.stderr))
        eq(len(r.stderr.strip().splitlines()), 1, "%s recording: one line of error" % name)


@test
def wakes_of_an_exited_waker_counted_once():
    """A waker wakes 4 processes through one futex word (the third and
    fourth go past the row's own wakee slots) and exits; the trace goes on,
    collecting every 100 ms, and each waker -> wakee edge still shows
    exactly the wakeups that wakee received."""
    out, fan = tmpfile("fan.json"), tmpfile("fan-wl.json")
    # Every wakee its own node: the wakees are one pool otherwise.
    r = run([BT, "-f", "json", "-o", out, "-i", "0.1", "--group", "pid", "-c", WAKEFAN,
             "--wakees", "4", "--count", "5", "--linger-ms", "1500", "--out", fan])
    eq(r.returncode, 0, "boundtrace -c wakefan (%s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    with open(fan) as f:
        wl = json.load(f)
    eq(wl["wakes"], 20, "wakes the waker made")
    edges = {(e["from"], e["to"]): e for e in bt["edges"] if e["kind"] == "futex"}
    for w in wl["wakees"]:
        eq(w["woken"], 5, "wakeups wakee %d received" % w["pid"])
        key = (wl["waker"], w["pid"])
        check(key in edges, "futex edge %r missing; boundtrace has %r" % (key, sorted(edges)))
        eq(edges[key]["wakeups"], w["woken"], "wakeups of waker -> wakee %d" % w["pid"])
    waker, rows = bt_rows(bt, wl["waker"])
    eq(waker["exited"], True, "the waker exited mid-trace")
    # Forked children: start_ns comes from the kernel's fork event, and is
    # the boot-based clock /proc/PID/stat gives, at its resolution.
    tick = 10**9 // wl["clk_tck"]
    eq(waker["start_ns"], wl["waker_start"] * tick, "the waker's start_ns")
    for w in wl["wakees"]:
        proc, _ = bt_rows(bt, w["pid"])
        eq(proc["start_ns"], w["start"] * tick, "start_ns of wakee %d" % w["pid"])
        eq(proc["comm"], "fan-wakee", "comm of wakee %d" % w["pid"])
    wake_rows = [b for b in waker["boundaries"] if b["kind"] == "futex" and b["direction"] == "wake"]
    eq([b["calls"] for b in wake_rows], [wl["wake_calls"]], "the waker's FUTEX_WAKE calls")


@test
def futex_links_of_one_thread_on_many_words():
    """One waker thread wakes one wakee process on 3 shared words in turn:
    each word is its own futex link (the waker's word -> the wakee's), so
    each word's edge pairs with the wakee's wait on that word, its blocked
    time the wait row's exactly. A link remembered by the waker's thread
    (the kernel's per-thread cache) must be told apart by its words too."""
    out, fan = tmpfile("words.json"), tmpfile("words-wl.json")
    r = run([BT, "-f", "json", "-o", out, "--group", "pid", "-c", WAKEFAN,
             "--wakees", "1", "--words", "3", "--count", "12", "--linger-ms", "200",
             "--out", fan])
    eq(r.returncode, 0, "boundtrace -c wakefan --words 3 (%s)" % r.stderr)
    bt, wl = load_json(out), load_json(fan)
    wakee = wl["wakees"][0]["pid"]
    eq([w["woken"] for w in wl["words"]], [4, 4, 4], "wakeups on each word")
    _, rows = bt_rows(bt, wakee)
    edges = {e["channel"]: e for e in bt["edges"]
             if e["kind"] == "futex" and (e["from"], e["to"]) == (wl["waker"], wakee)}
    eq(sorted(edges), sorted("futex:" + w["addr"] for w in wl["words"]), "one edge per word")
    for w in wl["words"]:
        chan = "futex:" + w["addr"]
        e, wait = edges[chan], rows[("futex", chan, "wait")]
        eq(wait["calls"], w["woken"], "the wakee's waits on %s" % chan)
        eq((e["calls"], e["wakeups"]), (w["wake_calls"], w["woken"]),
           "wake calls and wakeups of the edge on %s" % chan)
        check(wait["blocked_ns"] > 0, "the wakee blocked on %s" % chan)
        eq(e["blocked_ns"], wait["blocked_ns"],
           "the edge on %s carries the wakee's wait on that word" % chan)


# The ring records' sizes (bpf/boundtrace.h: struct bt_event, bt_episode_ev,
# bt_exchange_ev), as the own-cost section counts their bytes.
EVENT_BYTES, EPISODE_BYTES, EXCHANGE_BYTES = 48, 64, 80


# A writer puts 1 MiB into a pipe whose room is 1 MiB (it never waits),
# then a byte into a second pipe; the reader sleeps on that byte, then
# takes the MiB (it never waits either). Both 1 MiB calls are long, and
# neither ever sleeps. Paced by the writer's 20 ms nap.
LONG_CALLS_SCRIPT = r"""
import fcntl, json, os, sys, time
n, out = int(sys.argv[1]), sys.argv[2]
data_r, data_w = os.pipe()
go_r, go_w = os.pipe()
fcntl.fcntl(data_w, 1031, 1 << 20)          # F_SETPIPE_SZ
size = fcntl.fcntl(data_w, 1032)            # F_GETPIPE_SZ
pid = os.fork()
if pid == 0:
    for _ in range(n):
        time.sleep(0.02)
        assert os.write(data_w, b"x" * size) == size
        os.write(go_w, b"g")
    os._exit(0)
for _ in range(n):
    assert os.read(go_r, 1) == b"g"
    got = 0
    while got < size:
        got += len(os.read(data_r, size - got))
os.waitpid(pid, 0)
json.dump({"reader": os.getpid(), "writer": pid, "size": size,
           "data": os.fstat(data_r).st_ino, "go": os.fstat(go_r).st_ino}, open(out, "w"))
"""


@test
def long_calls_that_never_slept_are_no_waits():
    """A call is a wait (an episode) only if it slept: 5 rounds of a 1 MiB
    pipe write into room for it, and of a 1 MiB read of bytes already
    there, each far longer than --min-block, never sleep, so the writer
    has no wait at all and no chain goes through the data pipe; the
    reader's sleeps on the signalling pipe are its waits, a chain reader
    -> go pipe -> writer of 5 calls."""
    n = 5
    out, want_f = tmpfile("bt.json"), tmpfile("long.json")
    r = run([BT, "--min-block", "5", "-f", "json", "-o", out, "-c", sys.executable, "-c",
             LONG_CALLS_SCRIPT, str(n), want_f])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    bt, want = load_json(out), load_json(want_f)
    eq(want["size"], 1 << 20, "the data pipe holds 1 MiB")
    waits = {w["pid"]: w for w in bt["waits"]}
    eq(sum(waits.get(want["writer"], {}).get(k, {}).get("count", 0)
           for k in ("blocked", "dependency", "idle", "timeout", "signal")), 0,
       "the writer never waited: %r" % waits.get(want["writer"]))
    hops = [(h["from"]["pid"], h["channel"], h["to"]["pid"], h["calls"])
            for c in bt["chains"] for h in c["hops"]]
    eq([h for h in hops if h[1] == "pipe:[%d]" % want["data"]], [],
       "no chain through the data pipe")
    eq([h for h in hops if h[1] == "pipe:[%d]" % want["go"]],
       [(want["reader"], "pipe:[%d]" % want["go"], want["writer"], n)],
       "the reader waits on the writer through the go pipe, once a round")


@test
def own_cost_accounts_for_every_record():
    """The report's own-cost section (`tracer`): a 1-byte pipe ping-pong of
    250 rounds sends the two exchange records of its first round (both
    ends, one sample) and counts the other rounds in the kernel (one-hop
    trees), no hand-off, and as many episodes as the report counts; with
    --no-chains no record ring is read at all. Its CPU is ns (below the
    trace's length on 2 cores), its RSS KiB; the chain folds' CPU is part
    of it, and none without chains."""
    n = 250
    bt, ipc = traced("pipe", "--size", "1", "--reply-size", "1", "--count", str(n))
    assert_matches(bt, ipc)
    me = bt["tracer"]
    eq(bt["exchanges_paired"], n, "exchanges paired")
    eq(bt["lost"]["exchanges"] + bt["lost"]["episodes"], 0, "records lost")
    eq((me["records"]["exchanges"], me["exchanges_counted"], me["records"]["handoffs"],
        me["records"]["episodes"]), (2, n - 1, 0, bt["episodes"]),
       "exchange records, exchanges counted in the kernel, hand-off and episode records")
    eq(me["record_bytes"] - me["records"]["events"] * EVENT_BYTES,
       2 * EXCHANGE_BYTES + bt["episodes"] * EPISODE_BYTES, "their bytes")
    check(0 < me["cpu_ns"] <= 2 * bt["duration_ns"],
          "CPU in ns within the trace on 2 cores: %d of %d" % (me["cpu_ns"], bt["duration_ns"]))
    check(1024 <= me["max_rss_kib"] <= 1024 * 1024, "peak RSS in KiB: %d" % me["max_rss_kib"])
    check(me["chain_cpu_ns"] <= me["cpu_ns"],
          "the folds' CPU is part of it: %d of %d" % (me["chain_cpu_ns"], me["cpu_ns"]))
    bt, ipc = traced("pipe", "--size", "1", "--reply-size", "1", "--count", str(n),
                     bt_args=("--no-chains",))
    assert_matches(bt, ipc)
    eq([bt["tracer"]["records"][k] for k in ("exchanges", "handoffs", "episodes")], [0, 0, 0],
       "--no-chains: no exchange, hand-off or episode record")
    eq(bt["tracer"]["chain_cpu_ns"], 0, "--no-chains: no fold's CPU")
    eq(bt["tracer"]["exchanges_counted"], 0, "--no-chains: no exchange counted")


@test
def command_takes_the_arguments_after_it():
    """`-c CMD ARG...`: the words after CMD are the command's, options too."""
    out, ipc_out = tmpfile("argv.json"), tmpfile("argv-ipc.json")
    r = run([BT, "-f", "json", "-o", out, "-c", IPCLOAD, "pipe", "--count", "123",
             "--out", ipc_out])
    eq(r.returncode, 0, "boundtrace -c CMD ARG... (%s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    with open(ipc_out) as f:
        ipc = json.load(f)
    assert_matches(bt, ipc)
    sends = [b["calls"] for p in bt["processes"] for b in p["boundaries"]
             if b["kind"] == "pipe" and b["direction"] == "send"]
    eq(sends, [123], "pipe sends of ipcload pipe --count 123")


@test
def dot_output_renders():
    out = tmpfile("g.dot")
    r = run([BT, "-f", "dot", "-o", out, "-c",
             IPCLOAD + " unix-stream --count 100 --reply-size 8 --out /dev/null"])
    eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    with open(out) as f:
        graph = f.read()
    eq(graph.count(" -> "), 2, "two edges")
    eq(graph.count("unix:socketpair"), 2, "each labelled with its service")
    check("ipc-client" in graph and "ipc-server" in graph, "both processes are nodes")
    r = run(["dot", "-Tsvg", out])
    eq(r.returncode, 0, "dot -Tsvg exit status (%s)" % r.stderr)
    check("<svg" in r.stdout, "dot produced an SVG")


@test
def command_exit_status_is_passed_on():
    r = run([BT, "-f", "json", "-o", tmpfile("bt.json"), "-c", "sh -c 'exit 3'"])
    eq(r.returncode, 3, "exit status of boundtrace -c")


@test
def unknown_pid_is_a_clear_error():
    r = run([BT, "-p", "4194000"])
    check(r.returncode != 0, "boundtrace -p <no such pid> must fail")
    check("no process with pid 4194000" in r.stderr, "message: %r" % r.stderr)


@test
def unprivileged_user_is_told_what_is_needed():
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "--inh-caps=-all", BT, "-p", "1"])
    check(r.returncode != 0, "unprivileged run must fail")
    check("CAP_BPF" in r.stderr and "CAP_PERFMON" in r.stderr, "message: %r" % r.stderr)


@test
def output_never_follows_a_symlink():
    target = tmpfile("victim")
    with open(target, "w") as f:
        f.write("precious\n")
    link = tmpfile("link.json")
    os.symlink(target, link)
    r = run([BT, "-o", link, "--force", "-c", "true"])
    check(r.returncode != 0, "writing through a symlink must fail")
    check("symbolic link" in r.stderr, "message: %r" % r.stderr)
    with open(target) as f:
        eq(f.read(), "precious\n", "symlink target untouched")


@test
def unwritable_output_fails_before_tracing():
    r = run([BT, "-o", "/nonexistent-dir/out.json", "-c", "true"])
    check(r.returncode != 0, "unwritable output must fail")
    check("/nonexistent-dir/out.json" in r.stderr, "message names the path: %r" % r.stderr)


@test
def output_file_mode_is_0600():
    out = tmpfile("mode.json")
    r = run([BT, "-f", "json", "-o", out, "-c", "true"])
    eq(r.returncode, 0, "exit status")
    eq(os.stat(out).st_mode & 0o777, 0o600, "mode of the report")


@test
def trace_all_for_a_duration():
    out = tmpfile("all.json")
    r = run([BT, "-a", "-d", "0.3", "-f", "json", "-o", out])
    eq(r.returncode, 0, "boundtrace -a -d exit status (%s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    eq(bt["version"], 2, "JSON version")


# The real-service tests live in their own module and share this harness.
sys.modules.setdefault("harness", sys.modules[__name__])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402,F401 - registers its tests
import service_map  # noqa: E402,F401 - registers its tests
import fleet  # noqa: E402,F401 - registers its tests (metrics, merged recordings)
import reliability  # noqa: E402,F401 - registers its tests


def main():
    if os.geteuid() != 0:
        print("integration tests need root; skipped")
        return 0
    only = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
    passed = failed = skipped = 0
    t0 = time.time()
    for fn in TESTS:
        if only and only not in fn.__name__:
            continue
        start = time.time()
        try:
            fn()
            passed += 1
            print("ok   %-40s %.1fs" % (fn.__name__, time.time() - start))
        except Skip as e:
            skipped += 1
            print("skip %-40s %s" % (fn.__name__, e))
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            failed += 1
            print("FAIL %-40s %s" % (fn.__name__, e))
            if VERBOSE or not isinstance(e, Failure):
                traceback.print_exc()
    print("integration: %.1fs" % (time.time() - t0))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
