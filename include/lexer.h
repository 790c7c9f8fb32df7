/* lexer.h - line tokenizer and error reporting shared by the rule and site
 * parsers (lexical rules: docs/rule-format.md). Internal to flowaudit_core. */
#ifndef FLOWAUDIT_LEXER_H
#define FLOWAUDIT_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#define FA_LEX_LINE_MAX 4095                  /* bytes before the newline */
#define FA_LEX_TEXT_MAX (16u * 1024u * 1024u) /* bytes in one file */
/* Every word but the last takes at least one byte plus a separator, so a
 * line of FA_LEX_LINE_MAX bytes never holds more words than this. */
#define FA_LEX_MAX_WORDS ((FA_LEX_LINE_MAX + 1) / 2)
/* Longest id (product, role, feature, rule) plus its NUL. */
#define FA_ID_MAX 48

typedef struct fa_lexer {
    const char *name;          /* file name for messages */
    const char *pos, *end;     /* text not yet read */
    int line;                  /* number of the line last returned */
    bool indented;             /* that line started with a space or tab */
    int nwords;
    char *words[FA_LEX_MAX_WORDS]; /* point into buf */
    char buf[FA_LEX_LINE_MAX + 1];
    char *err;
    size_t errlen;
} fa_lexer;

/* Prepares lx to read len bytes of text (not necessarily NUL-terminated);
 * errors go to err as "name:line: message". Returns 0, or -1 (err set) when
 * the text is larger than FA_LEX_TEXT_MAX. lx keeps pointers to name, text
 * and err, which must outlive it. */
int fa_lex_init(fa_lexer *lx, const char *name, const char *text, size_t len,
                char *err, size_t errlen);

/* Reads the next line that holds at least one word, skipping blank and
 * comment-only lines. Returns 1 (words in lx->words, valid until the next
 * call), 0 at the end of the text, or -1 with the error written. */
int fa_lex_next(fa_lexer *lx);

/* Writes "name:line: message" into the error buffer; returns -1. The _at
 * form names another line than the current one. */
int fa_lex_error(fa_lexer *lx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int fa_lex_error_at(fa_lexer *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks that word is an identifier ([A-Za-z0-9][A-Za-z0-9_.-]*, shorter
 * than FA_ID_MAX); what names it in the message ("role"). Returns 0 or -1. */
int fa_lex_ident(fa_lexer *lx, const char *what, const char *word);

/* Array growth for the parsers' tables, whose capacity is implied by the
 * count (powers of two from 8) so the public structs need no capacity
 * fields. Returns arr when it has room for element n, else a larger copy
 * (realloc), or NULL when out of memory (arr is then still valid). Only
 * arrays grown this way from NULL may be passed. */
void *fa_lex_grow(void *arr, int n, size_t size);

/* Reads a whole regular file of at most FA_LEX_TEXT_MAX bytes. Returns 0
 * with *text (malloc'd, NUL-terminated, caller frees) and *len, or -1 with
 * "path: reason" in err. */
int fa_lex_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

#endif
