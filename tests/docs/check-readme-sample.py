#!/usr/bin/env python3
"""The README's sample reports are what the program prints.

Each "$ ./build/flowaudit ..." block under "## Sample report", and the
first block (printed by the README's first command), is run from the
source tree; every line of the block that is not abridged ("..." or
"abridged") must appear in the output, in the same order. A capture,
rule or site change that moves a count leaves the README stale otherwise.

usage: check-readme-sample.py FLOWAUDIT SRCDIR
"""
import os
import re
import shlex
import subprocess
import sys


def blocks(readme):
    """(command, expected lines) for each sample of the Sample report section."""
    section = readme.split("\n## Sample report\n", 1)[1].split("\n## ", 1)[0]
    first_cmd = re.search(r"&& (\./build/flowaudit [^\n]*)", readme).group(1)
    out = []
    for body in re.findall(r"```\n(.*?)```", section, re.S):
        lines = body.rstrip("\n").split("\n")
        cmd = first_cmd
        if lines[0].startswith("$ "):
            cmd = lines[0][2:]
            lines = lines[1:]
        want = []
        for line in lines:
            if line.startswith("$ "):
                break
            if "..." not in line and "abridged" not in line:
                want.append(line)
        out.append((cmd, want))
    return out


def main():
    flowaudit, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "README.md"), encoding="utf-8") as fp:
        readme = fp.read()
    failed = 0
    samples = blocks(readme)
    for cmd, want in samples:
        argv = shlex.split(cmd)
        argv[0] = flowaudit
        env = dict(os.environ, TZ="UTC", LC_ALL="C", NO_COLOR="1")
        got = subprocess.run(argv + ["--no-progress"], cwd=src, env=env, capture_output=True,
                             text=True).stdout.split("\n")
        at = 0
        for line in want:
            try:
                at = got.index(line, at) + 1
            except ValueError:
                print("README sample of '%s': not in the output (or out of order):\n  %s"
                      % (cmd, line))
                failed += 1
                break
    print("%d samples, %d stale" % (len(samples), failed))
    return 1 if failed or not samples else 0


if __name__ == "__main__":
    sys.exit(main())
