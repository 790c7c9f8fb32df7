#!/usr/bin/env python3
"""make-seeds.py - builds the fuzz targets' seed corpora from the repository.

Usage: make-seeds.py SOURCE_DIR OUT_DIR

Writes OUT_DIR/<target>/<sha1> files (libFuzzer's naming), deterministically:
  decode    every distinct frame of pcaps/synthetic/*.pcap, prefixed with the
            index of its link type in tests/fuzz/fuzz_linktypes.h
  pipeline  whole captures of at most 64 KiB from pcaps/synthetic and
            tests/malformed/corpus
  rules     rules/*.rules and tests/data/rules/**/*.rules
  site      sites/*.site and tests/data/rules/*.site
Standard library only.
"""
import hashlib
import os
import shutil
import struct
import sys

# pcap LINKTYPE_ values in the order of FUZZ_LINKTYPES: EN10MB, LINUX_SLL,
# LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6.
LINKTYPE_INDEX = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 228: 6, 229: 7}
PIPELINE_MAX = 64 * 1024


def pcap_frames(blob):
    """Yields (linktype, frame) for each record of a classic pcap file."""
    if len(blob) < 24:
        return
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return
    linktype = struct.unpack(end + "I", blob[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(blob):
        caplen = struct.unpack(end + "I", blob[off + 8:off + 12])[0]
        off += 16
        if off + caplen > len(blob):
            return
        yield linktype, blob[off:off + caplen]
        off += caplen


def files_in(src, rel, suffixes, recursive=False):
    top = os.path.join(src, rel)
    if not os.path.isdir(top):
        return []
    found = []
    for root, dirs, names in os.walk(top):
        dirs.sort()
        found += [os.path.join(root, n) for n in sorted(names) if n.endswith(suffixes)]
        if not recursive:
            break
    return found


def write(out, target, blob):
    path = os.path.join(out, target, hashlib.sha1(blob).hexdigest())
    with open(path, "wb") as f:
        f.write(blob)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: make-seeds.py SOURCE_DIR OUT_DIR\n")
        return 2
    src, out = sys.argv[1], sys.argv[2]
    targets = ("decode", "pipeline", "rules", "site")
    for t in targets:
        shutil.rmtree(os.path.join(out, t), ignore_errors=True)
        os.makedirs(os.path.join(out, t))
    captures = files_in(src, "pcaps/synthetic", (".pcap",))
    for path in captures:
        with open(path, "rb") as f:
            blob = f.read()
        for linktype, frame in pcap_frames(blob):
            if linktype in LINKTYPE_INDEX:
                write(out, "decode", bytes([LINKTYPE_INDEX[linktype]]) + frame)
    for path in captures + files_in(src, "tests/malformed/corpus", (".pcap", ".pcapng")):
        if os.path.getsize(path) <= PIPELINE_MAX:
            with open(path, "rb") as f:
                write(out, "pipeline", f.read())
    inputs = {
        "rules": files_in(src, "rules", (".rules",))
        + files_in(src, "tests/data/rules", (".rules",), recursive=True),
        "site": files_in(src, "sites", (".site",)) + files_in(src, "tests/data/rules", (".site",)),
    }
    for target, paths in inputs.items():
        for path in paths:
            with open(path, "rb") as f:
                write(out, target, f.read())
    for t in targets:
        print("%-8s %d seeds" % (t, len(os.listdir(os.path.join(out, t)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
