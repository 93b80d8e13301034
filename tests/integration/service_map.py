# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The map at service scale: far ends named by the kernel at event time
(connections far shorter than a /proc scan, servers that are not traced),
connections folded into services, and real services seen from one pid.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from harness import (BT, GATE_MS, ROOT, TMP, VERBOSE, Failure, Skip, check, eq, run, run_gated,
                     start_gated, test, tmpfile)

SVCLOAD = os.path.join(ROOT, "build", "tools", "svcload")


def svcload_traced(mode, conns=100, size=64, hold_ms=0, keep=0, peers=0, greet=False,
                   accept_late=False, trace_server=False, bt_args=(), wl_args=()):
    """svcload MODE: its client traced alone (-p CLIENT --peers 0), the
    server never (it stays hold_ms after the client); returns (boundtrace
    JSON, svcload report, boundtrace's -v stderr). With keep, the client
    holds its last `keep` connections open and the trace is ended (SIGINT)
    while it does. With trace_server, the server is the one traced
    (-p SERVER), the client not."""
    out, err, bt_out = tmpfile("svc.json"), tmpfile("svc.err"), tmpfile("bt.json")
    go = tmpfile("svc.go")
    with open(err, "w") as ef:
        w = subprocess.Popen([SVCLOAD, mode, "--conns", str(conns), "--size", str(size),
                              "--keep", str(keep), "--delay-ms", GATE_MS, "--hold-ms",
                              str(hold_ms), "--out", out] + (["--greet"] if greet else [])
                             + (["--accept-late"] if accept_late else []) + list(wl_args),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef,
                             env=dict(os.environ, WL_GO_FILE=go))
    w.go = go

    def said(pattern):
        with open(err) as f:
            return re.search(pattern, f.read())

    client = None
    for _ in range(300):
        m = said(r"ready (\d+)")
        if m:
            client = int(m.group(1))
            break
        time.sleep(0.01)
    if client is None:
        w.kill()
        raise Failure("svcload did not announce itself")
    traced = w.pid if trace_server else client
    if keep:
        t = start_gated([BT, "-f", "json", "-o", bt_out, "--peers", str(peers), *bt_args,
                         "-p", str(traced)], w)
        try:
            wait_for(lambda: said(r"holding %d" % keep), "svcload to hold its connections",
                     timeout=30)
            t.send_signal(signal.SIGINT)
            rc = t.wait(timeout=30)
        finally:
            os.kill(client, signal.SIGUSR1)
        with open(t.errfile) as f:
            r = subprocess.CompletedProcess(t.args, rc, "", f.read())
    else:
        r = run_gated([BT, "-f", "json", "-o", bt_out, "--peers", str(peers), *bt_args, "-p",
                       str(traced)], w)
    eq(w.wait(timeout=60), 0, "svcload exit status")
    eq(r.returncode, 0, "boundtrace exit status (stderr: %s)" % r.stderr)
    with open(bt_out) as f:
        bt = json.load(f)
    with open(out) as f:
        rep = json.load(f)
    eq(rep["client"], client, "the client announced")
    return bt, rep, r.stderr


def check_short_connections(mode, conns_per_edge, hold_ms=0, opened=None, keep=0, conns=100,
                            bt_args=(), wl_args=()):
    """Also the connections' lives: `opened` of them opened during the
    trace (all by default), `keep` still open at its end, the rest closed."""
    bt, rep, err = svcload_traced(mode, conns=conns, hold_ms=hold_ms, keep=keep,
                                  bt_args=bt_args, wl_args=wl_args)
    client, server = rep["client"], rep["server"]
    edges = [e for e in bt["edges"] if e["from"] == client]
    eq([(e["to"], e["service"]) for e in edges], [(server, rep["service"])],
       "the client's one edge: to the untraced server, by service")
    e = edges[0]
    eq(e["connections_seen"], conns_per_edge, "connections folded into the edge")
    eq(len(e["connections"]), conns_per_edge, "connections listed")
    eq(e["calls"], rep["sends"], "sends (svcload's count)")
    eq(e["bytes"], rep["sent"], "bytes sent (svcload's count)")
    eq((e["connections_opened"], e["connections_closed"], e["connections_alive"]),
       (conns_per_edge if opened is None else opened, conns_per_edge - keep, keep),
       "connections opened, closed, alive at the end")
    lives = [(c["opened"], c["alive"]) for c in e["connections"]]
    eq(sorted(lives),
       sorted([(opened is None, False)] * (conns_per_edge - keep) + [(opened is None, True)] * keep),
       "each connection: opened during the trace, alive at its end (%d of them)" % keep)
    if mode == "udp":
        check("exchanges" not in e, "no exchanges over datagrams: %r" % e.get("exchanges"))
    else:
        # One request and its response per connection (socketpair: per message).
        eq((e["role"], e["exchanges"]["count"]), ("client", rep["conns"]),
           "the service line's exchanges, as the client counted them")
        check(0 < e["exchanges"]["p50_ns"] <= e["exchanges"]["p99_ns"]
              <= e["exchanges"]["max_ns"], "latency p50 <= p99 <= max: %r" % e["exchanges"])
    procs = {p["pid"]: p for p in bt["processes"]}
    eq(sorted(procs), sorted([client, server]), "processes listed: the client and its far end")
    eq((procs[client]["role"], procs[client]["traced"]), ("target", True), "the client's role")
    eq((procs[server]["role"], procs[server]["traced"], procs[server]["comm"]),
       ("peer", False, "svc-server"), "the server: named, not traced")
    rows = procs[client]["boundaries"]
    recv = [b for b in rows if b["direction"] == "recv"]
    eq(sum(b["calls"] for b in recv), rep["recvs"], "receives (svcload's count)")
    eq(sum(b["bytes"] for b in recv), rep["received"], "bytes received (svcload's count)")
    named = sorted({b.get("peer", {}).get("pid") for b in rows})
    eq(named, [server], "every one of the client's rows names the server")
    eq(bt["lost"]["map_full"], 0, "lost.map_full")
    return bt, rep, err


