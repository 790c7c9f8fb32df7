/* sensors.c - the sensors an auditor hears from (sensors.h). */
#include "sensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sensor_nets {
    char id[FA_SENSOR_ID_MAX];
    fa_cidr nets[FA_SENSOR_NETS_MAX];
    int nnets;
    bool announced;
    bool numbered;         /* next_seq holds: a message of it was met */
    uint64_t next_seq;
} sensor_nets;

/* Open addressing at most half full, so a probe ends soon; 0 marks a
 * free slot (a hash of 0 is stored as 1). */
#define DEDUP_SLOTS (2 * FA_DEDUP_KEEP)

struct fa_sensors {
    sensor_nets list[FA_SENSORS_MAX];
    int n;
    uint64_t *gen[2];      /* gen[0] fills; gen[1] is the one before */
    uint32_t filled;       /* pairs in gen[0] */
    uint64_t duplicates;
};

fa_sensors *fa_sensors_new(void)
{
    fa_sensors *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->gen[0] = calloc(DEDUP_SLOTS, sizeof *s->gen[0]);
    s->gen[1] = calloc(DEDUP_SLOTS, sizeof *s->gen[1]);
    if (!s->gen[0] || !s->gen[1]) {
        fa_sensors_free(s);
        return NULL;
    }
    return s;
}

void fa_sensors_free(fa_sensors *s)
{
    if (!s)
        return;
    free(s->gen[0]);
    free(s->gen[1]);
    free(s);
}

/* The sensor's entry, made when it is new; NULL for a bad id or no room. */
static sensor_nets *entry(fa_sensors *s, const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len >= FA_SENSOR_ID_MAX)
        return NULL;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->list[i].id, id) == 0)
            return &s->list[i];
    if (s->n == FA_SENSORS_MAX)
        return NULL;
    sensor_nets *x = &s->list[s->n++];
    memcpy(x->id, id, len + 1);
    return x;
}

int fa_sensors_announce(fa_sensors *s, const char *id, const fa_cidr *nets, int nnets)
{
    sensor_nets *x = nnets >= 0 && nnets <= FA_SENSOR_NETS_MAX ? entry(s, id) : NULL;
    if (!x)
        return -1;
    memcpy(x->nets, nets, (size_t)nnets * sizeof *nets);
    x->nnets = nnets;
    x->announced = true;
    return 0;
}

int fa_sensors_count(const fa_sensors *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->list[i].announced;
    return n;
}

uint64_t fa_sensors_seq(fa_sensors *s, const char *id, uint64_t seq)
{
    sensor_nets *x = entry(s, id);
    if (!x)
        return 0;
    uint64_t missing = x->numbered && seq > x->next_seq ? seq - x->next_seq : 0;
    if (!x->numbered || seq >= x->next_seq || seq == 0)
        x->next_seq = seq + 1;
    x->numbered = true;
    return missing;
}

int fa_sensors_parse_nets(const char *list, fa_cidr *nets, int max, char *err, size_t errlen)
{
    int n = 0;
    for (const char *p = list; *p; p += *p == ',') {
        char item[FA_NET_TEXT_MAX];
        size_t len = strcspn(p, ",");
        if (n == max) {
            snprintf(err, errlen, "at most %d networks", max);
            return -1;
        }
        if (len == 0 || len >= sizeof item) {
            snprintf(err, errlen, "'%.*s' is not a network", (int)(len < 64 ? len : 64), p);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (fa_cidr_parse(item, &nets[n]) != 0) {
            snprintf(err, errlen, "'%s' is not a network", item);
            return -1;
        }
        n++;
        p += len;
    }
    return n;
}

/* Two prefixes overlap when the shorter one holds the other's network. */
static bool overlap(const fa_cidr *a, const fa_cidr *b)
{
    return a->prefix <= b->prefix ? fa_cidr_contains(a, &b->net) : fa_cidr_contains(b, &a->net);
}

static bool any_announced(const fa_sensors *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->list[i].nnets)
            return true;
    return false;
}

static bool announced(const fa_sensors *s, const fa_cidr *c)
{
    for (int i = 0; i < s->n; i++)
        for (int k = 0; k < s->list[i].nnets; k++)
            if (overlap(&s->list[i].nets[k], c))
                return true;
    return false;
}

/* "any", an external role and every role of a run without a site stand
 * for hosts with no address in the inventory. */
static bool wide(const fa_site *site, int role)
{
    return role == FA_ROLE_ANY || !site || site->role_external[role];
}

/* An announced network holds one of the role's inventory addresses. */
static bool covered(const fa_sensors *s, const fa_ruleset *rs, const fa_site *site, int role)
{
    if (role == FA_ROLE_ANY || !site)
        return false;
    const fa_role *r = &rs->roles[role];
    for (int m = 0; m < r->nmembers; m++)
        if (covered(s, rs, site, r->members[m]))
            return true;
    for (int i = 0; i < site->nroles; i++)
        if (site->roles[i].role == role && announced(s, &site->roles[i].cidr))
            return true;
    return false;
}

/* A wide end is anywhere, so a sensor of any network could see one: the
 * rule's inventory end decides; with none, any announced network will do. */
bool fa_sensors_rule_observable(const fa_sensors *s, const fa_ruleset *rs, const fa_site *site, int rule)
{
    const fa_rule *r = &rs->rules[rule];
    if (covered(s, rs, site, r->from_role) || covered(s, rs, site, r->to_role))
        return true;
    return wide(site, r->from_role) && wide(site, r->to_role) && any_announced(s);
}

/* FNV-1a over the sensor id, a NUL and the uid. */
static uint64_t pair_hash(const char *sensor, const char *uid)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *p = sensor;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
        if (!*p)
            break;
    }
    for (const char *p = uid; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h ? h : 1;
}

/* The slot holding h, or the free slot where it would go. */
static uint64_t *probe(uint64_t *table, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & (DEDUP_SLOTS - 1);; i = (i + 1) & (DEDUP_SLOTS - 1))
        if (table[i] == h || table[i] == 0)
            return &table[i];
}

bool fa_sensors_first(fa_sensors *s, const char *sensor, const char *uid)
{
    uint64_t h = pair_hash(sensor, uid);
    uint64_t *slot = probe(s->gen[0], h);
    if (*slot == h || *probe(s->gen[1], h) == h) {
        s->duplicates++;
        return false;
    }
    if (s->filled == FA_DEDUP_KEEP) {
        uint64_t *old = s->gen[1];
        memset(old, 0, DEDUP_SLOTS * sizeof *old);
        s->gen[1] = s->gen[0];
        s->gen[0] = old;
        s->filled = 0;
        slot = probe(s->gen[0], h);
    }
    *slot = h;
    s->filled++;
    return true;
}

uint64_t fa_sensors_duplicates(const fa_sensors *s)
{
    return s->duplicates;
}
