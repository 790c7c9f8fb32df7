/* escape.c - HTML and DOT escaping of untrusted text (escape.h). Bytes
 * are checked as UTF-8 because the page says it is UTF-8: a stray byte
 * could otherwise make a browser read the bytes around it differently. */
#include "escape.h"

#include <stdbool.h>

static bool cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

int fa_utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return cont(s[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        /* E0 needs A0..BF (no overlong form), ED 80..9F (no surrogate). */
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && cont(s[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && cont(s[2]) && cont(s[3]) ? 4 : 0;
    }
    return 0;
}

/* The entity for a byte that means something in markup, or NULL. */
static const char *entity(unsigned char c)
{
    static const struct { unsigned char c; const char *name; } entities[] = {
        {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}, {0, NULL},
    };
    for (int i = 0; entities[i].name; i++)
        if (entities[i].c == c)
            return entities[i].name;
    return NULL;
}

int fa_html_escape(FILE *out, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t done = 0;
    while (*p) {
        int n = fa_utf8_seq(p);
        if (max && done + (n ? (size_t)n : 1) > max)
            break;
        const char *e = n == 1 ? entity(*p) : NULL;
        if (e)
            fputs(e, out);
        else if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)) || (p[0] == 0xC2 && p[1] < 0xA0))
            fputs("\xEF\xBF\xBD", out); /* U+FFFD; C1 controls too */
        else
            fwrite(p, 1, (size_t)n, out);
        p += n ? n : 1;
        done += n ? (size_t)n : 1;
    }
    if (*p)
        fputs("...", out);
    return ferror(out) ? -1 : 0;
}

int fa_dot_escape(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = fa_utf8_seq(p);
        if (n == 1 && (*p == '"' || *p == '\\'))
            fprintf(out, "\\%c", *p);
        else if (n == 1 && *p == '\n')
            fputs("\\n", out);
        else if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)))
            fputc('?', out);
        else
            fwrite(p, 1, (size_t)n, out);
        p += n ? n : 1;
    }
    return ferror(out) ? -1 : 0;
}
