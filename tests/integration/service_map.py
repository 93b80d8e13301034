# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The map at service scale: far ends named by the kernel at event time
(connections far shorter than a /proc scan, servers that are not traced),
connections folded into services, and real services seen from one pid.
"""
import json
import os
import re
import subprocess
import time

from harness import BT, ROOT, Failure, check, eq, run, test, tmpfile

SVCLOAD = os.path.join(ROOT, "build", "tools", "svcload")


def svcload_traced(mode, conns=100, size=64, hold_ms=0):
    """svcload MODE: its client traced alone (-p CLIENT --peers 0), the
    server never (it stays hold_ms after the client); returns (boundtrace
    JSON, svcload report)."""
    out, err, bt_out = tmpfile("svc.json"), tmpfile("svc.err"), tmpfile("bt.json")
    with open(err, "w") as ef:
        w = subprocess.Popen([SVCLOAD, mode, "--conns", str(conns), "--size", str(size),
                              "--delay-ms", "1500", "--hold-ms", str(hold_ms), "--out", out],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
    client = None
    for _ in range(300):
        with open(err) as f:
            m = re.search(r"ready (\d+)", f.read())
        if m:
            client = int(m.group(1))
            break
        time.sleep(0.01)
    if client is None:
        w.kill()
        raise Failure("svcload did not announce itself")
    r = run([BT, "-f", "json", "-o", bt_out, "--peers", "0", "-p", str(client)])
    eq(w.wait(timeout=60), 0, "svcload exit status")
    eq(r.returncode, 0, "boundtrace exit status (stderr: %s)" % r.stderr)
    with open(bt_out) as f:
        bt = json.load(f)
    with open(out) as f:
        rep = json.load(f)
    eq(rep["client"], client, "the client announced")
    return bt, rep


def check_short_connections(mode, conns_per_edge, hold_ms=0):
    bt, rep = svcload_traced(mode, hold_ms=hold_ms)
    client, server = rep["client"], rep["server"]
    edges = [e for e in bt["edges"] if e["from"] == client]
    eq([(e["to"], e["service"]) for e in edges], [(server, rep["service"])],
       "the client's one edge: to the untraced server, by service")
    e = edges[0]
    eq(e["connections_seen"], conns_per_edge, "connections folded into the edge")
    eq(len(e["connections"]), conns_per_edge, "connections listed")
    eq(e["calls"], rep["sends"], "sends (svcload's count)")
    eq(e["bytes"], rep["sent"], "bytes sent (svcload's count)")
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
    return bt, rep


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


@test
def socketpair_far_end_named():
    """A socketpair made by the (untraced) server before it forked the
    client: the far end is the creator."""
    check_short_connections("socketpair", 1)


@test
def udp_many_client_sockets_one_server():
    """100 connected UDP sockets to one unconnected server, bound before the
    trace began (so named from sock_diag and /proc, which must still see it
    when the trace ends: the server holds on): one service."""
    check_short_connections("udp", 100, hold_ms=1500)
