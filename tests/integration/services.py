# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Real servers from Debian packages, started here on loopback and unix
sockets in their own directories and ports, stopped by pid, and checked
against their own statistics. A server whose package is missing makes its
test a skip (with the reason), never a pass.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from harness import BT, ROOT, TMP, VERBOSE, Failure, Skip, check, eq, test


def need(*programs):
    for p in programs:
        if not shutil.which(p):
            raise Skip("%s not installed (make deps installs it)" % p)


def need_php_module(name):
    r = subprocess.run(["php", "-m"], capture_output=True, text=True)
    if name not in r.stdout.split():
        raise Skip("php module %s not installed (make deps installs php-%s)" % (name, name))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, what, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.02)
    raise Failure("timed out waiting for " + what)


def wait_children(pid, n, what):
    """The first n children of pid, once it has that many. Each look reads
    the list afresh: accumulating looks named the first-born twice when the
    second was not forked yet at the first look (php-fpm: one worker summed
    twice, the other never traced)."""
    kids = []

    def found():
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids[:] = [int(x) for x in f.read().split()]
        return len(kids) >= n
    wait_for(found, what)
    return kids[:n]


class Tracer:
    """`boundtrace -f json -p PID ...` in the background, ended by SIGINT."""

    def __init__(self, pid, *args):
        self.out = os.path.join(TMP, "svc-bt.json")
        if os.path.exists(self.out):
            os.unlink(self.out)
        self.err = open(os.path.join(TMP, "svc-bt.err"), "w+")
        # -v: boundtrace says "tracing" once every program is attached and
        # every target is set; the first link alone is too early (a crossing
        # made then was missed: redis' first INFO request, 25 bytes).
        self.p = subprocess.Popen([BT, "-v", "-f", "json", "-o", self.out, *args, "-p", str(pid)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        wait_for(lambda: "boundtrace: tracing" in self.stderr() or self.p.poll() is not None,
                 "boundtrace to attach")
        check(self.p.poll() is None, "boundtrace exited early: %s" % self.stderr())

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        eq(self.p.wait(timeout=30), 0, "boundtrace exit status (stderr: %s)" % self.stderr())
        with open(self.out) as f:
            return json.load(f)


class Redis:
    """redis-server on its own port and unix socket, no persistence."""

    def __init__(self):
        need("redis-server", "redis-benchmark")
        self.dir = os.path.join(TMP, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "redis.sock")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.p = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--unixsocket", self.sock, "--unixsocketperm", "700", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--io-threads", "1"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_for(lambda: os.path.exists(self.sock), "redis-server's socket")

    def info_stats(self, section="stats"):
        """INFO stats (or another section) over a raw TCP connection, so the
        bytes it costs are known exactly: returns (stats, request bytes,
        reply bytes)."""
        req = b"*2\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n" % (len(section), section.encode())
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(req)
            buf = b""
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            header, rest = buf.split(b"\r\n", 1)
            check(header.startswith(b"$"), "INFO reply: %r" % header)
            size = int(header[1:])
            while len(rest) < size + 2:
                chunk = s.recv(65536)
                check(chunk, "INFO reply cut short")
                rest += chunk
        stats = {}
        for line in rest[:size].decode().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                stats[k] = v
        return stats, len(req), len(header) + 2 + size + 2

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class PhpFpm:
    """php-fpm with a static pool of `workers` on a unix socket of its own."""

    def __init__(self, workers=2):
        need("php-fpm8.2")
        self.dir = os.path.join(TMP, "php-fpm")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "fpm.sock")
        conf = os.path.join(self.dir, "php-fpm.conf")
        with open(conf, "w") as f:
            f.write(f"""[global]
pid = {self.dir}/php-fpm.pid
error_log = {self.dir}/error.log
daemonize = no
[www]
user = root
listen = {self.sock}
listen.mode = 0600
pm = static
pm.max_children = {workers}
catch_workers_output = no
""")
        self.log = open(os.path.join(self.dir, "stderr"), "w")
        self.p = subprocess.Popen(["php-fpm8.2", "-R", "-y", conf, "-F"], stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=self.log)
        wait_for(lambda: os.path.exists(self.sock), "php-fpm's socket")
        self.workers = wait_children(self.p.pid, workers, "php-fpm's workers")

    # accept and accept4, where an idle worker waits for the next request.
    ACCEPT_NRS = {"x86_64": ("43", "288"), "aarch64": ("202", "242")}

    def wait_idle(self):
        """Every worker back in accept(). A worker finishes a request after
        nginx has its answer: it shuts the connection down and reads what
        nginx sent last (the closing FCGI_STDIN record), so a trace stopped
        before that misses those bytes."""
        nrs = self.ACCEPT_NRS.get(os.uname().machine)
        if nrs is None:
            raise Skip("no accept syscall numbers for " + os.uname().machine)

        def idle(pid):
            with open("/proc/%d/syscall" % pid) as f:
                return f.read().split(" ", 1)[0] in nrs
        wait_for(lambda: all(idle(w) for w in self.workers), "php-fpm workers back in accept()")

    stop = Redis.stop


def proc_of(bt, pid):
    procs = [p for p in bt["processes"] if p["pid"] == pid]
    check(len(procs) == 1, "pid %d appears %d times in boundtrace output" % (pid, len(procs)))
    return procs[0]


def socket_bytes(proc, direction, kinds=("tcp", "unix_stream")):
    return sum(b["bytes"] for b in proc["boundaries"]
               if b["kind"] in kinds and b["direction"] == direction)


def check_redis_bytes(proc, before, req1, after, reply2):
    """redis-server's socket rows (proc) hold every byte redis says it read
    and wrote between two INFO stats snapshots; returns those counts."""
    # Redis counts a read when it happens and a reply when it is written:
    # the first INFO's request was read before its snapshot, the second
    # INFO's reply written after its own.
    read = int(after["total_net_input_bytes"]) - int(before["total_net_input_bytes"]) + req1
    wrote = int(after["total_net_output_bytes"]) - int(before["total_net_output_bytes"]) + reply2
    eq(socket_bytes(proc, "recv"), read, "bytes redis-server read (its own total_net_input_bytes)")
    eq(socket_bytes(proc, "send"), wrote, "bytes redis-server wrote (its own total_net_output_bytes)")
    return read, wrote


@test
def redis_server_bytes_match_its_own_stats():
    """redis-server traced with -p while redis-benchmark runs over its unix
    socket: every byte redis says it read and wrote (INFO stats, taken over
    TCP before and after) is in boundtrace's rows, exactly."""
    r = Redis()
    try:
        t = Tracer(r.p.pid, "--peers", "0")
        before, req1, reply1 = r.info_stats()
        b = subprocess.run(["redis-benchmark", "-s", r.sock, "-c", "1", "-n", "2000",
                            "-t", "set", "-q"], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        eq(b.returncode, 0, "redis-benchmark exit status (%s)" % b.stderr)
        after, req2, reply2 = r.info_stats()
        bt = t.stop()
    finally:
        r.stop()
    proc = proc_of(bt, r.p.pid)
    read, wrote = check_redis_bytes(proc, before, req1, after, reply2)
    check(read > 2000 * 40 and wrote >= 2000 * 5, "redis counted %d in, %d out" % (read, wrote))
    eq(proc["comm"], "redis-server", "comm")
    eq(bt["lost"]["map_full"], 0, "lost.map_full")
    eq(bt["lost"]["events"], 0, "lost.events")


@test
def redis_sockets_only_far_ends_from_their_first_byte():
    """redis-server traced with --sockets-only -p (the far ends found by
    --peers 1, none a target when it connects) while redis-benchmark runs
    4 connections over the unix socket, then over TCP: redis's own byte
    counts (INFO stats) are its rows' exactly; the clients' sends are what
    redis read from them, from each connection's first byte (none unseen);
    redis's exchanges are the SETs it counted (INFO commandstats)."""
    r = Redis()
    n = 1000
    try:
        t = Tracer(r.p.pid, "--sockets-only")
        before, req1, _ = r.info_stats()
        cmds0, _, _ = r.info_stats("commandstats")
        for where in (["-s", r.sock], ["-h", "127.0.0.1", "-p", str(r.port)]):
            b = subprocess.run(["redis-benchmark", *where, "-c", "4", "-n", str(n),
                                "-t", "set", "-q"], capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL)
            eq(b.returncode, 0, "redis-benchmark exit status (%s)" % b.stderr)
        cmds1, _, _ = r.info_stats("commandstats")
        after, _, reply2 = r.info_stats()
        bt = t.stop()
    finally:
        r.stop()
    proc = proc_of(bt, r.p.pid)
    eq(bt.get("sockets_only"), True, "sockets_only")
    check_redis_bytes(proc, before, req1, after, reply2)
    bench = [p["pid"] for p in bt["processes"] if p["comm"] == "redis-benchmark"]
    eq(len(bench), 2, "redis-benchmark processes found as far ends")
    for kind in ("unix_stream", "tcp"):
        into = [e for e in bt["edges"] if e["to"] == r.p.pid and e["kind"] == kind and
                e["from"] in bench]
        eq(len(into), 1, "%s edges from redis-benchmark" % kind)
        recv = sum(b["bytes"] for b in proc["boundaries"] if b["kind"] == kind and
                   b["direction"] == "recv" and b.get("peer", {}).get("pid") in bench)
        eq(into[0]["bytes"], recv, "%s: bytes redis-benchmark sent, as redis read them" % kind)
        eq(into[0]["unseen_bytes"], 0, "%s: bytes unseen at the far end" % kind)
        check(into[0]["connections_seen"] >= 4, "%s connections: %r" % (kind, into[0]))

    def calls(stats, cmd):
        v = stats.get("cmdstat_" + cmd, "calls=0")
        return int(v.split("calls=")[1].split(",")[0])

    eq(calls(cmds1, "set") - calls(cmds0, "set"), 2 * n, "SET calls (redis's own count)")
    served = sum(b.get("exchanges", {}).get("count", 0) for b in proc["boundaries"]
                 if b["direction"] == "send" and b.get("peer", {}).get("pid") in bench)
    # Its CONFIG GETs at start (redis 7 counts them as "config|get"); INFO came from this test.
    others = sum(calls(cmds1, c[len("cmdstat_"):]) - calls(cmds0, c[len("cmdstat_"):])
                 for c in cmds1 if c.startswith("cmdstat_") and c not in ("cmdstat_set",
                                                                          "cmdstat_info"))
    # Each run sends its two CONFIG GETs at once: one exchange (pipelined requests are one).
    eq(others, 4, "redis's other commands from redis-benchmark (CONFIG GET, two a run)")
    eq(served, 2 * n + 2, "exchanges redis-server served redis-benchmark")
    eq({k: v for k, v in bt["lost"].items() if v}, {}, "lost")


@test
def redis_sockets_only_far_end_not_a_reused_sockets_owner():
    """--sockets-only --peers 0 hooks no socket(), accept() or connect():
    a client's socket whose kernel address redis's closed sockets held
    before is not credited to redis. 20 connections made and closed, then
    10 more: their edge is redis-server → redis-benchmark, never redis to
    itself (each new socket may take a closed one's address: the check of
    the owner's inode failing, 1,494 and 1,907 calls went to redis
    itself), and every exchange is on it."""
    r = Redis()
    try:
        t = Tracer(r.p.pid, "--sockets-only", "--peers", "0")
        for args in (["-c", "20", "-n", "2000", "-t", "ping_inline"],
                     ["-c", "10", "-n", "3000", "-t", "set"]):
            b = subprocess.run(["redis-benchmark", "-s", r.sock, *args, "-q"],
                               capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            eq(b.returncode, 0, "redis-benchmark exit status (%s)" % b.stderr)
        bt = t.stop()
    finally:
        r.stop()
    names = {p["pid"]: p["comm"] for p in bt["processes"]}
    edges = [(names.get(e["from"]), names.get(e["to"]), e["calls"]) for e in bt["edges"]]
    eq([e for e in edges if e[0] == e[1]], [], "edges from a process to itself")
    out = [e for e in bt["edges"] if e["from"] == r.p.pid]
    eq(sorted({names.get(e["to"]) for e in out}), ["redis-benchmark"], "redis's far ends: %r" % edges)
    eq(sum(e.get("exchanges", {}).get("count", 0) for e in out), 2000 + 3000 + 2,
       "exchanges redis served (2000 PINGs, 3000 SETs, each run's two CONFIG GETs sent "
       "at once): %r" % edges)


class Nginx:
    """nginx, one worker, serving a directory of its own on a loopback port;
    its access log records every request's length and bytes sent."""

    def __init__(self, extra="", http_extra=""):
        need("nginx")
        self.dir = os.path.join(TMP, "nginx")
        www = os.path.join(self.dir, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("boundtrace\n" * 300)
        self.port = free_port()
        self.access = os.path.join(self.dir, "access.log")
        conf = os.path.join(self.dir, "nginx.conf")
        d = self.dir
        with open(conf, "w") as f:
            f.write(f"""
daemon off; master_process on; worker_processes 1; user root;
pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    log_format counts '$request_length $bytes_sent';
    access_log {self.access} counts;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    sendfile on;
    {http_extra}
    server {{ listen 127.0.0.1:{self.port}; root {www}; {extra} }}
}}
""")
        self.log = open(os.path.join(self.dir, "stderr"), "w")
        self.p = subprocess.Popen(["nginx", "-p", self.dir, "-c", conf],
                                  stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_for(self.listening, "nginx to listen")
        self.worker = wait_children(self.p.pid, 1, "nginx's worker")[0]

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port)).close()
            return True
        except OSError:
            return False

    def www(self, name, text):
        with open(os.path.join(self.dir, "www", name), "w") as f:
            f.write(text)

    def get(self, path="/index.html"):
        req = ("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode()
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(req)
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return got
                got += chunk

    def logged(self):
        with open(self.access) as f:
            return [tuple(int(x) for x in line.split()) for line in f]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@test
def nginx_worker_bytes_match_its_access_log():
    """An nginx worker traced with -p while 50 requests arrive, one
    connection each: its socket bytes are, exactly, the request lengths
    and the bytes sent that its access log records."""
    n = Nginx()
    try:
        with open(n.access, "w"):
            pass  # the readiness probe's connection logged nothing, but be sure
        t = Tracer(n.worker, "--peers", "0")
        for _ in range(50):
            reply = n.get()
            check(reply.startswith(b"HTTP/1.1 200"), "nginx reply: %r" % reply[:40])
        wait_for(lambda: len(n.logged()) == 50, "50 access log lines")
        bt = t.stop()
    finally:
        n.stop()
    log = n.logged()
    proc = proc_of(bt, n.worker)
    eq(proc["comm"], "nginx", "comm")
    eq(socket_bytes(proc, "recv"), sum(r for r, _ in log), "bytes read ($request_length summed)")
    eq(socket_bytes(proc, "send"), sum(s for _, s in log), "bytes sent ($bytes_sent summed)")
    eq(bt["lost"]["map_full"], 0, "lost.map_full")
    eq(bt["lost"]["events"], 0, "lost.events")


class Tiers:
    """nginx -> php-fpm (unix socket, 2 workers) -> redis (TCP): calls.php
    connects to redis anew and makes 3 INCRs and a GET per request; the
    access log starts empty."""

    def __init__(self):
        need("nginx", "php-fpm8.2", "php", "redis-server")
        need_php_module("redis")
        self.redis = Redis()
        self.fpm = self.nginx = None
        try:
            self.fpm = PhpFpm()
            self.nginx = Nginx("location ~ \\.php$ { include /etc/nginx/fastcgi.conf; "
                               "fastcgi_pass unix:%s; }" % self.fpm.sock)
            self.nginx.www("calls.php",
                           "<?php $r = new Redis(); $r->connect('127.0.0.1', %d);\n"
                           "for ($i = 0; $i < 3; $i++) $r->incr('hits');\n"
                           "echo 'hits ', $r->get('hits'), \"\\n\";\n" % self.redis.port)
            with open(self.nginx.access, "w"):
                pass
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for s in (self.nginx, self.fpm, self.redis):
            if s:
                s.stop()


@test
def nginx_php_fpm_redis_every_tier_exact():
    """nginx -> php-fpm (unix socket, 2 workers) -> redis (TCP, a new
    connection and 3 INCRs per request), 30 requests, every tier traced
    with -p: the client side of nginx matches its access log, redis matches
    its own INFO (commands and bytes), and the two ends of the FastCGI
    socket agree byte for byte."""
    tiers = Tiers()
    r, fpm, n = tiers.redis, tiers.fpm, tiers.nginx
    try:
        pids = [n.worker, *fpm.workers, r.p.pid]
        # A pid named twice is one process summed twice and another untraced.
        eq(len(set(pids)), 4, "distinct pids traced (%r)" % pids)
        t = Tracer(pids[0], "--peers", "0", *[a for pid in pids[1:] for a in ("-p", str(pid))])
        before, req1, reply1 = r.info_stats()
        for _ in range(30):
            reply = n.get("/calls.php")
            check(reply.startswith(b"HTTP/1.1 200") and b"hits " in reply,
                  "nginx reply: %r" % reply[-300:])
        wait_for(lambda: len(n.logged()) == 30, "30 access log lines")
        fpm.wait_idle()
        after, req2, reply2 = r.info_stats()
        bt = t.stop()
    finally:
        tiers.stop()
    # Each request made 4 commands (3 INCR and a GET); INFO #1 counts, #2 not yet.
    eq(int(after["total_commands_processed"]) - int(before["total_commands_processed"]),
       30 * 4 + 1, "redis commands (its own count)")
    read = int(after["total_net_input_bytes"]) - int(before["total_net_input_bytes"]) + req1
    wrote = int(after["total_net_output_bytes"]) - int(before["total_net_output_bytes"]) + reply2
    rp = proc_of(bt, r.p.pid)
    eq(socket_bytes(rp, "recv"), read, "bytes redis-server read (its own count)")
    eq(socket_bytes(rp, "send"), wrote, "bytes redis-server wrote (its own count)")
    log = n.logged()
    np_ = proc_of(bt, n.worker)
    eq(socket_bytes(np_, "recv", ("tcp",)), sum(x for x, _ in log), "nginx: bytes from clients")
    eq(socket_bytes(np_, "send", ("tcp",)), sum(x for _, x in log), "nginx: bytes to clients")
    fp = [proc_of(bt, pid) for pid in fpm.workers]
    eq(sum(socket_bytes(p, "recv", ("unix_stream",)) for p in fp),
       socket_bytes(np_, "send", ("unix_stream",)), "FastCGI bytes nginx sent = php-fpm read")
    eq(sum(socket_bytes(p, "send", ("unix_stream",)) for p in fp),
       socket_bytes(np_, "recv", ("unix_stream",)), "FastCGI bytes php-fpm sent = nginx read")
    eq(sum(socket_bytes(p, "send", ("tcp",)) for p in fp), read - req1 - req2,
       "bytes php-fpm sent redis = what redis read of them")
    eq(sum(socket_bytes(p, "recv", ("tcp",)) for p in fp), wrote - reply1 - reply2,
       "bytes php-fpm read from redis = what redis wrote to them")
    eq(bt["lost"]["map_full"], 0, "lost.map_full")
    eq(bt["lost"]["events"], 0, "lost.events")


def chain_tiers(chain):
    return [h["to"]["comm"] for h in chain["hops"]]


@test
def nginx_php_fpm_redis_chain_from_the_front():
    """The chain through nginx -> php-fpm (FastCGI on a kept-alive unix
    connection) -> redis (a persistent TCP connection, 3 INCRs and a GET per
    request), found from `-p` of the nginx worker alone (--peers 2 follows
    the connections): one chain (clients not traced) ⇢ nginx ⇢ php-fpm ⇢
    redis-server with exactly the requests nginx logged, one FastCGI call
    per request and exactly the commands per request redis counted."""
    need("nginx", "php-fpm8.2", "php", "redis-server")
    need_php_module("redis")
    r = Redis()
    fpm = n = None
    requests = 30
    try:
        fpm = PhpFpm(workers=1)
        n = Nginx("location ~ \\.php$ { include /etc/nginx/fastcgi.conf; "
                  "fastcgi_keep_conn on; fastcgi_pass fpm; }",
                  http_extra="upstream fpm { server unix:%s; keepalive 2; }" % fpm.sock)
        n.www("calls.php", "<?php $r = new Redis(); $r->pconnect('127.0.0.1', %d);\n"
                           "for ($i = 0; $i < 3; $i++) $r->incr('hits');\n"
                           "echo 'hits ', $r->get('hits'), \"\\n\";\n" % r.port)
        # Warm up: the FastCGI and redis connections exist before the trace,
        # so following the front's peers finds php-fpm, then redis.
        for _ in range(2):
            check(n.get("/calls.php").startswith(b"HTTP/1.1 200"), "warm-up request")
        with open(n.access, "w"):
            pass
        t = Tracer(n.worker, "--peers", "2")
        # Peer discovery follows php-fpm, then redis (two hops, a round
        # each, 500 ms apart): a request while one of them is not followed
        # yet would be seen in part.
        wait_for(lambda: all("following peer %s[%d]" % (comm, pid) in t.stderr()
                             for comm, pid in (("php-fpm8.2", fpm.workers[0]),
                                               ("redis-server", r.p.pid))),
                 "php-fpm and redis followed")
        before, _, _ = r.info_stats()
        for _ in range(requests):
            reply = n.get("/calls.php")
            check(reply.startswith(b"HTTP/1.1 200") and b"hits " in reply,
                  "nginx reply: %r" % reply[-300:])
        wait_for(lambda: len(n.logged()) == requests, "access log lines")
        after, _, _ = r.info_stats()
        bt = t.stop()
    finally:
        for s in (n, fpm, r):
            if s:
                s.stop()
    # INFO #1 is counted in #2's figure; the rest are the requests' commands:
    # 3 INCR, a GET, and what the persistent connection costs (phpredis checks
    # a reused connection with a PING each request).
    commands = int(after["total_commands_processed"]) - int(before["total_commands_processed"]) - 1
    per = commands // requests
    eq(commands, per * requests, "redis commands (its own count) are per request alike")
    check(per >= 4, "redis commands per request: %d" % per)
    eq(len(n.logged()), requests, "requests in nginx's access log")
    chains = [c for c in bt["chains"] if c["source"] == "exchanges" and
              chain_tiers(c) == ["nginx", "php-fpm8.2", "redis-server"]]
    eq(len(chains), 1, "one chain nginx ⇢ php-fpm ⇢ redis: %r"
       % [(chain_tiers(c), c.get("requests")) for c in bt["chains"]])
    c = chains[0]
    # The client is this test: named from the map, and followed at a
    # discovery round while it made its requests or not (nginx's end timed
    # those before): one chain either way.
    eq(c["hops"][0]["from"]["pid"], os.getpid(), "the entry tier's client: this test")
    eq(c["hops"][0]["to"]["pid"], n.worker, "entry tier: the nginx worker")
    eq(c["requests"], requests, "requests (nginx's access log); chains %r; rows %r"
       % ([(chain_tiers(x), x.get("requests"), [h["calls"] for h in x["hops"]])
           for x in bt["chains"]],
          [(p["comm"], b["channel"], b["direction"], b["calls"], b.get("role"),
            b.get("exchanges", {}).get("count")) for p in bt["processes"]
           for b in p["boundaries"] if b["kind"] == "unix_stream"]))
    to_fpm, to_redis = c["hops"][1], c["hops"][2]
    eq((to_fpm["calls_min"], to_fpm["calls_max"], to_fpm["calls"]), (1, 1, requests),
       "FastCGI calls per request (min, max, total)")
    eq((to_redis["calls_min"], to_redis["calls_p50"], to_redis["calls_max"], to_redis["calls"]),
       (per, per, per, commands), "redis calls per request (min, p50, max, total = redis's count)")
    eq(bt["lost"]["exchanges"], 0, "lost.exchanges")


@test
def redis_exchanges_match_its_command_count():
    """redis-server (an event loop) traced with -p while redis-benchmark
    sends 2000 SETs one at a time over its unix socket: the connection that
    carried them has exactly as many exchanges on redis's side as redis
    counted SET calls (INFO commandstats), and the chain (clients not
    traced) ⇢ redis-server holds every exchange redis served."""
    r = Redis()
    n = 2000
    try:
        t = Tracer(r.p.pid, "--peers", "0")
        before, _, _ = r.info_stats("commandstats")
        b = subprocess.run(["redis-benchmark", "-s", r.sock, "-c", "1", "-n", str(n),
                            "-t", "set", "-q"], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        eq(b.returncode, 0, "redis-benchmark exit status (%s)" % b.stderr)
        after, _, _ = r.info_stats("commandstats")
        bt = t.stop()
    finally:
        r.stop()

    def calls(stats, cmd):
        v = stats.get("cmdstat_" + cmd, "calls=0")
        return int(v.split("calls=")[1].split(",")[0])

    sets = calls(after, "set") - calls(before, "set")
    eq(sets, n, "SET calls (redis's own count)")
    proc = proc_of(bt, r.p.pid)
    rows = [(b["channel"], b["direction"], b.get("role"), b.get("exchanges", {}).get("count", 0))
            for b in proc["boundaries"]]
    sends = [b for b in proc["boundaries"] if b["direction"] == "send"]
    eq(sorted({b.get("role") for b in sends}), ["server"], "redis's ends are servers: %r" % rows)
    busiest = max(sends, key=lambda b: b["calls"])
    eq(busiest["exchanges"]["count"], sets, "exchanges on the SET connection: %r" % rows)
    total = sum(b.get("exchanges", {}).get("count", 0) for b in sends)
    chains = [c for c in bt["chains"] if c["source"] == "exchanges"]
    eq(sorted({tuple(chain_tiers(c)) for c in chains}), [("redis-server",)], "chain tiers")
    eq(sum(c["requests"] for c in chains), total, "requests in redis's chains")


class NodeTier:
    """One tier of tools/nodetier.js (node's own HTTP server on its event
    loop) on a free port: `back`, or `front` making `calls` sequential GETs
    to the back per request. stop() gives what it served (its own count)."""

    def __init__(self, mode, *args):
        need("node")
        self.port = free_port()
        self.p = subprocess.Popen(["node", os.path.join(ROOT, "tools", "nodetier.js"), mode,
                                   str(self.port), *map(str, args)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        eq(self.p.stdout.readline().strip(), "ready", "nodetier %s says ready" % mode)

    def stop(self):
        if self.p.poll() is not None:
            return None
        self.p.terminate()
        out = self.p.stdout.read()
        self.p.wait(timeout=10)
        return json.loads(out)["served"]


# A client with `conc` kept-alive connections to the port, each in its own
# thread: it connects and makes one warm-up request on each (all at once, so
# the front opens as many connections to its back), says "ready", waits for
# a line on stdin, then makes `n` requests in all (n / conc on each) and
# prints how many were answered 200.
NODE_CLIENT = r"""
import http.client, sys, threading
port, conc, n = map(int, sys.argv[1:])
conns = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(conc)]
ok = [0] * conc
def get(i, times):
    for _ in range(times):
        conns[i].request("GET", "/")
        r = conns[i].getresponse()
        r.read()
        ok[i] += r.status == 200
def all_at_once(times):
    ts = [threading.Thread(target=get, args=(i, times)) for i in range(conc)]
    [t.start() for t in ts]
    [t.join() for t in ts]
all_at_once(1)
print("ready", sum(ok), flush=True)
sys.stdin.readline()
ok[:] = [0] * conc
all_at_once(n // conc)
print(sum(ok), flush=True)
"""


def run_node_client(client):
    """Tells a node test client to go; how many requests it had answered."""
    client.stdin.write("go\n")
    client.stdin.flush()
    answered = int(client.stdout.readline())
    eq(client.wait(timeout=30), 0, "client exit status")
    time.sleep(0.3)
    return answered


def stop_node_tiers(client, front, back):
    """Stops the client (if still running) and the tiers; what each tier served."""
    if client and client.poll() is None:
        client.kill()
        client.wait()
    return (front.stop() if front else None), back.stop()


def node_tiers_chain(conc):
    """node front ⇢ node back (tools/nodetier.js, CALLS kept-alive GETs per
    request), traced with -p of the front and --peers 2; a python client
    with `conc` kept-alive connections, open (and warmed up) before the
    trace, so it is followed from its first request."""
    calls, n = 3, 200
    back = NodeTier("back")
    front = client = None
    try:
        front = NodeTier("front", back.port, calls)
        client = subprocess.Popen([sys.executable, "-c", NODE_CLIENT, str(front.port), str(conc),
                                   str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        eq(client.stdout.readline().split(), ["ready", str(conc)], "client's warm-up requests")
        t = Tracer(front.p.pid, "--peers", "2")
        # The client and the back are followed (-v says so) from the
        # front's connections at a discovery round. Nothing crosses until
        # then, so a round that finds nothing new backs off (scans at 0,
        # 0.5, 1.5, 3.5, 7.5, 15.5 s): once in CI the first ones did not
        # name them within 10 s. 20 s covers the 15.5 s scan, and a miss
        # says what the tracer said.
        try:
            wait_for(lambda: all("following peer %s[%d]" % (comm, pid) in t.stderr()
                                 for comm, pid in (("python3", client.pid),
                                                   ("node", back.p.pid))),
                     "the client and the back followed", timeout=20.0)
        except Failure as e:
            raise Failure("%s; tracer said:\n%s" % (e, t.stderr()[-3000:]))
        answered = run_node_client(client)
        bt = t.stop()
    finally:
        served_front, served_back = stop_node_tiers(client, front, back)
    eq(answered, n, "requests the client had answered")
    eq(served_front, conc + n, "requests the front served (its own count, with warm-ups)")
    eq(served_back, (conc + n) * calls, "requests the back served (its own count, with warm-ups)")
    # no_entry: the calls each process was in when it was followed (an
    # epoll_wait, the client's read of its stdin), not data lost.
    eq({k: v for k, v in bt["lost"].items() if v and k != "no_entry"}, {}, "lost")
    eq(bt.get("exchanges_late", 0), 0, "exchanges_late")
    # Two tiers of one program under one parent are two nodes of the map,
    # though their connections were opened before the trace.
    eq({(e["from"], e["to"], e["calls"]) for e in bt["edges"]
        if e["service"] == "tcp:127.0.0.1:%d" % back.port},
       {(front.p.pid, back.p.pid, n * calls), (back.p.pid, front.p.pid, n * calls)},
       "front <-> back in the map (a response per request)")
    chains = [c for c in bt["chains"] if c["source"] == "exchanges"]
    summary = [(c.get("requests"), [(h["from"]["comm"], h["from"]["pid"], h["to"]["comm"],
                                     h["to"]["pid"], h["calls_min"], h["calls_p50"],
                                     h["calls_max"], h["calls"], h["ambiguous"]) for h in c["hops"]])
               for c in chains]
    # Every chain starts at the client's requests to the front: the
    # requests of all of them are the client's count, the calls to the back
    # the back's own count.
    eq([(h["from"]["pid"], h["to"]["pid"]) for c in chains for h in c["hops"][:1]],
       [(client.pid, front.p.pid)] * len(chains), "every chain from client to front: %r" % summary)
    eq(sum(c["requests"] for c in chains), n, "requests (the client's count): %r" % summary)
    deep = [c for c in chains if len(c["hops"]) > 1]
    eq(len(deep), 1, "one chain reaches the back: %r" % summary)
    c = deep[0]
    eq([(h["from"]["pid"], h["to"]["pid"]) for h in c["hops"]],
       [(client.pid, front.p.pid), (front.p.pid, back.p.pid)], "client ⇢ front ⇢ back: %r" % summary)
    to_back = c["hops"][1]
    eq(to_back["calls"], n * calls, "calls to the back (the back's own count)")
    eq(bt["exchanges_ambiguous"], to_back["ambiguous"], "ambiguous calls are this hop's")
    if conc == 1:
        # One request in flight at a time: no call has two it could belong to.
        eq(to_back["ambiguous"], 0, "ambiguous calls, one connection")
    # Calls nested in a guess among open requests may sit in another open
    # request of the loop: then only the totals and the median are exact,
    # and a request whose calls all went to others is a chain of its own
    # (one per such request at most, never one with calls taken by guess).
    if not to_back["ambiguous"]:
        eq(len(chains), 1, "one chain: %r" % summary)
        eq((to_back["calls_min"], to_back["calls_max"]), (calls, calls),
           "calls to the back per request (min, max)")
    else:
        check(n - c["requests"] <= to_back["ambiguous"],
              "requests left without calls (%d), at most one per ambiguous call (%d): %r"
              % (n - c["requests"], to_back["ambiguous"], summary))
    eq(to_back["calls_p50"], calls, "calls to the back per request (p50)")
    if VERBOSE:
        print(summary, to_back["ambiguous"])
    return bt


# A client that connects once told to (a line on stdin), then makes `n`
# requests on one kept-alive connection, `pause_ms` apart, and prints how
# many were answered 200.
LATE_CLIENT = r"""
import http.client, sys, time
port, n, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
sys.stdin.readline()
c = http.client.HTTPConnection("127.0.0.1", port)
ok = 0
for _ in range(n):
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    ok += r.status == 200
    time.sleep(pause)
print(ok, flush=True)
"""


@test
def late_found_client_one_chain():
    """A client that connects after the trace began, to a node front (-p,
    --peers 2) that calls a node back 3 times per request: its first
    requests come before discovery follows it (the front's end timed them,
    their client not traced), the rest after. The map names the client of
    the first ones, so the two parts are one chain, client ⇢ front ⇢
    back, with every request the client made and 3 calls each."""
    calls, n = 3, 300
    back = NodeTier("back")
    front = client = None
    try:
        front = NodeTier("front", back.port, calls)
        # One request before the trace: the front's kept-alive connection to
        # the back exists, so the back is followed first and only the client
        # is found late.
        warm = http.client.HTTPConnection("127.0.0.1", front.port)
        warm.request("GET", "/", headers={"Connection": "close"})
        eq(warm.getresponse().status, 200, "warm-up request")
        warm.close()
        t = Tracer(front.p.pid, "--peers", "2")
        wait_for(lambda: "following peer node[%d]" % back.p.pid in t.stderr(), "the back followed")
        client = subprocess.Popen([sys.executable, "-c", LATE_CLIENT, str(front.port), str(n), "5"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        answered = run_node_client(client)
        followed = "following peer python3[%d]" % client.pid in t.stderr()
        bt = t.stop()
    finally:
        served_front, served_back = stop_node_tiers(client, front, back)
    eq((answered, served_front, served_back), (n, n + 1, (n + 1) * calls),
       "requests answered, served by the front and the back (their own counts, with the warm-up)")
    check(followed, "the client was followed while it made its requests")
    eq({k: v for k, v in bt["lost"].items() if v and k != "no_entry"}, {}, "lost")
    eq(bt.get("exchanges_late", 0), 0, "exchanges_late")
    # One request in flight at a time: a root per request; the client's
    # paired records beyond the front's calls are the requests it timed.
    eq(bt["exchanges_roots"], n, "one root per request")
    timed = bt["exchanges_paired"] - n * calls
    check(0 < timed < n, "requests timed by the client (%d of %d): some before it was "
          "followed, some after" % (timed, n))
    chains = [c for c in bt["chains"] if c["source"] == "exchanges"]
    summary = [(c["requests"], [(h["from"]["pid"], h["from"].get("threads"), h["to"]["pid"],
                                 h["calls_min"], h["calls_max"], h["calls"]) for h in c["hops"]])
               for c in chains]
    eq(len(chains), 1, "one chain: %r" % summary)
    c = chains[0]
    eq([(h["from"]["pid"], h["to"]["pid"]) for h in c["hops"]],
       [(client.pid, front.p.pid), (front.p.pid, back.p.pid)], "client ⇢ front ⇢ back: %r" % summary)
    eq((c["requests"], c["hops"][0]["from"]["threads"]), (n, 1),
       "every request, the client's thread traced for some: %r" % summary)
    to_back = c["hops"][1]
    eq((to_back["calls"], to_back["calls_min"], to_back["calls_max"], to_back["ambiguous"]),
       (n * calls, calls, calls, 0), "3 calls to the back per request: %r" % summary)


@test
def node_tiers_one_connection_chain_exact():
    """A client on one kept-alive connection through a node front (an
    event loop on one thread) to a node back: one request in flight at a
    time, so every call nests in the request it served."""
    node_tiers_chain(1)


@test
def node_tiers_four_connections_chain_exact():
    """Four requests in flight on the front's one event-loop thread: it reads
    several sockets in one epoll batch before it runs their callbacks, so
    each call has to be nested by connection and time, not by the thread's
    last read."""
    node_tiers_chain(4)
