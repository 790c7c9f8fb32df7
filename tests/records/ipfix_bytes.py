"""IPFIX messages (RFC 7011) as bytes, for tests that need what no exporter
sends on demand: records hours apart, every kind of time element, chosen
sequence numbers. What reads them back is libfixbuf, in flowaudit and in
ipfixDump; this module only lays out the wire format."""
import struct

REVERSE_PEN = 29305  # RFC 5103: reverse elements are IANA's under this enterprise


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def message(sets, export_secs, seq=0, domain=1):
    """A message header (version 10) before the sets."""
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), export_secs, seq, domain) + body


def template_set(tid, fields):
    """One template: fields are (element id, length) or (element id, length,
    True) for the element's RFC 5103 reverse."""
    rec = struct.pack("!HH", tid, len(fields))
    for ie, length, *reverse in fields:
        if reverse and reverse[0]:
            rec += struct.pack("!HHI", ie | 0x8000, length, REVERSE_PEN)
        else:
            rec += struct.pack("!HH", ie, length)
    return struct.pack("!HH", 2, 4 + len(rec)) + rec


def data_set(tid, records):
    """A data set of template tid holding the records' bytes."""
    body = b"".join(records)
    return struct.pack("!HH", tid, 4 + len(body)) + body
