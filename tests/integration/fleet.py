# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Beyond one box: the histograms in the JSON add up to the calls; the
metrics pass promtool; a real Prometheus server scrapes --serve and its
PromQL answer is the workload's exact byte count; recordings of two
network namespaces merge into one map with the cross-host edge exact.
A missing package (prometheus, promtool) makes a skip, never a pass.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import BT, IPCLOAD, TMP, Failure, Skip, check, eq, run, test, tmpfile, traced
from services import free_port, wait_for


def need(*programs):
    for p in programs:
        if not shutil.which(p):
            raise Skip("%s not installed (make deps installs the prometheus package)" % p)


def bucket_sum(buckets):
    return sum(b["count"] for b in buckets)


@test
def histogram_buckets_sum_to_calls():
    """Every row's blocked_hist counts every call, its size_hist every
    successful one; an edge's size_hist every send it carries; exactly."""
    rows = edges = 0
    for mode, args in (("pipe", ("--count", "3000", "--size", "100", "--reply-size", "7")),
                       ("tcp", ("--count", "2000", "--size", "300", "--read-size", "4096")),
                       ("unix-dgram", ("--count", "500", "--size", "50", "--api", "mmsg"))):
        bt, _ = traced(mode, *args)
        for p in bt["processes"]:
            for b in p["boundaries"]:
                what = "pid %d %s %s %s" % (p["pid"], b["kind"], b["channel"], b["direction"])
                eq(bucket_sum(b["blocked_hist"]), b["calls"], what + " blocked_hist")
                eq(bucket_sum(b["size_hist"]), b["calls"] - b["errors"], what + " size_hist")
                rows += 1
        for e in bt["edges"]:
            eq(bucket_sum(e["size_hist"]), e["calls"], "edge %r size_hist" % e["channel"])
            edges += 1
    # pipe: request and reply pipes (4 rows, 2 edges); tcp and unix-dgram: one way.
    eq((rows, edges), (8, 4), "rows and edges checked")


@test
def promtool_checks_the_metrics():
    """promtool lints the Prometheus text format (-f prometheus, what --serve
    answers a plain scraper); -f openmetrics is the same data in OpenMetrics,
    which promtool does not parse: it ends in # EOF and names counter families
    without _total; Prometheus itself parses it in the scrape test."""
    need("promtool")
    out = {}
    for fmt in ("prometheus", "openmetrics"):
        out[fmt] = tmpfile("metrics." + fmt)
        cmd = "%s tcp --count 200 --size 100 --reply-size 10 --out /dev/null" % IPCLOAD
        r = run([BT, "-f", fmt, "-o", out[fmt], "-c", cmd])
        eq(r.returncode, 0, "boundtrace -f %s (stderr: %s)" % (fmt, r.stderr))
    with open(out["prometheus"]) as f:
        r = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True,
                           text=True)
    eq((r.returncode, r.stdout + r.stderr), (0, ""), "promtool check metrics")
    text = open(out["prometheus"]).read()
    # The service label is the map's service: the server's address and port.
    check(re.search(r'\nboundtrace_bytes_total\{process="ipc-client",peer="ipc-server",kind="tcp",'
                    r'service="tcp:127\.0\.0\.1:\d+",direction="send"\} 20000\n', text),
          "client's 20000 bytes:\n" + text[:2000])
    om = open(out["openmetrics"]).read()
    check(om.endswith("# EOF\n") and "# TYPE boundtrace_calls counter\n" in om,
          "OpenMetrics framing")

    def series(t):
        # Two runs: the server's port (in the service label) is each run's own.
        return [re.sub(r'service="tcp:127\.0\.0\.1:\d+"', 'service="tcp:127.0.0.1:PORT"',
                       l.rsplit(" ", 1)[0]) for l in t.splitlines() if not l.startswith("#")]
    check(series(om) == series(text), "the two flavors carry the same series")


