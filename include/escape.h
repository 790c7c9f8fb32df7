/* escape.h - text from the wire or from a configuration file (a Host
 * header, an SNI, a role's description, a vendor's impact text) written
 * into HTML, SVG or DOT so that it can only ever be text there. */
#ifndef FLOWAUDIT_ESCAPE_H
#define FLOWAUDIT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the
 * bytes there are not one (stray continuation byte, overlong form,
 * surrogate, beyond U+10FFFF, cut short). s is NUL-terminated. */
int fa_utf8_seq(const unsigned char *s);

/* Writes at most max bytes of s (0: all) as HTML or XML text: & < > " '
 * as entities, control characters and bytes that are not UTF-8 as U+FFFD,
 * and "..." when it was cut. Safe in element content and in quoted
 * attribute values. Returns 0, or -1 on a write error. */
int fa_html_escape(FILE *out, const char *s, size_t max);

/* Writes s for the inside of a double-quoted DOT string: " and \ escaped,
 * newline as \n, other control characters and non-UTF-8 bytes as '?'. */
int fa_dot_escape(FILE *out, const char *s);

#endif
