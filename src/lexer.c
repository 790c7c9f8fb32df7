/* lexer.c - splits rule and site files into lines of words, with
 * "file:line: message" errors. */
#include "lexer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int too_large(const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: file too large (limit %u bytes)", path, FA_LEX_TEXT_MAX);
    return -1;
}

/* Sets up lx over text (see lexer.h); -1 when the text is over the size limit. */
int fa_lex_init(fa_lexer *lx, const char *name, const char *text, size_t len,
                char *err, size_t errlen)
{
    lx->name = name;
    lx->pos = text;
    lx->end = text + len;
    lx->line = 0;
    lx->indented = false;
    lx->nwords = 0;
    lx->err = err;
    lx->errlen = errlen;
    if (len > FA_LEX_TEXT_MAX) {
        lx->pos = lx->end;
        return too_large(name, err, errlen);
    }
    /* Editors on Windows start UTF-8 files with a byte-order mark; it is
     * no part of the first line. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        lx->pos += 3;
    return 0;
}

static int lex_verror(fa_lexer *lx, int line, const char *fmt, va_list ap)
{
    if (lx->err == NULL || lx->errlen == 0)
        return -1;
    int n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->name, line);
    if (n >= 0 && (size_t)n < lx->errlen)
        vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
    return -1;
}

/* Formats an error for the current line into the caller's buffer; returns -1. */
int fa_lex_error(fa_lexer *lx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lex_verror(lx, lx->line, fmt, ap);
    va_end(ap);
    return -1;
}

/* As fa_lex_error, for a given line; returns -1. */
int fa_lex_error_at(fa_lexer *lx, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lex_verror(lx, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0 when it
 * is malformed, overlong, a surrogate or above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp, min;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, cp = s[0] & 0x1fu, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, cp = s[0] & 0x0fu, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, cp = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Text fields end up in JSON output and terminals, so only printable text
 * is accepted. */
static int check_bytes(fa_lexer *lx, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            return fa_lex_error(lx, "control character 0x%02x", u[i]);
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0)
            return fa_lex_error(lx, "invalid UTF-8");
        i += n;
    }
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies a quoted word that starts after the opening quote at s[*i]. */
static int quoted_word(fa_lexer *lx, const char *s, size_t len, size_t *i, char **out)
{
    for (;;) {
        if (*i >= len)
            return fa_lex_error(lx, "unterminated quoted text");
        char c = s[(*i)++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (*i >= len)
                return fa_lex_error(lx, "unterminated quoted text");
            c = s[(*i)++];
            if (c != '"' && c != '\\')
                return fa_lex_error(lx, "bad escape in quoted text (only \\\" and \\\\)");
        }
        *(*out)++ = c;
    }
    if (*i < len && !is_blank(s[*i]) && s[*i] != '#')
        return fa_lex_error(lx, "text right after a closing quote");
    return 0;
}

static int split_words(fa_lexer *lx, const char *s, size_t len)
{
    char *out = lx->buf;
    size_t i = 0;
    lx->nwords = 0;
    lx->indented = len > 0 && is_blank(s[0]);
    for (;;) {
        while (i < len && is_blank(s[i]))
            i++;
        if (i >= len || s[i] == '#')
            return 0;
        lx->words[lx->nwords++] = out;
        if (s[i] == '"') {
            i++;
            if (quoted_word(lx, s, len, &i, &out) < 0)
                return -1;
        } else {
            while (i < len && !is_blank(s[i]) && s[i] != '#') {
                if (s[i] == '"')
                    return fa_lex_error(lx, "quote inside a word");
                *out++ = s[i++];
            }
        }
        *out++ = '\0';
    }
}

/* Splits the next non-empty line into lx->words; returns 1, 0 at the end, -1 on error. */
int fa_lex_next(fa_lexer *lx)
{
    while (lx->pos < lx->end) {
        const char *start = lx->pos;
        size_t avail = (size_t)(lx->end - start);
        const char *nl = memchr(start, '\n', avail);
        size_t len = nl ? (size_t)(nl - start) : avail;
        lx->pos = nl ? nl + 1 : lx->end;
        lx->line++;
        if (len > 0 && start[len - 1] == '\r')
            len--;
        if (len > FA_LEX_LINE_MAX)
            return fa_lex_error(lx, "line too long (limit %d bytes)", FA_LEX_LINE_MAX);
        if (check_bytes(lx, start, len) < 0 || split_words(lx, start, len) < 0)
            return -1;
        if (lx->nwords > 0)
            return 1;
    }
    return 0;
}

static bool is_ident_char(char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

/* Validates an identifier word; returns 0, or -1 with the error written. */
int fa_lex_ident(fa_lexer *lx, const char *what, const char *word)
{
    size_t len = strlen(word);
    if (len >= FA_ID_MAX)
        return fa_lex_error(lx, "%s id too long (limit %d characters)", what, FA_ID_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        if (!is_ident_char(word[i], i == 0))
            return fa_lex_error(lx, "bad %s id '%s'", what, word);
    }
    if (len == 0)
        return fa_lex_error(lx, "empty %s id", what);
    return 0;
}

/* Returns arr or a realloc'd copy with room for element n; NULL when out of memory. */
void *fa_lex_grow(void *arr, int n, size_t size)
{
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return arr;
    return realloc(arr, (n == 0 ? 8 : (size_t)n * 2) * size);
}

static int read_error(const char *path, const char *why, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, why);
    return -1;
}

/* Reads at most one byte past the limit, so an endless stream is refused
 * after FA_LEX_TEXT_MAX bytes. */
static int read_stream(FILE *f, const char *path, char **text, size_t *len, char *err,
                       size_t errlen)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n > FA_LEX_TEXT_MAX) {
            free(buf);
            return too_large(path, err, errlen);
        }
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - 1 - n;
        if (want > FA_LEX_TEXT_MAX + 1 - n)
            want = FA_LEX_TEXT_MAX + 1 - n;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                return read_error(path, strerror(errno ? errno : EIO), err, errlen);
            }
            buf[n] = '\0';
            *text = buf;
            *len = n;
            return 0;
        }
    }
    free(buf);
    return read_error(path, "out of memory", err, errlen);
}

/* Reads a regular file into a new NUL-terminated buffer the caller frees.
 * The open does not block: opening a FIFO for reading waits for a writer,
 * which would hang start-up, or a reload and with it live capture. Only a
 * regular file is read, so the read is bounded by its size. */
int fa_lex_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return read_error(path, strerror(errno), err, errlen);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return read_error(path, "not a regular file", err, errlen);
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int why = errno;
        close(fd);
        return read_error(path, strerror(why), err, errlen);
    }
    int rc = read_stream(f, path, text, len, err, errlen);
    fclose(f);
    return rc;
}
