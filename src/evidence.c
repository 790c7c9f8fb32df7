/* evidence.c - the ring of recent packets and the rotating evidence pcap. */
#include "evidence.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t ts_us;
    uint32_t flow;
    uint32_t caplen, len;      /* caplen here is what the slot holds */
    uint8_t data[FA_EVIDENCE_SNAP];
} slot;

struct fa_evidence {
    char *path;
    int dlt;
    pcap_t *dead;
    pcap_dumper_t *out;
    uint64_t file_limit;
    int keep;
    slot *ring;
    uint32_t nslots, next;
    uint64_t stored;           /* packets ever put in the ring */
    fa_evidence_stats st;
};

static int open_file(fa_evidence *e, char *err, size_t errlen)
{
    e->out = pcap_dump_open(e->dead, e->path);
    if (!e->out) {
        /* libpcap names the file in its message. */
        snprintf(err, errlen, "%s", pcap_geterr(e->dead));
        return -1;
    }
    return 0;
}

fa_evidence *fa_evidence_open(const char *path, int dlt, uint32_t ring_mib, uint32_t file_mib, int keep,
                              char *err, size_t errlen)
{
    fa_evidence *e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path))) {
        free(e);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->dlt = dlt;
    e->keep = keep;
    e->file_limit = (uint64_t)file_mib << 20;
    e->nslots = (uint32_t)(((uint64_t)(ring_mib ? ring_mib : 1) << 20) / sizeof(slot));
    e->ring = calloc(e->nslots, sizeof *e->ring);
    e->dead = pcap_open_dead(dlt, FA_EVIDENCE_SNAP);
    if (!e->ring || !e->dead) {
        snprintf(err, errlen, "out of memory for the evidence ring");
        fa_evidence_close(e);
        return NULL;
    }
    if (open_file(e, err, errlen) != 0) {
        fa_evidence_close(e);
        return NULL;
    }
    return e;
}

void fa_evidence_close(fa_evidence *e)
{
    if (!e)
        return;
    if (e->out)
        pcap_dump_close(e->out);
    if (e->dead)
        pcap_close(e->dead);
    free(e->ring);
    free(e->path);
    free(e);
}

void fa_evidence_packet(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                        uint32_t caplen, uint32_t len)
{
    if (dlt != e->dlt) {
        e->st.other_linktype++;
        return;
    }
    slot *s = &e->ring[e->next];
    e->next = (e->next + 1) % e->nslots;
    e->stored++;
    s->ts_us = ts_us;
    s->flow = flow;
    s->caplen = caplen < FA_EVIDENCE_SNAP ? caplen : FA_EVIDENCE_SNAP;
    s->len = len;
    memcpy(s->data, data, s->caplen);
}

/* path -> path.1 -> ... -> path.keep, the oldest dropped. */
static int rotate(fa_evidence *e)
{
    char from[4096], to[4096];
    pcap_dump_close(e->out);
    e->out = NULL;
    for (int i = e->keep; i >= 1; i--) {
        snprintf(to, sizeof to, "%s.%d", e->path, i);
        if (i == 1)
            snprintf(from, sizeof from, "%s", e->path);
        else
            snprintf(from, sizeof from, "%s.%d", e->path, i - 1);
        rename(from, to);
    }
    e->st.files_rotated++;
    char err[256];
    return open_file(e, err, sizeof err);
}

/* Packets of earlier flows in the same slot are older than first_us; no
 * later flow can have used the slot yet, since this one only now ends. */
int fa_evidence_flow(fa_evidence *e, uint32_t flow, uint64_t first_us, uint32_t pkts)
{
    uint32_t filled = e->stored < e->nslots ? (uint32_t)e->stored : e->nslots;
    uint32_t start = e->stored < e->nslots ? 0 : e->next;
    uint32_t found = 0, k = filled;
    /* A failed rotation left no file open; the caller was told then. */
    if (!e->out)
        return -1;
    /* The ring is in arrival order: walk back to the flow's start only, so
     * a short flow costs its own lifetime, not the whole ring. */
    while (k > 0 && e->ring[(start + k - 1) % e->nslots].ts_us >= first_us)
        k--;
    for (; k < filled; k++) {
        const slot *s = &e->ring[(start + k) % e->nslots];
        if (s->flow != flow || s->ts_us < first_us)
            continue;
        struct pcap_pkthdr h = {.caplen = s->caplen, .len = s->len};
        h.ts.tv_sec = (time_t)(s->ts_us / 1000000u);
        h.ts.tv_usec = (suseconds_t)(s->ts_us % 1000000u);
        pcap_dump((u_char *)e->out, &h, s->data);
        found++;
    }
    e->st.flows_written++;
    e->st.packets_written += found;
    if (pkts > found)
        e->st.packets_gone += pkts - found;
    if (pcap_dump_flush(e->out) != 0)
        return -1;
    if (e->file_limit && (uint64_t)pcap_dump_ftell64(e->out) >= e->file_limit)
        return rotate(e);
    return 0;
}

const fa_evidence_stats *fa_evidence_get_stats(const fa_evidence *e)
{
    return &e->st;
}
