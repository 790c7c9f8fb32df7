#!/usr/bin/env python3
"""check-schema.py - every NDJSON line flowaudit writes must validate
against docs/ndjson.schema.json (JSON Schema 2020-12, python3-jsonschema).

    check-schema.py FLOWAUDIT SRCDIR      the committed -j goldens, and a
                                          fresh -j run over pcaps/lab,
                                          pcaps/products, pcaps/real and
                                          the conn.logs and IPFIX files
                                          of tests/records
    check-schema.py --files SRCDIR F...   the given NDJSON files

The schema has one definition per record type with no field left
undeclared, so a field renamed, retyped or added without the schema and
docs/output-schema.md being updated fails here. Besides the schema, a
field name must keep one JSON type across record types, nested objects
flattened with dots as Elasticsearch does.
"""
import decimal
import glob
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check-schema.py: python3-jsonschema is not installed (tools/install-deps.sh installs it)")


def golden_files(src):
    """expected/NAME.out of every TESTLIST test run with -j -."""
    out = []
    for line in open(os.path.join(src, "tests/golden/TESTLIST"), encoding="utf-8"):
        w = line.split()
        if w and not w[0].startswith("#") and "-j" in w[3:]:
            out.append(os.path.join(src, "tests/golden/expected", w[0] + ".out"))
    return out


def fresh_runs(flowaudit, src, tmp):
    """Runs flowaudit -j over the lab, product and real captures and the
    Zeek conn.logs and IPFIX files of tests/records; returns
    the files written, each with the command that wrote it. --interim 1
    adds flow_update records."""
    runs = []
    for site in sorted(glob.glob(os.path.join(src, "pcaps/lab/*.site"))):
        runs.append((site[:-5] + ".pcap", ["--rules", "rules", "--site", os.path.relpath(site, src)]))
    for pcap in sorted(glob.glob(os.path.join(src, "pcaps/products/*.pcap"))):
        product = os.path.basename(pcap).rsplit("-", 1)[0]
        runs.append((pcap, ["--rules", "rules", "--site", "sites/%s.site" % product]))
    for pcap in sorted(glob.glob(os.path.join(src, "pcaps/real/*.pcap"))):
        runs.append((pcap, ["--rules", "rules", "--interim", "1"]))
    for log in sorted(glob.glob(os.path.join(src, "tests/records/*.conn.*")) +
                      glob.glob(os.path.join(src, "tests/records/*.ipfix"))):
        product = os.path.basename(log).rsplit("-", 1)[0]
        runs.append((log, ["--rules", "rules", "--site", "sites/%s.site" % product]))
    files = {}
    for i, (pcap, opts) in enumerate(runs):
        path = os.path.join(tmp, "run%d.ndjson" % i)
        cmd = [flowaudit, "--no-progress", "-q", "-r", pcap, "-j", path] + opts
        rc = subprocess.run(cmd, cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if rc.returncode not in (0, 1):
            sys.exit("%s: exit %d: %s" % (" ".join(cmd), rc.returncode, rc.stderr.strip()))
        files[path] = "flowaudit -r %s %s" % (os.path.relpath(pcap, src), " ".join(opts))
    return files


def flatten(prefix, value, out):
    """Elasticsearch's view of a record: dotted names, arrays of objects
    seen through. Returns (name, JSON type) pairs."""
    kinds = {bool: "boolean", int: "integer", decimal.Decimal: "number", str: "string", dict: "object"}
    items = value if isinstance(value, list) else [value]
    for v in items:
        if v is None:
            continue
        if isinstance(v, dict):
            if prefix:
                out.append((prefix, "object"))
            for k, x in v.items():
                flatten(prefix + "." + k if prefix else k, x, out)
        elif not isinstance(v, list):
            # A whole-number real is still a real to a mapping that saw
            # reals first; integers and reals share Elasticsearch's numbers.
            out.append((prefix, "number" if kinds[type(v)] in ("integer", "number") else kinds[type(v)]))
    # A dotted name ("id.orig_h") makes each of its prefixes an object.
    parts = prefix.split(".")
    out += [(".".join(parts[:i]), "object") for i in range(1, len(parts))]
    return out


def check(schema, files, names):
    validator = jsonschema.Draft202012Validator(schema)
    seen = {}
    errors = lines = 0
    for path in files:
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            lines += 1
            where = "%s:%d" % (names.get(path, path), n)
            try:
                # Reals as Decimal: then 1.0 is not an integer to the
                # validator, as it is not to a log shipper's mapping.
                rec = json.loads(line, parse_float=decimal.Decimal)
            except ValueError as e:
                print("%s: not JSON: %s" % (where, e))
                errors += 1
                continue
            for e in validator.iter_errors(rec):
                print("%s: %s at %s" % (where, e.message, "/".join(map(str, e.absolute_path)) or "the record"))
                errors += 1
            for name, kind in flatten("", rec, []):
                first = seen.setdefault(name, (kind, where, rec.get("type")))
                if first[0] != kind:
                    print("%s: %s is %s in a %s record, %s in a %s record at %s" % (
                        where, name, kind, rec.get("type"), first[0], first[2], first[1]))
                    errors += 1
    print("%d lines of %d files: %d errors" % (lines, len(files), errors))
    return errors == 0 and lines > 0


def main():
    import tempfile
    if len(sys.argv) >= 3 and sys.argv[1] == "--files":
        src, files, fresh = sys.argv[2], sys.argv[3:], {}
    elif len(sys.argv) == 3:
        flowaudit, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
        tmp = tempfile.mkdtemp(prefix="fa-schema.")
        fresh = fresh_runs(flowaudit, src, tmp)
        files = golden_files(src) + list(fresh)
    else:
        sys.exit(__doc__)
    schema = json.load(open(os.path.join(src, "docs/ndjson.schema.json"), encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    ok = check(schema, files, {**{f: os.path.relpath(f, src) for f in files}, **fresh})
    for f in fresh:
        os.unlink(f)
    if fresh:
        os.rmdir(tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
