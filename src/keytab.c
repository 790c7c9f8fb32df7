/* keytab.c - records in arrival order, found through an open-addressing
 * index of slot numbers (linear probing, at most half full). */
#include "keytab.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_ROOM 64u

void fa_keytab_init(fa_keytab *t, size_t rec_size, size_t key_size, uint32_t max)
{
    memset(t, 0, sizeof *t);
    t->rec_size = rec_size;
    t->key_size = key_size;
    t->max = max;
}

/* Eight bytes at a time through a multiply and a fold; keys are a few
 * addresses and ports, their bytes set by the program, not an attacker
 * who could aim at one slot (the cap bounds the damage anyway). */
static uint32_t key_hash(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15u ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53u;
    return (uint32_t)(h >> 32);
}

/* The index entry holding key, or the empty one where it would go. */
static uint64_t *probe(const fa_keytab *t, const void *key, uint32_t h)
{
    for (uint32_t i = h & t->index_mask;; i = (i + 1) & t->index_mask) {
        uint64_t *e = &t->index[i];
        if (*e == 0)
            return e;
        if ((uint32_t)(*e >> 32) == h &&
            memcmp(fa_keytab_at(t, (uint32_t)*e - 1), key, t->key_size) == 0)
            return e;
    }
}

const void *fa_keytab_find(const fa_keytab *t, const void *key)
{
    if (!t->index)
        return NULL;
    uint64_t e = *probe(t, key, key_hash(key, t->key_size));
    return e ? fa_keytab_at(t, (uint32_t)e - 1) : NULL;
}

/* Twice the entries, every record placed again. */
static bool grow_index(fa_keytab *t)
{
    uint32_t entries = t->index ? (t->index_mask + 1) * 2 : 2 * FIRST_ROOM;
    uint64_t *index = calloc(entries, sizeof *index);
    if (!index)
        return false;
    free(t->index);
    t->index = index;
    t->index_mask = entries - 1;
    for (uint32_t s = 0; s < t->n; s++) {
        const void *rec = fa_keytab_at(t, s);
        uint32_t h = key_hash(rec, t->key_size);
        *probe(t, rec, h) = (uint64_t)h << 32 | (s + 1);
    }
    return true;
}

void *fa_keytab_get(fa_keytab *t, const void *key, bool *added)
{
    *added = false;
    uint32_t h = key_hash(key, t->key_size);
    uint64_t *e = t->index ? probe(t, key, h) : NULL;
    if (e && *e)
        return fa_keytab_at(t, (uint32_t)*e - 1);
    if (t->n >= t->max)
        return NULL;
    if (t->n == t->room) {
        uint32_t room = t->room ? t->room * 2 : FIRST_ROOM;
        if (room > t->max)
            room = t->max;
        unsigned char *recs = realloc(t->recs, (size_t)room * t->rec_size);
        if (!recs)
            return NULL;
        t->recs = recs;
        t->room = room;
    }
    if (!t->index || (uint64_t)(t->n + 1) * 2 > (uint64_t)t->index_mask + 1) {
        if (!grow_index(t))
            return NULL;
        e = probe(t, key, h);
    }
    void *rec = fa_keytab_at(t, t->n);
    memset(rec, 0, t->rec_size);
    memcpy(rec, key, t->key_size);
    *e = (uint64_t)h << 32 | (t->n + 1);
    t->n++;
    *added = true;
    return rec;
}

void fa_keytab_clear(fa_keytab *t)
{
    free(t->recs);
    free(t->index);
    fa_keytab_init(t, t->rec_size, t->key_size, t->max);
}
