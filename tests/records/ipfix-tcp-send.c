/* ipfix-tcp-send.c - an IPFIX exporter over TCP built on libfixbuf
 * (fbExporterAllocNet with FB_TCP), for tests of flowaudit --collect
 * tcp:PORT: it reads the data records of an IPFIX file (such as the one
 * pmacctd's nfprobe made, tests/records/ras-broken.ipfix) through a
 * template of the uniflow elements pmacctd sends and exports each over one
 * TCP connection, the template first, as an exporting process does.
 *
 * Usage: ipfix-tcp-send HOST PORT FILE
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

static int fail(const char *what, GError *err)
{
    fprintf(stderr, "ipfix-tcp-send: %s: %s\n", what, err ? err->message : "failed");
    return 1;
}

/* A session with the template as internal and external template. */
static fbSession_t *session_with(fbInfoModel_t *model, uint16_t *tid, GError **err)
{
    fbSession_t *s = fbSessionAlloc(model);
    fbTemplate_t *t = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(t, spec, 0, err) || !(*tid = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, t, err)) ||
        !fbSessionAddTemplate(s, FALSE, *tid, t, err))
        return NULL;
    return s;
}

int main(int argc, char **argv)
{
    GError *err = NULL;
    uint16_t in_tid, out_tid;
    if (argc != 4) {
        fprintf(stderr, "usage: ipfix-tcp-send HOST PORT FILE\n");
        return 1;
    }
    FILE *in = fopen(argv[3], "rb");
    if (!in) {
        perror(argv[3]);
        return 1;
    }
    fbInfoModel_t *model = fbInfoModelAlloc();
    fbSession_t *rs = session_with(model, &in_tid, &err);
    fbSession_t *ws = rs ? session_with(model, &out_tid, &err) : NULL;
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
    unsigned long sent = 0;
    uniflow r;
    size_t len = sizeof r;
    for (;;) {
        memset(&r, 0, sizeof r);
        len = sizeof r;
        if (!fBufNext(rb, (uint8_t *)&r, &len, &err)) {
            if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF))
                break;
            return fail(argv[3], err);
        }
        if (!fBufAppend(wb, (uint8_t *)&r, sizeof r, &err))
            return fail("append", err);
        sent++;
    }
    g_clear_error(&err);
    if (!fBufEmit(wb, &err))
        return fail("emit", err);
    fBufFree(wb);
    fBufFree(rb);
    fclose(in);
    fbInfoModelFree(model);
    printf("%lu\n", sent);
    return 0;
}