@test
def tcp_100_short_connections_each_named():
    """100 TCP connections, each opened, used and closed in well under a
    millisecond, to a server that is not traced (its port ephemeral, so only
    the kernel's handshake says which end serves): one edge, 100
    connections, every row naming the server."""
    check_short_connections("tcp", 100)


@test
def unix_100_short_connections_each_named():
    """The same over a unix socket bound to a path: the worker that accepts
    each connection is named though the client wrote first."""
    check_short_connections("unix", 100)


@test
def abstract_unix_short_connections_each_named():
    check_short_connections("abstract", 100)


def check_greeting_counted(mode):
    """svcload MODE --greet: the server writes first on each of 100
    connections, before the traced client's first crossing there. With
    --peers 1 the server is counted from its first byte: the client's
    connect() marked both ends. Exact bytes both ways, nothing unseen."""
    bt, rep, _ = svcload_traced(mode, peers=1, greet=True)
    client, server, size = rep["client"], rep["server"], 64
    eq(rep["received"], 2 * 100 * size, "svcload: greeting and reply per connection")
    procs = {p["pid"]: p for p in bt["processes"]}
    check(server in procs, "the server is listed: %r" % sorted(procs))
    # Counted before it was followed: its first calls have no blocked time, and it says so.
    eq((procs[server].get("blocked_partial"), procs[client].get("blocked_partial")),
       (True, None), "blocked time partial for the server only")
    eq((socket_bytes(procs[server], "send", (KINDS[mode],)),
        socket_bytes(procs[server], "recv", (KINDS[mode],))),
       (rep["received"], rep["sent"]), "the server's bytes, counted from its first one")
    edges = {(e["from"], e["to"]): e for e in bt["edges"] if e["kind"] == KINDS[mode]}
    eq(sorted(edges), sorted([(client, server), (server, client)]), "one edge each way")
    eq((edges[server, client]["bytes"], edges[server, client]["unseen_bytes"]),
       (rep["received"], 0), "server -> client: greetings and replies, nothing unseen")
    eq((edges[client, server]["bytes"], edges[client, server]["unseen_bytes"]),
       (rep["sent"], 0), "client -> server: requests, nothing unseen")
    eq(bt["lost"]["unseen_bytes"], 0, "lost.unseen_bytes")


KINDS = {"tcp": "tcp", "unix": "unix_stream"}


def check_folded(mode, conns=5000, map_size=2048, spill=1024, rate=500, stacks=False):
    """`conns` short connections (`rate` a second) traced with --map-size
    map_size: the client makes 2 rows a connection, three times what the
    kernel's maps hold. (The fold runs when half the room left is used:
    here a second of new rows, so a loaded machine that keeps boundtrace
    off the CPU for a while loses nothing; at 1,000 a second, half a
    second, a machine loaded by other test runs lost a connection's calls
    now and then, counted in lost.calls.) The rows of the connections it closed are folded
    out of the maps while tracing: nothing lost, calls and bytes exactly
    svcload's, every connection opened and closed, and every one of the
    client's rows left the kernel through a fold or its exit harvest (the
    -v lines), the harvest at most what the maps hold. With stacks
    (--stacks, and a recording of the trace), the per-stack rows are folded
    with their rows: the client's stack lines (-f folded of the recording)
    sum to its exact calls and bytes, none of them [lost]."""
    rec = tmpfile("folded.btrec")
    bt, rep, err = check_short_connections(mode, conns, conns=conns,
                                           bt_args=["--map-size", str(map_size)] +
                                           (["--stacks", "--record", rec] if stacks else []),
                                           wl_args=["--rate", str(rate)])
    eq({k: v for k, v in bt["lost"].items() if v}, {}, "nothing lost")
    # Every exchange finds its row, folded or not: one chain to the
    # service, a request for each connection (not a chain per inode).
    # The server is not traced: its hop is named from the edge (the rows' far end).
    eq([(c["requests"], [(h["kind"], h["to"]["pid"], h["to"]["comm"]) for h in c["hops"]])
        for c in bt["chains"]],
       [(rep["conns"], [(KINDS[mode], rep["server"], "svc-server")])],
       "the chains: one hop to the server, by pid and name, every request")
    rows = [b for p in bt["processes"] if p["pid"] == rep["client"] for b in p["boundaries"]]
    eq(len(rows), 2 * conns, "the client's rows: a send and a receive a connection")
    eq(sum(b["calls"] for b in rows), rep["sends"] + rep["recvs"], "the client's calls")
    folds = re.search(r"folds: (\d+) rows of closed channels in (\d+) folds", err)
    harvest = re.search(r"exit harvests: 1 processes in 1 walks, \d+ map operations, (\d+) rows",
                        err)
    check(folds and harvest, "the -v fold and harvest lines in %r" % err)
    folded, harvested = int(folds.group(1)), int(harvest.group(1))
    eq(folded + harvested, len(rows), "rows folded (%d) + harvested at exit (%d)"
       % (folded, harvested))
    check(folded > map_size + spill and harvested <= map_size + spill,
          "folds took %d rows, the exit harvest %d: the maps hold %d"
          % (folded, harvested, map_size + spill))
    if stacks:
        check_stack_sums(rec, rep)


