# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
What boundtrace promises in docs/RELIABILITY.md, each promise checked
against a workload that knows exactly what it did: restarted syscalls,
full maps, exit harvests, hostile names, output files, the -d/-c
lifecycle.
"""
import json
import os
import signal
import subprocess
import time

from harness import BT, ROOT, Failure, check, eq, run, test, tmpfile

SIGLOAD = os.path.join(ROOT, "build", "tools", "sigload")


def sigload(*args):
    bt_out, out = tmpfile("bt.json"), tmpfile("sig.json")
    r = run([BT, "-f", "json", "-o", bt_out, "-c",
             " ".join([SIGLOAD, *args, "--out", out])])
    eq(r.returncode, 0, "boundtrace -c sigload exit status (%s)" % r.stderr)
    with open(bt_out) as f:
        bt = json.load(f)
    with open(out) as f:
        wl = json.load(f)
    rows = [b for p in bt["processes"] if p["pid"] == wl["reader_pid"]
            for b in p["boundaries"] if b["channel"] == wl["channel"]]
    eq(len(rows), 1, "reader rows on %s" % wl["channel"])
    return rows[0], wl


@test
def restarted_read_counts_once():
    """SA_RESTART: a read interrupted while blocked is restarted by the
    kernel (ERESTARTSYS at sys_exit): the program made one call."""
    row, wl = sigload("--reads", "2000")
    eq(wl["signals"], 2000, "signals that hit a blocked read")
    eq(wl["eintr"], 0, "EINTR seen by the program")
    eq((row["calls"], row["errors"], row["bytes"]), (2000, 0, 2000),
       "reader calls, errors, bytes")


@test
def interrupted_read_without_restart_is_an_error():
    """No SA_RESTART: the same interruption is an EINTR the program sees."""
    row, wl = sigload("--reads", "2000", "--no-restart")
    eq(wl["eintr"], 2000, "EINTR seen by the program")
    eq((row["calls"], row["errors"], row["bytes"]), (4000, 2000, 2000),
       "reader calls, errors, bytes")
