/* ipfix-tcp-send.c - an IPFIX exporter over TCP built on libfixbuf
 * (fbExporterAllocNet with FB_TCP), for tests of flowaudit --collect
 * tcp:PORT: it reads the data records of an IPFIX file (such as the one
 * pmacctd's nfprobe made, tests/records/ras-broken.ipfix) through a
 * template of the uniflow elements pmacctd sends and exports each over one
 * TCP connection, the template first, as an exporting process does.
 * With -b it sends RFC 5103 biflows instead: the two directions of a
 * connection (the same addresses and ports, swapped) in one record, the
 * forward direction the one that sent a SYN without an ACK, else the one
 * that started first, else (pmacctd stamps both directions with one
 * second) the one sending from the higher port, a client's; a direction
 * without a partner is a biflow with nothing in reverse.
 *
 * Usage: ipfix-tcp-send [-b] HOST PORT FILE
 * Prints the number of records sent; exit 0, or 1 on any error. */
#include <fixbuf/public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct uniflow {
    uint64_t start_ms, end_ms, octets, packets;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t proto, flags;
    uint8_t pad[2];
} uniflow;

static fbInfoElementSpec_t spec[] = {
    {"flowStartMilliseconds", 8, 0}, {"flowEndMilliseconds", 8, 0},
    {"octetDeltaCount", 8, 0},       {"packetDeltaCount", 8, 0},
    {"sourceIPv4Address", 4, 0},     {"destinationIPv4Address", 4, 0},
    {"sourceTransportPort", 2, 0},   {"destinationTransportPort", 2, 0},
    {"protocolIdentifier", 1, 0},    {"tcpControlBits", 1, 0},
    {"paddingOctets", 2, 0},         FB_IESPEC_NULL,
};

_Static_assert(sizeof(uniflow) == 48, "uniflow matches spec");

typedef struct biflow {
    uniflow fwd;
    uint64_t r_octets, r_packets;
    uint8_t r_flags;
    uint8_t pad[7];
} biflow;

static fbInfoElementSpec_t bi_spec[] = {
    {"flowStartMilliseconds", 8, 0}, {"flowEndMilliseconds", 8, 0},
    {"octetDeltaCount", 8, 0},       {"packetDeltaCount", 8, 0},
    {"sourceIPv4Address", 4, 0},     {"destinationIPv4Address", 4, 0},
    {"sourceTransportPort", 2, 0},   {"destinationTransportPort", 2, 0},
    {"protocolIdentifier", 1, 0},    {"tcpControlBits", 1, 0},
    {"paddingOctets", 2, 0},         {"reverseOctetDeltaCount", 8, 0},
    {"reversePacketDeltaCount", 8, 0}, {"reverseTcpControlBits", 1, 0},
    {"paddingOctets", 7, 0},         FB_IESPEC_NULL,
};

_Static_assert(sizeof(biflow) == 48 + 24, "biflow matches bi_spec");

#define MAX_RECORDS 4096
#define SYN 0x02
#define ACK 0x10

static int is_reverse(const uniflow *a, const uniflow *b)
{
    return a->src == b->dst && a->dst == b->src && a->sport == b->dport && a->dport == b->sport &&
           a->proto == b->proto;
}

/* a is the forward direction of the pair (a read before b). */
static int forward_first(const uniflow *a, const uniflow *b)
{
    int a_opens = (a->flags & SYN) && !(a->flags & ACK), b_opens = (b->flags & SYN) && !(b->flags & ACK);
    if (a_opens != b_opens)
        return a_opens;
    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms;
    return a->sport >= b->sport;
}

static biflow pair(const uniflow *fwd, const uniflow *rev)
{
    biflow r;
    memset(&r, 0, sizeof r);
    r.fwd = *fwd;
    if (rev) {
        r.r_octets = rev->octets;
        r.r_packets = rev->packets;
        r.r_flags = rev->flags;
        if (rev->start_ms < r.fwd.start_ms)
            r.fwd.start_ms = rev->start_ms;
        if (rev->end_ms > r.fwd.end_ms)
            r.fwd.end_ms = rev->end_ms;
    }
    return r;
}