def check_stack_sums(rec, rep):
    """The client's folded stack lines of recording rec, weighed by calls
    and by bytes, sum to svcload's counts, each line with both stacks."""
    comm = "svc-client"
    for weight, want in (("calls", rep["sends"] + rep["recvs"]),
                         ("bytes", rep["sent"] + rep["received"])):
        folded = tmpfile("folded.%s" % weight)
        r = run([BT, "report", rec, "-f", "folded", "--weight", weight, "-o", folded])
        eq(r.returncode, 0, "boundtrace report -f folded (%s)" % r.stderr)
        with open(folded) as f:
            lines = [line.rstrip("\n").rsplit(" ", 1) for line in f]
        mine = [(stack, int(w)) for stack, w in lines if stack.startswith(comm + ";")]
        eq(sum(w for _, w in mine), want, "the client's stack lines weighed by %s" % weight)
        eq([s for s, _ in mine if "[lost]" in s], [], "stacks not taken")


@test
def tcp_5000_connections_folded_through_a_small_map():
    """5,000 TCP connections through a 2,048-row map: see check_folded."""
    check_folded("tcp")


@test
def unix_5000_connections_folded_through_a_small_map():
    """The same over a unix socket."""
    check_folded("unix")


@test
def tcp_5000_connections_with_stacks_folded_through_a_small_map():
    """--stacks through folds: see check_folded."""
    check_folded("tcp", stacks=True)


@test
def unix_5000_connections_with_stacks_folded_through_a_small_map():
    check_folded("unix", stacks=True)


@test
def tcp_server_greeting_counted_from_the_first_byte():
    check_greeting_counted("tcp")


@test
def unix_server_greeting_counted_from_the_first_byte():
    check_greeting_counted("unix")


def check_early_client_counted(mode):
    """svcload MODE --accept-late traced from the server alone (-p SERVER
    --peers 1), which listened before the trace began: the untraced
    client writes each request before the server accepts the connection
    (svcload waits for the client's write to return before its accept).
    Its connect() to the listener the server holds (found by the first
    scan) marks both ends, so the client counts from its first byte:
    exact sends and bytes both ways, nothing unseen."""
    bt, rep, _ = svcload_traced(mode, peers=1, accept_late=True, trace_server=True)
    client, server, kind = rep["client"], rep["server"], KINDS[mode]
    procs = {p["pid"]: p for p in bt["processes"]}
    check(client in procs, "the client is listed: %r" % sorted(procs))
    eq((procs[server]["role"], procs[client]["role"]), ("target", "peer"), "roles")
    rows = procs[client]["boundaries"]
    eq([sum(b[f] for b in rows if b["kind"] == kind and b["direction"] == d)
        for d in ("send", "recv") for f in ("calls", "bytes")],
       [rep["sends"], rep["sent"], rep["recvs"], rep["received"]],
       "the client's sends, bytes sent, receives, bytes received (svcload's counts)")
    eq((socket_bytes(procs[server], "recv", (kind,)), socket_bytes(procs[server], "send", (kind,))),
       (rep["sent"], rep["received"]), "the server's bytes both ways")
    edges = {(e["from"], e["to"]): e for e in bt["edges"] if e["kind"] == kind}
    eq(sorted(edges), sorted([(client, server), (server, client)]), "one edge each way")
    eq((edges[client, server]["calls"], edges[client, server]["bytes"],
        edges[client, server]["unseen_bytes"]),
       (rep["sends"], rep["sent"], 0), "client -> server: every request, nothing unseen")
    eq((edges[server, client]["bytes"], edges[server, client]["unseen_bytes"]),
       (rep["received"], 0), "server -> client: replies, nothing unseen")
    eq((bt["lost"]["unseen_bytes"], bt["lost"]["map_full"]), (0, 0),
       "lost.unseen_bytes, lost.map_full")


@test
def unix_client_writing_before_accept_counted_from_the_first_byte():
    check_early_client_counted("unix")


@test
def tcp_client_writing_before_accept_counted_from_the_first_byte():
    check_early_client_counted("tcp")


@test
def tcp_connections_alive_at_the_end():
    """100 TCP connections, the last 7 still open when the trace ends
    (SIGINT while the client holds them): 100 opened, 93 closed, 7 alive."""
    check_short_connections("tcp", 100, keep=7)


@test
def unix_connections_alive_at_the_end():
    check_short_connections("unix", 100, keep=3)


@test
def socketpair_far_end_named():
    """A socketpair made by the (untraced) server before it forked the
    client: the far end is the creator."""
    check_short_connections("socketpair", 1, opened=0)


@test
def udp_many_client_sockets_one_server():
    """100 connected UDP sockets to one unconnected server, bound before the
    trace began (so named from sock_diag and /proc, which must still see it
    when the trace ends: the server holds on): one service."""
    check_short_connections("udp", 100, hold_ms=1500)


# ---- real services ----------------------------------------------------------

from services import Nginx, Redis, Tiers, Tracer, free_port, need  # noqa: E402
from services import proc_of, socket_bytes, wait_for  # noqa: E402


def table_of(recording, *args):
    """The table `boundtrace report ARGS` prints for a recording."""
    r = run([BT, "report", *args, recording])
    eq(r.returncode, 0, "boundtrace report exit status (%s)" % r.stderr)
    return r.stdout


