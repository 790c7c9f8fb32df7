#!/usr/bin/env python3
"""ndjson-to-conn.py - flowaudit's NDJSON flow records (-j) as a Zeek conn.log.

Usage: ndjson-to-conn.py [--json] < flows.ndjson > conn.log

Writes the Zeek conn.log columns flowaudit's "flow" records carry (they use
conn.log's names), in Zeek's TSV form with its '#' header, or with --json
as Zeek's JSON log (one object per line). Other record types are left out.
Used to make tests/records/*.conn.log from the product captures: the flow
tracker's conn_state and history follow Zeek's rules (docs/zeek-agreement.md),
so the log is what Zeek would write for those captures, less the fields
flowaudit does not compute (service, missed_bytes, tunnel_parents).
"""
import json
import sys

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
          "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "missed_bytes",
          "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
          "tunnel_parents", "ip_proto"]
TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
         "count", "count", "string", "count", "string", "count", "count", "count", "count",
         "set[string]", "count"]


def value(rec, name):
    if name in ("service", "missed_bytes", "tunnel_parents"):
        return None
    v = rec.get(name)
    if name == "history" and v == "":
        return None
    return v


def tsv(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.6f" % v
    return str(v)


def main():
    as_json = "--json" in sys.argv[1:]
    out = sys.stdout
    if not as_json:
        out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                  "#path\tconn\n#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")
    for line in sys.stdin:
        rec = json.loads(line)
        if rec.get("type") != "flow":
            continue
        if as_json:
            obj = {k: value(rec, k) for k in FIELDS if value(rec, k) is not None}
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        else:
            out.write("\t".join(tsv(value(rec, k)) for k in FIELDS) + "\n")
    if not as_json:
        out.write("#close\t-\n")


if __name__ == "__main__":
    main()
