/* html_report.h - the report as one self-contained HTML page (--html) and
 * the deployment diagram as DOT (--dot). Both are written to FILE.tmp and
 * renamed over FILE, so a reader (a browser reloading the page of a live
 * run) never sees half a file. */
#ifndef FLOWAUDIT_HTML_REPORT_H
#define FLOWAUDIT_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "audit.h"
#include "ws_detect.h"

/* The page: the audit's sections as tables with the diagram (when a is
 * not NULL: a finished audit), then the sessions with their timeline.
 * Returns 0 or -1 on a write error. */
int fa_html_write(const fa_audit *a, const fa_ws *w, FILE *out);

/* Writes path atomically: fa_html_write, or with dot the diagram of a as
 * DOT (a must not be NULL then). Returns 0, or -1 with "path: reason" in
 * err. */
int fa_html_write_file(const char *path, const fa_audit *a, const fa_ws *w, char *err, size_t errlen);
int fa_dot_write_file(const char *path, const fa_audit *a, char *err, size_t errlen);

#endif