def map_lines(table):
    """The lines of the communication map."""
    lines = table.splitlines()
    if "communication map" not in table:
        return []
    start = next(i for i, l in enumerate(lines) if l.startswith("communication map"))
    out = []
    for l in lines[start + 1:]:
        if not l.startswith("  "):
            break
        out.append(l)
    return out


@test
def redis_benchmark_unix_client_names_running_daemon():
    """redis-benchmark (traced alone, -c) against a redis-server that was
    running before the trace, over its unix socket: redis-benchmark writes
    before redis accepts, yet the far end is named (redis-server's pid) and
    the client's sends and bytes are exactly what redis says it read."""
    r = Redis()
    try:
        before, req1, reply1 = r.info_stats()
        rec = tmpfile("bench.btrec")
        out = tmpfile("bench.json")
        b = run([BT, "-f", "json", "-o", out, "--record", rec, "--peers", "0", "-c",
                 "redis-benchmark -s %s -c 1 -n 500 -t ping_inline -q" % r.sock], timeout=120)
        eq(b.returncode, 0, "boundtrace exit status (%s)" % b.stderr)
        after, req2, _ = r.info_stats()
    finally:
        r.stop()
    with open(out) as f:
        bt = json.load(f)
    # Redis counts a request when read, a reply when written: INFO #2's
    # request and INFO #1's reply fall between the two snapshots.
    read = int(after["total_net_input_bytes"]) - int(before["total_net_input_bytes"]) - req2
    wrote = int(after["total_net_output_bytes"]) - int(before["total_net_output_bytes"]) - reply1
    # Every connection redis accepted in between was redis-benchmark's.
    conns = int(after["total_connections_received"]) - int(before["total_connections_received"]) - 1
    bench = [p for p in bt["processes"] if p["comm"] == "redis-benchmark"]
    eq(len(bench), 1, "one redis-benchmark process")
    pid = bench[0]["pid"]
    to = [e for e in bt["edges"] if e["from"] == pid and e["kind"] == "unix_stream"]
    eq([(e["to"], e["service"]) for e in to], [(r.p.pid, "unix:" + r.sock)],
       "redis-benchmark's edge: to redis-server, by its socket path")
    eq(to[0]["connections_seen"], conns, "connections (redis's total_connections_received)")
    eq(to[0]["bytes"], read, "bytes sent = what redis read (its total_net_input_bytes)")
    # The first INFO counts in `after` only. redis-benchmark sends its two
    # CONFIG GETs (save, appendonly) in one sendto, then one per PING (strace).
    commands = int(after["total_commands_processed"]) - int(before["total_commands_processed"]) - 1
    eq(commands, 502, "redis's count: 500 PINGs and redis-benchmark's two CONFIG GETs")
    eq(to[0]["calls"], commands - 1, "sends: one per PING, one for both CONFIG GETs")
    recv = sum(b["bytes"] for b in bench[0]["boundaries"]
               if b["kind"] == "unix_stream" and b["direction"] == "recv")
    eq(recv, wrote, "bytes received = what redis wrote (its total_net_output_bytes)")
    procs = {p["pid"]: p for p in bt["processes"]}
    eq((procs[r.p.pid]["comm"], procs[r.p.pid]["role"], procs[r.p.pid]["traced"]),
       ("redis-server", "peer", False), "redis-server: named, not traced")
    # The table says the same in one map line.
    lines = map_lines(table_of(rec))
    eq(len(lines), 1, "map lines: %r" % lines)
    check(("redis-benchmark[%d] \u2192 redis-server[%d] via unix:%s: %d conn"
           % (pid, r.p.pid, r.sock, conns)) in lines[0], "map line: %r" % lines[0])


@test
def nginx_proxy_200_short_connections_one_service():
    """An nginx worker proxying 200 requests to a second server block of its
    own (a new upstream connection each): the 200 upstream connections are
    one service line, tcp:127.0.0.1:BACKEND_PORT, exact against the backend
    block's access log, both ends traced and agreeing; the map has one line
    per direction and service."""
    need("nginx")
    backend = free_port()
    blog = tmpfile("backend.log")
    n = None
    try:
        n = Nginx("location /p/ { proxy_pass http://127.0.0.1:%d/; }" % backend,
                  "server { listen 127.0.0.1:%d; access_log %s counts; root %s; }"
                  % (backend, blog, os.path.join(TMP, "nginx", "www")))
        with open(n.access, "w"):
            pass
        rec = tmpfile("proxy.btrec")
        t = Tracer(n.worker, "--peers", "0", "--record", rec)
        for _ in range(200):
            reply = n.get("/p/index.html")
            check(reply.startswith(b"HTTP/1.1 200"), "nginx reply: %r" % reply[:40])
        wait_for(lambda: len(n.logged()) == 200, "200 proxy access log lines")
        wait_for(lambda: len(open(blog).read().splitlines()) == 200, "200 backend log lines")
        bt = t.stop()
    finally:
        if n:
            n.stop()
    with open(blog) as f:
        back = [tuple(int(x) for x in line.split()) for line in f]
    w = n.worker
    up = [e for e in bt["edges"] if e["from"] == w and e["to"] == w]
    eq([e["service"] for e in up], ["tcp:127.0.0.1:%d" % backend],
       "worker -> itself: one service, the backend's address")
    e = up[0]
    # Each upstream connection is two sending rows: the proxy's request, the backend's reply.
    eq(e["connections_seen"], 400, "connections folded (200 each way)")
    eq(e["bytes"], sum(x for x, _ in back) + sum(x for _, x in back),
       "upstream bytes both ways = the backend's $request_length + $bytes_sent")
    eq(e["unseen_bytes"], 0, "both ends traced: they agree")
    eq(bt["lost"]["unseen_bytes"], 0, "lost.unseen_bytes")
    lines = map_lines(table_of(rec))
    # The worker to itself (upstream), and to the test's client process.
    eq(len(lines), 2, "map lines: %r" % lines)


