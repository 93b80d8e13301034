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
    check('boundtrace_bytes_total{process="ipc-client",peer="ipc-server",kind="tcp",'
          'service="",direction="send"} 20000\n' in text, "client's 20000 bytes:\n" + text[:2000])
    om = open(out["openmetrics"]).read()
    check(om.endswith("# EOF\n") and "# TYPE boundtrace_calls counter\n" in om,
          "OpenMetrics framing")

    def series(t):
        return [l.rsplit(" ", 1)[0] for l in t.splitlines() if not l.startswith("#")]
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
        self.p.terminate()
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
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
