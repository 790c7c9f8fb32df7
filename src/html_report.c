/* html_report.c - the HTML page (html_report.h): one file, its CSS and
 * SVG inline, no script and no address to fetch, so that it can be mailed
 * or opened from a share and reads the same anywhere. Every string that
 * came from the wire or a configuration file goes through escape.c. */
#include "html_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diagram.h"
#include "html_internal.h"

/* Status colours match the diagram's (diagram.c). */
static const char page_css[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .4em;"
    "border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ddd;padding:2px 6px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}"
    ".scope td{border:none;padding:0 1em 0 0}.small{font-size:.85em;color:#555}"
    ".st{font-weight:bold;white-space:nowrap}.rejected{color:#c62828}.blocked{color:#ef6c00}"
    ".not_seen{color:#757575}.unconfirmed{color:#8d6e63}.seen{color:#2e7d32}"
    ".high{background:#fde0dc}.medium{background:#fff4d6}.low{background:#eee}"
    "svg{border:1px solid #ddd;background:#fff}.wide{overflow-x:auto}svg.key{border:none;vertical-align:middle}"
    "svg text{font:11px sans-serif}svg .title{font-weight:bold}";

void fa_html_time(uint64_t us, char out[32])
{
    time_t s = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

int fa_html_write(const fa_audit *a, const fa_ws *w, FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n", out);
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>flowaudit report</title>\n<style>", out);
    fputs(page_css, out);
    fputs("</style></head>\n<body>\n", out);
    if (a) {
        fa_html_audit_head(a, out);
        fa_diagram *d = fa_diagram_build(a);
        if (d)
            fa_html_diagram(d, out);
        else
            fputs("<p>diagram: out of memory</p>\n", out);
        fa_diagram_free(d);
        fa_html_audit_body(a, out);
    } else {
        fputs("<h1>flowaudit sessions</h1>\n<p>No rules were loaded: sessions only.</p>\n", out);
    }
    fa_html_sessions(w, out);
    if (a)
        fa_html_audit_tail(a, out);
    fputs("</body></html>\n", out);
    return ferror(out) ? -1 : 0;
}

/* Writes into path.tmp, then renames it over path. */
static int write_replacing(const char *path, const fa_audit *a, const fa_ws *w, bool dot, char *err,
                           size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    FILE *out = fopen(tmp, "w");
    if (!out) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    errno = 0;
    int rc;
    if (dot) {
        fa_diagram *d = fa_diagram_build(a);
        rc = d ? fa_dot_write(d, out) : -1;
        fa_diagram_free(d);
    } else {
        rc = fa_html_write(a, w, out);
    }
    if (fclose(out) != 0 || rc != 0) {
        snprintf(err, errlen, "%s: %s", tmp, errno ? strerror(errno) : "write failed");
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int fa_html_write_file(const char *path, const fa_audit *a, const fa_ws *w, char *err, size_t errlen)
{
    return write_replacing(path, a, w, false, err, errlen);
}

int fa_dot_write_file(const char *path, const fa_audit *a, char *err, size_t errlen)
{
    return write_replacing(path, a, NULL, true, err, errlen);
}
