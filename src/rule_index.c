/* rule_index.c - the rules a TCP or UDP connection to a destination port
 * can match. An ended flow used to be compared with every deployed rule
 * in turn (about 8,000 instructions a flow with one product's 75 rules);
 * here the port line of each transport is cut into pieces at every port
 * where some rule's range starts or ends, so that within a piece the same
 * rules hold every port, and a flow's piece is found by binary search. */
#include "rule_index.h"

#include <stdlib.h>

#include "decode.h"

enum { PORTS = 65536 };

/* One transport's pieces: piece k runs from start[k] to start[k + 1] - 1
 * (the last to 65535) and holds rules[first[k]] .. rules[first[k + 1] - 1]. */
typedef struct pieces {
    uint32_t *start;
    uint32_t *first;
    int *rules;
    uint32_t n;
} pieces;

struct fa_rule_index {
    pieces tr[2]; /* TCP, UDP */
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The ports where a piece starts: 0, and each range's first port and the
 * one after its last. Sorted, each once; returns their count. */
static uint32_t cut_points(const int *rules, int n, const fa_portset *const *dports, uint32_t *out)
{
    uint32_t m = 0;
    out[m++] = 0;
    for (int k = 0; k < n; k++) {
        const fa_portset *ps = dports[rules[k]];
        for (unsigned i = 0; !ps->any && i < ps->count; i++) {
            out[m++] = ps->ranges[i].lo;
            if (ps->ranges[i].hi + 1u < PORTS)
                out[m++] = ps->ranges[i].hi + 1u;
        }
    }
    qsort(out, m, sizeof *out, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < m; i++)
        if (u == 0 || out[i] != out[u - 1])
            out[u++] = out[i];
    return u;
}

/* The pieces of one transport, over the rules that carry it (in order). */
static int build(pieces *p, const int *rules, int n, const fa_portset *const *dports)
{
    size_t ncut = 1;
    for (int k = 0; k < n; k++)
        ncut += 2u * dports[rules[k]]->count;
    p->start = malloc(ncut * sizeof *p->start);
    if (!p->start)
        return -1;
    p->n = cut_points(rules, n, dports, p->start);
    p->first = malloc((p->n + 1) * sizeof *p->first);
    if (!p->first)
        return -1;
    /* Count, then fill: a rule is in a piece when it holds the piece's
     * first port, hence all of them. */
    size_t total = 0;
    for (uint32_t j = 0; j < p->n; j++)
        for (int k = 0; k < n; k++)
            total += fa_portset_contains(dports[rules[k]], (uint16_t)p->start[j]);
    p->rules = malloc((total ? total : 1) * sizeof *p->rules);
    if (!p->rules)
        return -1;
    uint32_t used = 0;
    for (uint32_t j = 0; j < p->n; j++) {
        p->first[j] = used;
        for (int k = 0; k < n; k++)
            if (fa_portset_contains(dports[rules[k]], (uint16_t)p->start[j]))
                p->rules[used++] = rules[k];
    }
    p->first[p->n] = used;
    return 0;
}

fa_rule_index *fa_rule_index_new(const fa_ruleset *rs, const int *rules, int n, const fa_portset *const *dports)
{
    static const unsigned bits[2] = {FA_TR_TCP, FA_TR_UDP};
    fa_rule_index *ix = calloc(1, sizeof *ix);
    int *carried = malloc((n > 0 ? (size_t)n : 1) * sizeof *carried);
    int rc = ix && carried ? 0 : -1;
    for (int t = 0; t < 2 && rc == 0; t++) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (rs->rules[rules[k]].transports & bits[t])
                carried[m++] = rules[k];
        rc = build(&ix->tr[t], carried, m, dports);
    }
    free(carried);
    if (rc != 0) {
        fa_rule_index_free(ix);
        return NULL;
    }
    return ix;
}

const int *fa_rule_index_find(const fa_rule_index *ix, uint8_t proto, uint16_t dport, int *n)
{
    if (proto != FA_PROTO_TCP && proto != FA_PROTO_UDP) {
        *n = 0;
        return NULL;
    }
    const pieces *p = &ix->tr[proto == FA_PROTO_UDP];
    /* The last piece starting at or before dport; start[0] is 0. */
    uint32_t lo = 0, hi = p->n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->start[mid] <= dport)
            lo = mid;
        else
            hi = mid;
    }
    *n = (int)(p->first[lo + 1] - p->first[lo]);
    return p->rules + p->first[lo];
}

void fa_rule_index_free(fa_rule_index *ix)
{
    if (!ix)
        return;
    for (int t = 0; t < 2; t++) {
        free(ix->tr[t].start);
        free(ix->tr[t].first);
        free(ix->tr[t].rules);
    }
    free(ix);
}
