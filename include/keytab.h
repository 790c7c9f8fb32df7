/* keytab.h - an append-only table of fixed-size records found by the
 * fixed-size key each begins with.
 *
 * The records lie in one array in the order they came; an open-addressing
 * index beside it holds each record's slot number with 32 bits of its
 * key's hash. A lookup reads one index entry (rarely two) and the record
 * it names, where uthash walks a chain of records, one cache miss each,
 * that grows to ten before the table does. Made for the audit's
 * aggregates, which only grow, up to a cap, until they are cleared. */
#ifndef FLOWAUDIT_KEYTAB_H
#define FLOWAUDIT_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fa_keytab {
    size_t rec_size, key_size;
    uint32_t n;          /* records held */
    uint32_t max;        /* the most it takes */
    uint32_t room;       /* records the array has room for */
    unsigned char *recs;
    uint64_t *index;     /* (hash << 32) | (slot + 1); 0 is an empty entry */
    uint32_t index_mask; /* entries - 1, a power of two, at least twice n */
} fa_keytab;

/* A table of records of rec_size bytes whose first key_size bytes are the
 * key (compared as bytes: clear the padding of a key struct), holding at
 * most max. Allocates nothing until the first record. */
void fa_keytab_init(fa_keytab *t, size_t rec_size, size_t key_size, uint32_t max);
/* The record with this key, or a new one, zeroed but for the key, with
 * *added set. NULL when a new one would be past max or memory ran out.
 * Records move when one is added: a pointer is good until then. */
void *fa_keytab_get(fa_keytab *t, const void *key, bool *added);
/* The record with this key, or NULL. */
const void *fa_keytab_find(const fa_keytab *t, const void *key);
/* Record i, 0 <= i < n, in the order they were added. */
static inline void *fa_keytab_at(const fa_keytab *t, uint32_t i)
{
    return t->recs + (size_t)i * t->rec_size;
}
/* Empties the table and gives its memory back. */
void fa_keytab_clear(fa_keytab *t);

#endif