@test
def nginx_worker_map_finds_php_fpm_and_redis():
    """The mission's front door: `-p NGINX_WORKER --peers 2` alone, 50
    requests through php-fpm (2 workers, a fresh unix connection per
    request, each living a few milliseconds) to redis (a TCP connection per
    request). php-fpm's workers and redis are named by the kernel and
    followed; the table stays short: a line per (peer, service, direction).
    The workers are counted from the first byte (the channels nginx
    crossed are marked in the kernel), so the two ends of every FastCGI
    connection agree exactly, though no scan saw the workers before the
    first requests."""
    tiers = Tiers()
    r, fpm, n = tiers.redis, tiers.fpm, tiers.nginx
    try:
        rec = tmpfile("tiers.btrec")
        t = Tracer(n.worker, "--peers", "2", "--group", "pid", "--record", rec)
        for _ in range(50):
            # Spread over 1.5 s: a few discovery rounds (every 500 ms)
            # follow the far ends the kernel named meanwhile.
            time.sleep(0.03)
            reply = n.get("/calls.php")
            check(reply.startswith(b"HTTP/1.1 200") and b"hits " in reply,
                  "nginx reply: %r" % reply[-300:])
        wait_for(lambda: len(n.logged()) == 50, "50 access log lines")
        bt = t.stop()
    finally:
        tiers.stop()
    procs = {p["pid"]: p for p in bt["processes"]}
    for pid in fpm.workers:
        check(pid in procs and procs[pid]["role"] == "peer" and procs[pid]["traced"],
              "php-fpm worker %d found and followed: %r" % (pid, procs.get(pid)))
    check(r.p.pid in procs and procs[r.p.pid]["comm"] == "redis-server",
          "redis-server named: %r" % procs.get(r.p.pid))
    log = n.logged()
    np_ = proc_of(bt, n.worker)
    eq(socket_bytes(np_, "recv", ("tcp",)), sum(x for x, _ in log), "nginx: bytes from clients")
    eq(socket_bytes(np_, "send", ("tcp",)), sum(x for _, x in log), "nginx: bytes to clients")
    # The clients (the test itself, followed at hop 1) write their requests
    # before nginx touches those connections: they connect to a listener
    # the worker holds (marked by the first scan), so they count from
    # their first byte: nothing unseen.
    into = [e for e in bt["edges"] if e["to"] == n.worker and e["kind"] == "tcp"]
    eq((sum(e["connections_seen"] for e in into), sum(e["bytes"] for e in into),
        sum(e["unseen_bytes"] for e in into)), (50, sum(x for x, _ in log), 0),
       "client requests: 50 connections, $request_length, nothing unseen")
    fcgi = [e for e in bt["edges"] if e["from"] == n.worker and e["kind"] == "unix_stream"]
    eq(sorted(e["to"] for e in fcgi), sorted(fpm.workers), "nginx -> each php-fpm worker")
    eq({e["service"] for e in fcgi}, {"unix:" + fpm.sock}, "by the FastCGI socket's path")
    eq(sum(e["connections_seen"] for e in fcgi), 50, "one FastCGI connection per request")
    eq(sum(e["bytes"] for e in fcgi), socket_bytes(np_, "send", ("unix_stream",)),
       "FastCGI bytes nginx sent, all to named workers")
    fp = [proc_of(bt, pid) for pid in fpm.workers]
    eq(sum(socket_bytes(p, "recv", ("unix_stream",)) for p in fp),
       socket_bytes(np_, "send", ("unix_stream",)), "FastCGI bytes nginx sent = php-fpm read")
    eq(sum(socket_bytes(p, "send", ("unix_stream",)) for p in fp),
       socket_bytes(np_, "recv", ("unix_stream",)), "FastCGI bytes php-fpm sent = nginx read")
    eq([e["unseen_bytes"] for e in fcgi], [0] * len(fcgi), "nginx -> php-fpm: nothing unseen")
    # (redis's own threads wake each other through futexes: not this.)
    to_redis = [e for e in bt["edges"] if e["to"] == r.p.pid and e["kind"] == "tcp"]
    eq(sorted(e["from"] for e in to_redis if e["connections_seen"]),
       sorted(pid for pid in fpm.workers if any(e["from"] == pid for e in to_redis)),
       "edges to redis come from php-fpm workers")
    eq({e["service"] for e in to_redis}, {"tcp:127.0.0.1:%d" % r.port}, "redis by its port")
    # The php-fpm pool as one node: nginx, the pool, redis (with its own
    # threads' futexes) and the test's own client (followed at hop 1), a
    # block each, a line per service and direction.
    table = table_of(rec, "--group", "exe")
    lines = table.splitlines()
    check(len(lines) <= 60, "the table fits in 60 lines, has %d:\n%s" % (len(lines), table))
    pool = "php-fpm8.2[%s]" % ",".join(str(p) for p in sorted(fpm.workers))
    mp = map_lines(table)
    # 50 opened, 50 closed; 50 requests and responses, as nginx counted them.
    check(any(l.startswith("  nginx[%d] \u2192 %s via unix:%s: 50 conns (50 opened, 50 closed, "
                           "0 alive), 50 sends" % (n.worker, pool, fpm.sock)) and
              ", 50 exchanges, latency p50 " in l for l in mp),
          "nginx -> the pool, all 50 FastCGI connections in one line: %r" % mp)
    check(any(l.startswith("  %s \u2192 redis-server[%d] via tcp:127.0.0.1:%d: "
                           % (pool, r.p.pid, r.port)) for l in mp),
          "the pool -> redis in one line: %r" % mp)
    # The chains name the pool as the map does: one chain through it to
    # redis, whichever worker served (not one per worker), and the
    # requests before php-fpm was followed in one more, its hop named
    # from the map. Together: every request of the access log.
    rep = tmpfile("tiers-exe.json")
    eq(run([BT, "report", "--group", "exe", "-f", "json", "-o", rep, rec]).returncode, 0,
       "boundtrace report --group exe")
    with open(rep) as f:
        chains = [c for c in json.load(f)["chains"]
                  if c["source"] == "exchanges" and c["hops"][0]["to"]["pid"] == n.worker]
    summary = [(c["requests"], [(h["kind"], h["channel"], h["from"]["pid"], h["to"]["comm"],
                                 h["to"]["pid"], h["to"].get("pids"), h["calls_min"],
                                 h["calls_max"]) for h in c["hops"]])
               for c in chains]
    if VERBOSE:
        print(summary, fpm.workers)
    eq(sum(c["requests"] for c in chains), 50, "requests (the access log): %r" % summary)
    eq({(h["kind"], h["channel"], h["to"]["pid"]) for c in chains for h in c["hops"][1:2]},
       {("unix_stream", "unix:" + fpm.sock, min(fpm.workers))},
       "nginx ⇢ the php-fpm pool, named by its lowest pid: %r" % summary)
    full = [c for c in chains if len(c["hops"]) == 3]
    eq(len(full), 1, "one chain through the pool to redis: %r" % summary)
    eq(len(chains) - len(full), len([c for c in chains if len(c["hops"]) == 2 and
                                     "threads" not in c["hops"][1]["to"]]),
       "the other chain stops at php-fpm, not traced then: %r" % summary)
    seen = full[0]["hops"][1]["to"].get("pids", [min(fpm.workers)])
    check(set(seen) <= set(fpm.workers), "the pool's processes on the chain: %r" % summary)
    eq(full[0]["hops"][1]["to"].get("processes", 1), len(seen), "processes = pids")
    last = full[0]["hops"][2]
    eq((last["to"]["pid"], last["channel"], last["calls_p50"], last["calls_max"]),
       (r.p.pid, "tcp:127.0.0.1:%d" % r.port, 4, 4),
       "calls.php's 4 redis commands per request: %r" % summary)


