#!/usr/bin/env python3
"""run-corpus.py - runs flowaudit -r on every capture of the malformed corpus
and checks its exit status and summary against EXPECTED.

Usage: run-corpus.py FLOWAUDIT CORPUS_DIR EXPECTED [--valgrind [--skip=REASON]]

With --valgrind each run is under valgrind; a memory error or a definite
leak fails the run. It exits 77 (ctest's skip) when valgrind is not
installed, or with --skip=REASON, which the build gives when valgrind cannot
run this FLOWAUDIT (an ASan build; clang's DWARF 5 debug information).
Exit status: 0 all passed, 1 a check failed, 77 skipped.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

VALGRIND = ["valgrind", "-q", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def read_expected(path):
    cases = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = shlex.split(line, comments=True)
            if words:
                cases.append((lineno, words[0], int(words[1]), words[2:]))
    return cases


def summary_value(out, key):
    """The number the summary shows for key, or None when it shows none."""
    patterns = {
        "packets": r"^input\s+\d+ files?, (\d+) packets",
        "decoded": r"^decoded\s+(\d+) packets",
        "truncated": r"^decoded\s+\d+ packets; skipped \d+ not IP, (\d+) truncated",
        "malformed": r"^decoded\s+.*, (\d+) malformed",
    }
    pattern = patterns.get(key, r"^\s+" + re.escape(key) + r"\s+(\d+)\b")
    m = re.search(pattern, out, re.M)
    return int(m.group(1)) if m else None


def check(out, status, want_status, checks):
    """Returns the list of failed checks (empty when all hold)."""
    failed = []
    if status != want_status:
        failed.append("exit status %d, expected %d" % (status, want_status))
    failed += ["sanitizer report: %s" % m for m in SANITIZER_MARKS if m in out]
    for c in checks:
        key, eq, value = c.partition("=")
        if eq and re.fullmatch(r"[a-z_0-9]+", key) and value.isdigit():
            got = summary_value(out, key)
            if got != int(value):
                failed.append("%s is %s, expected %s" % (key, got, value))
        elif c.startswith("!"):
            if c[1:] in out:
                failed.append("output has %r" % c[1:])
        elif c not in out:
            failed.append("output lacks %r" % c)
    return failed


def main():
    skip = [a[len("--skip="):] for a in sys.argv[1:] if a.startswith("--skip=")]
    args = [a for a in sys.argv[1:] if a != "--valgrind" and not a.startswith("--skip=")]
    valgrind = "--valgrind" in sys.argv[1:]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, corpus, expected = args
    if valgrind and skip:
        print("valgrind skipped: %s" % skip[0])
        return 77
    if valgrind and not shutil.which("valgrind"):
        print("valgrind not installed: skipped")
        return 77
    cases = read_expected(expected)
    listed = {name for _, name, _, _ in cases}
    on_disk = set(os.listdir(corpus))
    bad = passed = 0
    for name in sorted(on_disk - listed):
        print("FAIL %s: not listed in EXPECTED" % name)
        bad += 1
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    for lineno, name, want_status, checks in cases:
        if name not in on_disk:
            print("FAIL %s (EXPECTED:%d): no such capture" % (name, lineno))
            bad += 1
            continue
        cmd = (VALGRIND if valgrind else []) + [flowaudit, "-r", os.path.join(corpus, name)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, env=env, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        failed = check(out, p.returncode, want_status, checks)
        print("%s %s" % ("FAIL" if failed else "ok  ", name))
        passed += not failed
        if failed:
            bad += 1
            print("  " + "\n  ".join(failed))
            print("  command: " + " ".join(shlex.quote(a) for a in cmd))
            print("  output:\n    " + out.rstrip().replace("\n", "\n    "))
    print("%d passed, %d failed" % (passed, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