static int fail(const char *what, GError *err)
{
    fprintf(stderr, "ipfix-tcp-send: %s: %s\n", what, err ? err->message : "failed");
    return 1;
}

/* A session with the template of sp as internal and external template. */
static fbSession_t *session_with(fbInfoModel_t *model, fbInfoElementSpec_t *sp, uint16_t *tid, GError **err)
{
    fbSession_t *s = fbSessionAlloc(model);
    fbTemplate_t *t = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(t, sp, 0, err) || !(*tid = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, t, err)) ||
        !fbSessionAddTemplate(s, FALSE, *tid, t, err))
        return NULL;
    return s;
}

static uniflow records[MAX_RECORDS];
static char used[MAX_RECORDS];

int main(int argc, char **argv)
{
    GError *err = NULL;
    uint16_t in_tid, out_tid;
    int bi = argc > 1 && strcmp(argv[1], "-b") == 0;
    argv += bi;
    argc -= bi;
    if (argc != 4) {
        fprintf(stderr, "usage: ipfix-tcp-send [-b] HOST PORT FILE\n");
        return 1;
    }
    FILE *in = fopen(argv[3], "rb");
    if (!in) {
        perror(argv[3]);
        return 1;
    }
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbSession_t *rs = session_with(model, spec, &in_tid, &err);
    fbSession_t *ws = rs ? session_with(model, bi ? bi_spec : spec, &out_tid, &err) : NULL;
    if (!ws)
        return fail("template", err);
    fBuf_t *rb = fBufAllocForCollection(rs, fbCollectorAllocFP(NULL, in));
    if (!fBufSetInternalTemplate(rb, in_tid, &err))
        return fail("read template", err);
    fbConnSpec_t cs = FB_CONNSPEC_INIT;
    cs.transport = FB_TCP;
    cs.host = argv[1];
    cs.svc = argv[2];
    fbExporter_t *ex = fbExporterAllocNet(&cs);
    fBuf_t *wb = fBufAllocForExport(ws, ex);
    if (!fbSessionExportTemplates(ws, &err) || !fBufSetInternalTemplate(wb, out_tid, &err) ||
        !fBufSetExportTemplate(wb, out_tid, &err))
        return fail("export templates", err);
    size_t n = 0;
    uniflow r;
    size_t len;
    for (;;) {
        memset(&r, 0, sizeof r);
        len = sizeof r;
        if (!fBufNext(rb, (uint8_t *)&r, &len, &err)) {
            if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF))
                break;
            return fail(argv[3], err);
        }
        if (n == MAX_RECORDS)
            return fail("more records than this sender holds", NULL);
        records[n++] = r;
    }
    g_clear_error(&err);
    unsigned long sent = 0;
    for (size_t i = 0; i < n; i++) {
        if (used[i])
            continue;
        if (!bi) {
            if (!fBufAppend(wb, (uint8_t *)&records[i], sizeof records[i], &err))
                return fail("append", err);
            sent++;
            continue;
        }
        size_t k = i + 1;
        while (k < n && (used[k] || !is_reverse(&records[i], &records[k])))
            k++;
        biflow b = k == n ? pair(&records[i], NULL)
                   : forward_first(&records[i], &records[k]) ? pair(&records[i], &records[k])
                                                             : pair(&records[k], &records[i]);
        if (k < n)
            used[k] = 1;
        if (!fBufAppend(wb, (uint8_t *)&b, sizeof b, &err))
            return fail("append", err);
        sent++;
    }
    if (!fBufEmit(wb, &err))
        return fail("emit", err);
    fBufFree(wb);
    fBufFree(rb);
    fclose(in);
    fbInfoModelFree(model);
    printf("%lu\n", sent);
    return 0;
}