class Postgres:
    """PostgreSQL 15 in a directory of its own, on its own port and unix
    socket directory, run as user postgres; no TCP."""

    BIN = "/usr/lib/postgresql/15/bin"

    def __init__(self):
        for prog in ("initdb", "postgres"):
            if not os.path.exists(os.path.join(self.BIN, prog)):
                raise Skip("postgresql 15 not installed (%s/%s)" % (self.BIN, prog))
        need("psql", "runuser")
        self.dir = tempfile.mkdtemp(prefix="pg", dir=TMP)  # a cluster each
        os.chmod(TMP, 0o711)  # user postgres must reach its own directory
        subprocess.run(["chown", "postgres:", self.dir], check=True)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        r = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.BIN, "initdb"),
                            "-D", self.data, "-A", "trust", "--no-sync", "-U", "postgres"],
                           capture_output=True, text=True)
        eq(r.returncode, 0, "initdb (%s)" % r.stderr[-300:])
        logpath = os.path.join(self.dir, "log")
        self.log = open(logpath, "w")
        self.p = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", os.path.join(self.BIN, "postgres"),
             "-D", self.data, "-k", self.dir, "-p", str(self.port), "-c", "listen_addresses=",
             "-c", "fsync=off"], stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.sock = os.path.join(self.dir, ".s.PGSQL.%d" % self.port)
        # The socket comes before the end of recovery: a connection then is
        # refused ("the database system is starting up").
        wait_for(lambda: os.path.exists(self.sock) and
                 "ready to accept connections" in open(logpath).read(),
                 "postgres ready (its log)", timeout=30)

    def postmaster(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def psql(self, sql):
        return "runuser -u postgres -- psql -h %s -p %d -d postgres -Atc '%s'" % (
            self.dir, self.port, sql)

    stop = Redis.stop


@test
def postgres_backend_of_an_untraced_postmaster_counted_from_the_first_byte():
    """psql traced (-c, --peers 1) against a PostgreSQL whose postmaster,
    not traced, forks a backend per connection: the backend is named (not
    the postmaster that accepted), followed, and counted from its first
    byte: the two ends of the connection agree byte for byte, nothing
    unseen."""
    pg = Postgres()
    try:
        out = tmpfile("pg.json")
        r = run([BT, "-f", "json", "-o", out, "--peers", "1", "-c",
                 pg.psql("select count(*) from generate_series(1, 20000) g, "
                         "lateral (select g) x; select repeat($$x$$, 5000)")], timeout=120)
        eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
        postmaster = pg.postmaster()
    finally:
        pg.stop()
    with open(out) as f:
        bt = json.load(f)
    procs = {p["pid"]: p for p in bt["processes"]}
    psql = [p for p in bt["processes"] if p["comm"] == "psql"]
    eq(len(psql), 1, "one psql")
    client = psql[0]["pid"]
    edges = [e for e in bt["edges"] if e["from"] == client and e["kind"] == "unix_stream"]
    eq(len(edges), 1, "psql's one edge: %r" % edges)
    e = edges[0]
    backend = e["to"]
    check(backend != postmaster, "the far end is the backend, not the postmaster %d" % postmaster)
    eq(procs[backend]["comm"], "postgres", "the backend's name")
    eq(procs[backend]["ppid"], postmaster, "the backend is the postmaster's child")
    eq(e["service"], "unix:" + pg.sock, "by the socket's path")
    eq(e["connections_seen"], 1, "one connection")
    eq(e["unseen_bytes"], 0, "nothing unseen")
    back = [x for x in bt["edges"] if x["from"] == backend and x["to"] == client]
    eq(len(back), 1, "the backend's edge back to psql")
    eq(back[0]["unseen_bytes"], 0, "nothing unseen back")
    eq(socket_bytes(procs[backend], "recv", ("unix_stream",)),
       socket_bytes(procs[client], "send", ("unix_stream",)), "bytes psql sent = the backend read")
    eq(socket_bytes(procs[backend], "send", ("unix_stream",)),
       socket_bytes(procs[client], "recv", ("unix_stream",)), "bytes the backend sent = psql read")
    check(socket_bytes(procs[client], "recv", ("unix_stream",)) > 5000, "the reply came back")
    eq(bt["lost"]["unseen_bytes"], 0, "lost.unseen_bytes")


@test
def pgbench_poll_client_chain_to_postgres_exact():
    """pgbench, a client that waits in poll() before every read and keeps
    two connections going from one thread, traced (-c, --peers 1, under
    strace) against PostgreSQL: every round trip is an exchange whether
    or not its read blocked. One chain, pgbench ⇢ the socket's path ⇢
    postgres (its backends, a pool of the postmaster's children), with a
    request for every message strace saw pgbench send less the one
    Terminate per connection that has no answer, one call each; and
    pgbench's own transaction count among them."""
    need("strace")
    pg = Postgres()
    try:
        pgbench = os.path.join(Postgres.BIN, "pgbench")
        if not os.path.exists(pgbench):
            raise Skip("pgbench not installed (postgresql-15)")
        r = run(["runuser", "-u", "postgres", "--", pgbench, "-i", "-s", "1", "-q", "-h", pg.dir,
                 "-p", str(pg.port), "postgres"], timeout=120)
        eq(r.returncode, 0, "pgbench -i (%s)" % r.stderr[-300:])
        out, st = tmpfile("pgbench.json"), tmpfile("pgbench.strace")
        txns = 300
        r = run([BT, "-f", "json", "-o", out, "--peers", "1", "-c",
                 "strace -f -qq -e trace=sendto -o %s runuser -u postgres -- %s -n -b select-only "
                 "-M simple -c 2 -j 1 -t %d -h %s -p %d postgres" % (st, pgbench, txns // 2,
                                                                     pg.dir, pg.port)],
                timeout=120)
        eq(r.returncode, 0, "boundtrace exit status (%s)" % r.stderr)
    finally:
        pg.stop()
    with open(out) as f:
        bt = json.load(f)
    eq({k: v for k, v in bt["lost"].items() if v}, {}, "nothing lost")
    client = [p for p in bt["processes"] if p["comm"] == "pgbench"]
    eq(len(client), 1, "one pgbench")
    pid = client[0]["pid"]
    # pgbench's messages by type (strace prints the first 32 bytes):
    # start-ups (no type byte), queries (Q), Terminates (X, no answer).
    kinds = {"startup": 0, "Q": 0, "X": 0, "workload": 0}
    with open(st) as f:
        for line in f:
            m = re.match(r'(\d+) +sendto\(\d+, "(\\0|Q|X)(.*)', line)
            if not m or int(m.group(1)) != pid:
                continue
            kinds["startup" if m.group(2) == "\\0" else m.group(2)] += 1
            kinds["workload"] += "SELECT abalance FROM" in m.group(3)
    eq((kinds["X"], kinds["workload"]), (3, txns),
       "strace: a Terminate per connection (the setup one and two clients'), "
       "a query per transaction")
    sends = kinds["startup"] + kinds["Q"] + kinds["X"]
    eq(sum(b["calls"] for b in client[0]["boundaries"]
           if b["kind"] == "unix_stream" and b["direction"] == "send"), sends,
       "pgbench's sends (strace's count: %r)" % kinds)
    chains = [(c["requests"], [(h["from"]["pid"], h["kind"], h["channel"], h["to"]["comm"],
                                h["calls_min"], h["calls_max"]) for h in c["hops"]])
              for c in bt["chains"] if c["hops"][0]["from"]["pid"] == pid]
    eq(chains, [(kinds["startup"] + kinds["Q"],
                 [(pid, "unix_stream", "unix:" + pg.sock, "postgres", 1, 1)])],
       "the chain: every start-up and query answered, one call to postgres each")


@test
def shared_stderr_pipe_is_not_a_conversation():
    """Two daemons share a stderr pipe inherited from their supervisor
    (cat reads it). Traced alone with --peers 1, the first daemon, which
    never writes to it, follows neither the other daemon (another writer
    is not its far end) nor the supervisor; a daemon that does write is
    followed into the supervisor, whose read counts from the first byte."""
    r, w = os.pipe()
    go = tmpfile("talker.go")
    # The supervisor is blocked in read() when the talker writes: the pipe
    # is marked at the entry of the talker's write, so its read counts.
    sup = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.DEVNULL)
    quiet = subprocess.Popen(["sleep", "60"], stderr=w, stdin=subprocess.DEVNULL)
    other = subprocess.Popen(["sleep", "60"], stderr=w, stdin=subprocess.DEVNULL)
    # It writes once both tracers are attached (its start gate), then lives on.
    talker = subprocess.Popen(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.05; done; '
                               'echo hello >&2; sleep 5', "talker", go],
                              stderr=w, stdin=subprocess.DEVNULL)
    talker.go = go
    os.close(r)
    os.close(w)

    class NoGate:
        go = tmpfile("quiet.go")
    try:
        out1, out2 = tmpfile("quiet.json"), tmpfile("talker.json")
        t1 = start_gated([BT, "-f", "json", "-o", out1, "--peers", "1", "-d", "6",
                          "-p", str(quiet.pid)], NoGate)
        t2 = run_gated([BT, "-f", "json", "-o", out2, "--peers", "1", "-d", "3",
                        "-p", str(talker.pid)], talker)
        eq(t1.wait(timeout=60), 0, "boundtrace -p quiet (%s)" % open(t1.errfile).read())
        eq(t2.returncode, 0, "boundtrace -p talker (%s)" % t2.stderr)
    finally:
        for p in (quiet, other, talker):
            p.kill()
            p.wait()
        sup.wait(timeout=10)
    with open(out1) as f:
        bt = json.load(f)
    eq(sorted((p["pid"], p["traced"]) for p in bt["processes"]), [(quiet.pid, True)],
       "only the quiet daemon: %r" % bt["processes"])
    eq(bt["edges"], [], "no edges")
    with open(out2) as f:
        bt = json.load(f)
    traced = sorted(p["pid"] for p in bt["processes"] if p["traced"])
    eq(traced, sorted([talker.pid, sup.pid]), "the talker and the supervisor it wrote to")
    e = [x for x in bt["edges"] if x["from"] == talker.pid]
    eq([(x["to"], x["calls"], x["bytes"], x["unseen_bytes"]) for x in e],
       [(sup.pid, 1, 6, 0)], "hello\\n to the supervisor, read in full")


