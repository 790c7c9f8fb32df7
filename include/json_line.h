/* json_line.h - one NDJSON line per record: the record is serialised into
 * one buffer and written with one call. */
#ifndef FLOWAUDIT_JSON_LINE_H
#define FLOWAUDIT_JSON_LINE_H

#include <jansson.h>
#include <stdio.h>

/* Writes obj as one compact line, keys in insertion order. Every real in
 * the stream is seconds (a timestamp or a duration) and is printed to the
 * microsecond, trailing zeros dropped but one decimal kept: 0.607018,
 * 300.0, 1700000000.123456. Returns 0, or -1 on a write error or when
 * out of memory. */
int fa_json_write_line(FILE *out, const json_t *obj);

#endif