class Prometheus:
    """A Prometheus server on loopback, its own port, data directory and
    configuration, scraping one target every second."""

    def __init__(self, target):
        need("prometheus")
        self.dir = tempfile.mkdtemp(prefix="bt-prom-", dir=TMP)
        self.port = free_port()
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: boundtrace\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.p = subprocess.Popen(
            ["prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + self.dir + "/data",
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_for(self.ready, "prometheus to start", timeout=30)

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=5) as r:
            return r.read().decode()

    def ready(self):
        check(self.p.poll() is None, "prometheus exited: %s" % self.logtext())
        try:
            return "Ready" in self.get("/-/ready")
        except OSError:
            return False

    def query(self, promql):
        body = json.loads(self.get("/api/v1/query?" + urllib.parse.urlencode({"query": promql})))
        eq(body["status"], "success", "query %s" % promql)
        return body["data"]["result"]

    def logtext(self):
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()[-2000:]

    def stop(self):
        # Its data directory is thrown away: no need to let it shut down cleanly.
        self.p.kill()
        self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def prometheus_scrapes_serve_exact_bytes():
    """boundtrace --serve on loopback, scraped every second by a real
    Prometheus while tools/ipcload runs over TCP; the PromQL sum of the
    client's sent bytes is what the workload says it sent."""
    need("prometheus")
    serve = "127.0.0.1:%d" % free_port()
    prom = Prometheus(serve)
    bt = None
    try:
        ipc_out, bt_out = tmpfile("prom-ipc.json"), tmpfile("prom-bt.json")
        cmd = "%s tcp --count 700 --size 123 --reply-size 5 --hold-ms 9000 --out %s" % (
            IPCLOAD, ipc_out)
        bt_err = open(tmpfile("prom-bt.err"), "w+")
        bt = subprocess.Popen([BT, "--serve", serve, "-f", "json", "-o", bt_out, "-c", cmd],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=bt_err)
        promql = 'sum(boundtrace_bytes_total{process="ipc-client",kind="tcp",direction="send"})'
        got = []

        def answered():
            check(bt.poll() is None, "boundtrace ended before Prometheus saw the bytes")
            res = prom.query(promql)
            got[:] = [r["value"][1] for r in res]
            return got == [str(700 * 123)]
        wait_for(answered, "Prometheus to scrape the workload's bytes (last answer %r)" % got,
                 timeout=8)
        up = prom.query('up{job="boundtrace"}')
        eq([r["value"][1] for r in up], ["1"], "scrape target up")
        eq(bt.wait(timeout=60), 0, "boundtrace exit status")
        with open(ipc_out) as f:
            ipc = json.load(f)
        sent = sum(b["bytes"] for p in ipc["processes"] if p["role"] == "client"
                   for b in p["boundaries"] if b["direction"] == "send")
        eq(int(got[0]), sent, "PromQL answer against the workload's own count")
        # The negotiated format was OpenMetrics (Prometheus asks for it first).
        meta = json.loads(prom.get("/api/v1/metadata?metric=boundtrace_calls"))
        check(meta["data"].get("boundtrace_calls", [{}])[0].get("type") == "counter",
              "OpenMetrics family metadata: %r" % meta["data"])
    finally:
        if bt and bt.poll() is None:
            bt.send_signal(signal.SIGINT)
            bt.wait(timeout=30)
        prom.stop()


NETPEER = os.path.join(os.path.dirname(IPCLOAD), "netpeer")


class TwoHosts:
    """Two network namespaces joined by a veth pair, 10.231.0.1/30 and
    10.231.0.2/30 (addresses that exist only inside them), each command run
    in its own UTS namespace under its own host name: two hosts as far as a
    recording can tell. Made here, removed in stop()."""

    def __init__(self):
        need("ip", "unshare")
        tag = "%d" % os.getpid()
        self.ns = ["btfa" + tag, "btfb" + tag]
        self.made = []
        try:
            for ns in self.ns:
                self.ip("netns", "add", ns)
                self.made.append(ns)
            va, vb = "btva" + tag, "btvb" + tag
            self.ip("link", "add", va, "type", "veth", "peer", "name", vb)
            for ns, dev, addr in ((self.ns[0], va, "10.231.0.1/30"),
                                  (self.ns[1], vb, "10.231.0.2/30")):
                self.ip("link", "set", dev, "netns", ns)
                self.ip("-n", ns, "addr", "add", addr, "dev", dev)
                self.ip("-n", ns, "link", "set", dev, "up")
                self.ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def ip(*args):
        r = run(["ip", *args])
        if r.returncode:
            raise Skip("cannot set up network namespaces (ip %s: %s)"
                       % (" ".join(args), r.stderr.strip()))

    def popen(self, host, hostname, argv, err):
        """argv in namespace `host` (0 or 1) under `hostname`."""
        script = 'hostname "$0" && exec "$@"'
        return subprocess.Popen(["ip", "netns", "exec", self.ns[host], "unshare", "--uts",
                                 "sh", "-c", script, hostname, *argv],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)

    def stop(self):
        # Deleting a namespace deletes the veth end in it, and with it the pair.
        for ns in self.made:
            run(["ip", "netns", "del", ns])
        self.made = []


def record_two_hosts(count, size, reply):
    """A client on host bt-fleet-a talks to a server on bt-fleet-b; each
    host records its process (--min-block 1: the receives that stitch the
    clocks). Returns (paths of the two recordings, client and server
    reports)."""
    hosts = TwoHosts()
    try:
        paths = [tmpfile("fleet-a.btrec"), tmpfile("fleet-b.btrec")]
        outs = [tmpfile("fleet-client.json"), tmpfile("fleet-server.json")]
        args = ["--count", str(count), "--size", str(size), "--reply-size", str(reply),
                "--timeout", "60"]
        cmds = ["%s client --connect 10.231.0.2:7000 %s --out %s" % (NETPEER, " ".join(args),
                                                                      outs[0]),
                "%s server --listen 10.231.0.2:7000 %s --out %s" % (NETPEER, " ".join(args),
                                                                    outs[1])]
        errs = [open(tmpfile("fleet-%d.err" % i), "w+") for i in (0, 1)]
        procs = [hosts.popen(i, "bt-fleet-" + "ab"[i],
                             [BT, "record", "-o", paths[i], "--min-block", "1", "-c", cmds[i]],
                             errs[i]) for i in (1, 0)]
        for i, p in zip((1, 0), procs):
            rc = p.wait(timeout=120)
            errs[i].seek(0)
            eq(rc, 0, "boundtrace record on host %s (stderr: %s)" % ("ab"[i], errs[i].read()))
        reports = []
        for o in outs:
            with open(o) as f:
                reports.append(json.load(f)["processes"][0])
        return paths, reports
    finally:
        hosts.stop()


@test
def merged_recordings_stitch_two_hosts():
    """Recordings of two hosts (network namespaces joined by a veth pair)
    merge into one model: host:comm names, the cross-host TCP edge in each
    direction with the workload's exact calls and bytes, the chain across
    it, and the clock offset stitched from the receives; since both
    "hosts" share one clock here, the true offset, 0, lies within the
    stated error."""
    paths, (client, server) = record_two_hosts(400, 300, 30)
    out = tmpfile("fleet-merged.json")
    r = run([BT, "report", *paths, "-f", "json", "-o", out])
    eq(r.returncode, 0, "report A B (stderr: %s)" % r.stderr)
    with open(out) as f:
        bt = json.load(f)
    names = {p["comm"]: p["pid"] for p in bt["processes"]}
    check("bt-fleet-a:net-client" in names and "bt-fleet-b:net-server" in names,
          "processes named host:comm: %r" % sorted(names))
    a, b = names["bt-fleet-a:net-client"], names["bt-fleet-b:net-server"]

    def sent(rep):
        return [(x["calls"], x["bytes"]) for x in rep["boundaries"] if x["direction"] == "send"]
    edges = {(e["from"], e["to"]): (e["calls"], e["bytes"]) for e in bt["edges"]}
    eq(sent(client), [(400, 400 * 300)], "client's own sends")
    eq(edges.get((a, b)), sent(client)[0], "edge client -> server across hosts")
    eq(edges.get((b, a)), sent(server)[0], "edge server -> client across hosts")
    eq(len(bt["edges"]), 2, "edges")
    hops = [[(h["from"]["pid"], h["to"]["pid"]) for h in c["hops"]] for c in bt["chains"]]
    check([(a, b)] in hops, "a chain from the client to the server: %r" % hops[:5])
    hosts = {h["name"]: h for h in bt["hosts"]}
    eq(sorted(hosts), ["bt-fleet-a", "bt-fleet-b"], "hosts")
    eq(hosts["bt-fleet-a"]["clock_from"], "reference", "first host's clock")
    hb = hosts["bt-fleet-b"]
    eq(hb["clock_from"], "stitched", "second host's clock from stitched receives")
    check(hb["clock_samples"] > 0 and abs(hb["clock_offset_ns"]) <= hb["clock_error_ns"],
          "the true offset (0: one machine) within the stated bound: %r" % hb)
    r = run([BT, "report", *paths])
    check(r.returncode == 0 and "bt-fleet-b: " in r.stdout and "stitched receives" in r.stdout,
          "the table shows the clock offset:\n" + r.stdout[:800])
    # One host twice: a one-line error, nothing printed.
    r = run([BT, "report", paths[0], paths[0]])
    check(r.returncode == 1 and not r.stdout and len(r.stderr.strip().splitlines()) == 1 and
          "both recorded on host bt-fleet-a" in r.stderr, "same host twice: %r" % r.stderr)
