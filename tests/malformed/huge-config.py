#!/usr/bin/env python3
"""huge-config.py - oversized rule and site files must be refused quickly
with a message naming the limit, never read for ever or parsed slowly; a
file just under the size limit must load as quickly. A FIFO as rule or
site file, which no one writes to, must be refused at once, not wait for a
writer.

Usage: huge-config.py FLOWAUDIT SOURCE_DIR WORK_DIR

Each case writes a rules directory (or a site file) into WORK_DIR, runs
flowaudit on it and checks the exit status (2 when refused), the limit
named in the message, and a run time under two seconds (whole-process wall
time).
Exit status: 0 all passed, 1 a check failed.
"""
import os
import shutil
import subprocess
import sys
import time

TIME_LIMIT = 2.0
MB = 1024 * 1024
RULES_HEAD = 'product big "Big"\nrole a "A"\nrole b "B"\n'


def rule(i):
    return 'rule BIG-%d a -> b tcp %d\n    purpose "p"\n' % (i, 1 + i % 65535)


def write_chunks(path, head, line, total):
    """Writes head, then line repeated until the file holds total bytes."""
    block = line * (MB // len(line))
    with open(path, "w") as f:
        f.write(head)
        written = len(head)
        while written < total:
            f.write(block)
            written += len(block)


def comments(path):
    write_chunks(path, RULES_HEAD, "# " + "x" * 61 + "\n", 100 * MB)


def million_rules(path):
    with open(path, "w") as f:
        f.write(RULES_HEAD)
        for start in range(0, 1000000, 10000):
            f.write("".join(rule(i) for i in range(start, start + 10000)))


def big_but_allowed(path):
    write_chunks(path, RULES_HEAD + rule(0), "# " + "x" * 61 + "\n", 15 * MB)


def many_rules(path):
    with open(path, "w") as f:
        f.write(RULES_HEAD + "".join(rule(i) for i in range(5000)))


def long_line(path):
    with open(path, "w") as f:
        f.write(RULES_HEAD + "# " + "x" * 100000 + "\n")


def endless(path):
    os.symlink("/dev/zero", path)


def fifo(path):
    os.mkfifo(path)


def huge_site(path):
    write_chunks(path, "site \"big\"\nproduct hyworks\nphase operation\n", "#" * 63 + "\n", 100 * MB)


def many_addresses(path):
    with open(path, "w") as f:
        f.write("product hyworks\nphase operation\n")
        for i in range(2000):
            f.write("role hyworks.broker 10.%d.%d.1\n" % (i // 256, i % 256))


# name, writer, what it writes (rules file in a fresh directory or site file),
# exit status, text the output must contain.
CASES = [
    ("100 MB of comments", comments, "rules", 2, "file too large (limit 16777216 bytes)"),
    ("a million rules", million_rules, "rules", 2, "file too large (limit 16777216 bytes)"),
    ("15 MB of comments and a rule", big_but_allowed, "rules", 0, "1 rules: OK"),
    ("5000 rules", many_rules, "rules", 2, "too many rules (limit 4096)"),
    ("a 100 kB line", long_line, "rules", 2, "line too long (limit 4095 bytes)"),
    ("an endless rules file", endless, "rules", 2, "not a regular file"),
    ("a FIFO among the rules files", fifo, "rules", 2, "big.rules: not a regular file"),
    ("100 MB site file", huge_site, "site", 2, "file too large (limit 16777216 bytes)"),
    ("a FIFO as site file", fifo, "site", 2, "big.site: not a regular file"),
    ("2000 site addresses", many_addresses, "site", 2, "too many role addresses (limit 1024)"),
]


def run_case(flowaudit, src, work, n, case):
    name, writer, kind, status, want = case
    case_dir = os.path.join(work, "case%d" % n)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    if kind == "rules":
        writer(os.path.join(case_dir, "big.rules"))
        cmd = [flowaudit, "--check-rules", case_dir]
    else:
        writer(os.path.join(case_dir, "big.site"))
        cmd = [flowaudit, "--rules", os.path.join(src, "rules"), "--site",
               os.path.join(case_dir, "big.site"), "-r",
               os.path.join(src, "tests/malformed/corpus/header-only.pcap")]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=10 * TIME_LIMIT)
        returncode, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        returncode, out = None, e.stdout or b""
    took = time.monotonic() - start
    shutil.rmtree(case_dir)
    out = out.decode("utf-8", "replace").strip()
    failed = []
    if returncode is None:
        failed.append("still running after %.0f s: killed" % (10 * TIME_LIMIT))
    elif returncode != status:
        failed.append("exit status %d, expected %d" % (returncode, status))
    if want not in out:
        failed.append("message lacks %r" % want)
    if took >= TIME_LIMIT:
        failed.append("took %.2f s (limit %.0f s)" % (took, TIME_LIMIT))
    print("%s %s (%.2f s): %s" % ("FAIL" if failed else "ok  ", name, took, out[:200]))
    for f in failed:
        print("  " + f)
    return not failed


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, src, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    passed = sum(run_case(flowaudit, src, work, n, c) for n, c in enumerate(CASES))
    print("%d passed, %d failed" % (passed, len(CASES) - passed))
    return 0 if passed == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