# The traced writer: at its start gate, one write() of N bytes to stdout,
# then end of file; it lives on until the reader (pid) has exited.
PIPE_WRITER = r"""
import os, sys, time
go, n, reader = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def reader_gone():
    try:
        with open("/proc/%d/stat" % reader) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
while not os.path.exists(go):
    time.sleep(0.01)
os.write(1, b"x" * n)
os.close(1)
while not reader_gone():
    time.sleep(0.01)
"""


@test
def reader_during_a_targets_first_write_counted():
    """A traced writer's first write on a pipe is one write() of 1 MiB, 16
    times the pipe's capacity, to an untraced reader (dd, --peers 1): the
    reader's reads finish while the write is still in the kernel, before
    its exit. The pipe is marked at the write's entry, so every read
    counts: dd's own count of reads and bytes, nothing unseen."""
    size = 1 << 20
    r, w = os.pipe()
    go, bt_out, dd_err = tmpfile("writer.go"), tmpfile("bt.json"), tmpfile("dd.err")
    with open(dd_err, "w") as ef:
        reader = subprocess.Popen(["dd", "bs=65536", "of=/dev/null"], stdin=r,
                                  stdout=subprocess.DEVNULL, stderr=ef,
                                  env=dict(os.environ, LC_ALL="C"))
    writer = subprocess.Popen([sys.executable, "-c", PIPE_WRITER, go, str(size),
                               str(reader.pid)], stdin=subprocess.DEVNULL, stdout=w)
    writer.go = go
    os.close(r)
    os.close(w)
    try:
        t = run_gated([BT, "-f", "json", "-o", bt_out, "--peers", "1", "-p", str(writer.pid)],
                      writer)
        eq(writer.wait(timeout=60), 0, "writer exit status")
        eq(reader.wait(timeout=60), 0, "dd exit status")
    finally:
        for p in (reader, writer):
            if p.poll() is None:
                p.kill()
                p.wait()
    eq(t.returncode, 0, "boundtrace exit status (stderr: %s)" % t.stderr)
    with open(dd_err) as f:
        m = re.search(r"(\d+)\+(\d+) records in", f.read())
    check(m, "dd's count of records in")
    reads = int(m.group(1)) + int(m.group(2)) + 1  # and the read of the end of file
    with open(bt_out) as f:
        bt = json.load(f)
    procs = {p["pid"]: p for p in bt["processes"]}
    check(reader.pid in procs, "the reader is listed: %r" % sorted(procs))
    eq([(b["calls"], b["bytes"]) for b in procs[writer.pid]["boundaries"]
        if b["kind"] == "pipe" and b["direction"] == "send"], [(1, size)], "the one write")
    recv = [b for b in procs[reader.pid]["boundaries"]
            if b["kind"] == "pipe" and b["direction"] == "recv"]
    eq((sum(b["calls"] for b in recv), sum(b["bytes"] for b in recv)),
       (reads, size), "dd's reads and bytes, as it counted them")
    e = [(x["to"], x["calls"], x["bytes"], x["unseen_bytes"]) for x in bt["edges"]
         if x["from"] == writer.pid]
    eq(e, [(reader.pid, 1, size, 0)], "writer -> dd: 1 MiB, nothing unseen")
    eq(bt["lost"]["unseen_bytes"], 0, "lost.unseen_bytes")
