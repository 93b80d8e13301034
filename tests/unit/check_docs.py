#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The installed documentation agrees with the binary: the man page renders
without a groff warning, names every option and format that --help lists,
and so does the bash completion; `make install` puts binary, man page and
completion under DESTDIR/PREFIX; --version carries the git revision.

usage: check_docs.py   (from the top of the tree, after `make boundtrace`)
"""
import os
import re
import subprocess
import sys
import tempfile

MAN = "docs/boundtrace.8"
COMPLETION = "docs/boundtrace.bash-completion"
FAILED = []
PASSED = []


def check(cond, what):
    (PASSED if cond else FAILED).append(what)
    if not cond:
        print("FAIL " + what)


def helptext(*args):
    r = subprocess.run(["./boundtrace", *args, "--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def main():
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    r = subprocess.run(["groff", "-ww", "-man", "-Tutf8", MAN], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0 and not r.stderr.strip(),
          "groff -ww renders %s without warnings: %s" % (MAN, r.stderr.strip()))
    man = open(MAN).read().replace("\\-", "-")
    completion = open(COMPLETION).read()
    for sub in ((), ("report",)):
        text = helptext(*sub)
        longs = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text))
        check(len(longs) >= (5 if sub else 15), "--help of %s lists its options (%d)"
              % (sub or "trace", len(longs)))
        for opt in sorted(longs):
            check(re.search(re.escape(opt) + r"\b", man) is not None,
                  "man page documents %s" % opt)
            check(re.search(re.escape(opt) + r"\b", completion) is not None,
                  "completion offers %s" % opt)
    fmts = re.search(r"((?:[a-z]+\|)+[a-z]+)", helptext())
    check(fmts is not None, "--help lists the formats")
    for f in fmts.group(1).split("|") if fmts else []:
        check(re.search(r"^\.B %s$" % f, man, re.M) is not None, "man page describes -f %s" % f)
        check(f in completion, "completion offers -f %s" % f)

    v = subprocess.run(["./boundtrace", "--version"], capture_output=True, text=True)
    rev = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    check(v.returncode == 0 and (not rev or rev[:7] in v.stdout),
          "--version names the git revision %s: %r" % (rev, v.stdout.strip()))

    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["make", "-s", "install", "DESTDIR=" + d, "PREFIX=/usr"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "make install: %s" % r.stderr.strip())
        for path, mode in (("usr/bin/boundtrace", 0o755),
                           ("usr/share/man/man8/boundtrace.8", 0o644),
                           ("usr/share/bash-completion/completions/boundtrace", 0o644)):
            full = os.path.join(d, path)
            ok = os.path.isfile(full) and (os.stat(full).st_mode & 0o777) == mode
            check(ok, "make install puts %s (mode %o)" % (path, mode))
    print("docs: %d passed, %d failed" % (len(PASSED), len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
