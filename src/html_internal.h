/* html_internal.h - the parts of the HTML page, shared by html_report.c
 * (the page, CSS, atomic files), html_audit.c (the audit's tables) and
 * html_svg.c (the diagram and the session timeline). Not public. */
#ifndef FLOWAUDIT_HTML_INTERNAL_H
#define FLOWAUDIT_HTML_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "diagram.h"
#include "escape.h"
#include "ws_detect.h"

/* Escaped text, whole. */
#define FA_H(out, s) fa_html_escape((out), (s), 0)

/* "2026-01-02 03:04:05" (UTC) of a time in microseconds. */
void fa_html_time(uint64_t us, char out[32]);

/* html_audit.c: the audit's sections. The page puts the sessions before
 * the tail (rule hits, totals), which is reference more than news. */
void fa_html_audit_head(const fa_audit *a, FILE *out);  /* scope, coverage, roles not deployed */
void fa_html_audit_body(const fa_audit *a, FILE *out);  /* findings, one-way, odd flows */
void fa_html_audit_tail(const fa_audit *a, FILE *out);  /* rule hits, totals */

/* html_svg.c: the diagram, and the sessions' timeline and table. */
void fa_html_diagram(const fa_diagram *d, FILE *out);
void fa_html_sessions(const fa_ws *w, FILE *out);

#endif
