/* cursor.h - bounds-checked reads from untrusted packet bytes.
 *
 * Every field of a packet is read through a cursor (pointer, bytes left).
 * Reads return false instead of running past the captured data, and the
 * checks compare lengths (need <= left), never computed pointers, so the
 * compiler cannot optimise them away. Multi-byte reads are big-endian and
 * alignment-free. */
#ifndef FLOWAUDIT_CURSOR_H
#define FLOWAUDIT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fa_cursor {
    const uint8_t *p;
    size_t left;
} fa_cursor;

static inline fa_cursor fa_cursor_make(const uint8_t *p, size_t len)
{
    fa_cursor c = {p, len};
    return c;
}

static inline bool fa_cursor_has(const fa_cursor *c, size_t need)
{
    return need <= c->left;
}

static inline bool fa_cursor_skip(fa_cursor *c, size_t n)
{
    if (n > c->left)
        return false;
    c->p += n;
    c->left -= n;
    return true;
}

/* Peeks at byte off without consuming; false when it is not captured. */
static inline bool fa_cursor_peek_u8(const fa_cursor *c, size_t off, uint8_t *v)
{
    if (off >= c->left)
        return false;
    *v = c->p[off];
    return true;
}

static inline bool fa_cursor_peek_be16(const fa_cursor *c, size_t off, uint16_t *v)
{
    if (c->left < 2 || off > c->left - 2)
        return false;
    *v = (uint16_t)((c->p[off] << 8) | c->p[off + 1]);
    return true;
}

static inline bool fa_cursor_peek_be32(const fa_cursor *c, size_t off, uint32_t *v)
{
    if (c->left < 4 || off > c->left - 4)
        return false;
    *v = ((uint32_t)c->p[off] << 24) | ((uint32_t)c->p[off + 1] << 16) |
         ((uint32_t)c->p[off + 2] << 8) | c->p[off + 3];
    return true;
}

static inline bool fa_cursor_u8(fa_cursor *c, uint8_t *v)
{
    return fa_cursor_peek_u8(c, 0, v) && fa_cursor_skip(c, 1);
}

static inline bool fa_cursor_be16(fa_cursor *c, uint16_t *v)
{
    return fa_cursor_peek_be16(c, 0, v) && fa_cursor_skip(c, 2);
}

static inline bool fa_cursor_be32(fa_cursor *c, uint32_t *v)
{
    return fa_cursor_peek_be32(c, 0, v) && fa_cursor_skip(c, 4);
}

/* Splits off the first n bytes as their own cursor (clamped to what is
 * captured); the parent moves past them. */
static inline fa_cursor fa_cursor_take(fa_cursor *c, size_t n)
{
    size_t k = n < c->left ? n : c->left;
    fa_cursor sub = {c->p, k};
    c->p += k;
    c->left -= k;
    return sub;
}

#endif
