/* json_line.h - one NDJSON line per record: the record is serialised into
 * one buffer and written with one call. A record is either a jansson
 * object (fa_json_write_line), or written member by member straight into
 * the buffer (fa_json_rec), which the records made for every flow use:
 * building and freeing a jansson object cost more than writing it. */
#ifndef FLOWAUDIT_JSON_LINE_H
#define FLOWAUDIT_JSON_LINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes obj as one compact line, keys in insertion order. Every real in
 * the stream is seconds (a timestamp or a duration) and is printed to the
 * microsecond, trailing zeros dropped but one decimal kept: 0.607018,
 * 300.0, 1700000000.123456. Returns 0, or -1 on a write error or when
 * out of memory. */
int fa_json_write_line(FILE *out, const json_t *obj);

/* A record being written. Zero it (or fa_json_rec_init) before first use;
 * its buffer grows on the heap as needed and is kept from one record to
 * the next until fa_json_rec_free. Members are written in call order,
 * exactly as fa_json_write_line writes a jansson object with the same
 * members. A key is the program's own name and is written as it is, so it
 * must need no escaping; values are escaped. A NULL key writes an array
 * element. An allocation failure is remembered and reported by
 * fa_json_rec_line. */
typedef struct fa_json_rec {
    char *p;
    size_t len, cap;
    bool heap, failed, comma;
} fa_json_rec;

/* Starts empty, writing into buf (cap bytes, the caller's, may be NULL)
 * until it is full, then on the heap. */
void fa_json_rec_init(fa_json_rec *r, char *buf, size_t cap);
/* Frees the heap buffer, if any; r may be used again after init. */
void fa_json_rec_free(fa_json_rec *r);
/* Empties the record, keeping its buffer. */
void fa_json_rec_reset(fa_json_rec *r);

void fa_json_rec_open(fa_json_rec *r, const char *key);       /* { */
void fa_json_rec_close(fa_json_rec *r);                       /* } */
void fa_json_rec_array(fa_json_rec *r, const char *key);      /* [ */
void fa_json_rec_array_end(fa_json_rec *r);                   /* ] */
void fa_json_rec_str(fa_json_rec *r, const char *key, const char *s);
void fa_json_rec_int(fa_json_rec *r, const char *key, int64_t v);
/* Seconds, printed as fa_json_write_line prints a real. */
void fa_json_rec_seconds(fa_json_rec *r, const char *key, double v);
/* Microseconds as seconds, the same text as fa_json_rec_seconds of
 * us / 1e6, without going through a double where that is exact. */
void fa_json_rec_micros(fa_json_rec *r, const char *key, uint64_t us);
/* Microseconds as seconds, or null for 0 (unknown), as fa_json_time. */
void fa_json_rec_time(fa_json_rec *r, const char *key, uint64_t us);
void fa_json_rec_bool(fa_json_rec *r, const char *key, bool v);
void fa_json_rec_null(fa_json_rec *r, const char *key);
/* The string, or null for NULL. */
void fa_json_rec_str_or_null(fa_json_rec *r, const char *key, const char *s);

/* Ends the line and writes it to out with one call, then empties the
 * record. The record's objects must all be closed. Returns 0, or -1 on a
 * write error or when a member could not be stored. */
int fa_json_rec_line(fa_json_rec *r, FILE *out);
/* A copy of r, its object (the outermost, the only one open) closed after
 * one more member key: v, as a NUL-terminated string without a newline,
 * its length in *len (a Kafka message); r is left as it was. The caller
 * frees the string. NULL when out of memory or r failed. */
char *fa_json_rec_message(const fa_json_rec *r, const char *key, int64_t v, size_t *len);

#endif
