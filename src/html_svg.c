/* html_svg.c - the pictures of the HTML page, drawn as inline SVG: the
 * deployment diagram laid out by diagram.c, and the timeline of the
 * WebSocket and long-lived sessions. The timeline has two panes on the
 * same rows: each session's bar in time, its last silence hatched and its
 * ending marked where it ended; and the same ending placed by the length
 * of that silence, where a middlebox's idle timeout shows as a column of
 * kills. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html_internal.h"

#define ROWS_SHOWN 300      /* sessions drawn and listed */
#define ROW_H 16
#define LABEL_W 330         /* timeline: pane widths in pixels */
#define TIME_W 560
#define IDLE_X (LABEL_W + TIME_W + 30)
#define IDLE_W 260

static void legend(FILE *out)
{
    fputs("<p class=\"small\">", out);
    for (int k = 0; k < FA_EDGE_KINDS; k++)
        fprintf(out, "<span style=\"color:%s\">&#9644; %s</span> &nbsp; ", fa_edge_kind_color((fa_edge_kind)k),
                fa_edge_kind_name((fa_edge_kind)k));
    fputs("<br>Edges join roles; one edge stands for every rule between two roles and takes the worst "
          "status among them (hover for the list). Healthy edges carry no label.</p>\n", out);
}

static void svg_edge(const fa_diagram_edge *e, FILE *out)
{
    const char *dash = fa_edge_kind_dash(e->kind);
    fputs("<g><title>", out);
    FA_H(out, fa_edge_kind_name(e->kind));
    fputs(":\n", out);
    FA_H(out, e->detail);
    fprintf(out, "</title><path d=\"M%d %d C%d %d %d %d %d %d\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"",
            e->x1, e->y1, e->cx1, e->cy1, e->cx2, e->cy2, e->x2, e->y2, fa_edge_kind_color(e->kind),
            e->kind == FA_EDGE_SEEN ? "1.2" : "2");
    if (dash[0])
        fprintf(out, " stroke-dasharray=\"%s\"", dash);
    fprintf(out, " marker-end=\"url(#arrow%d)\"/></g>\n", (int)e->kind);
}

static void svg_node(const fa_diagram_node *n, FILE *out)
{
    fputs("<g class=\"role\"><title>", out);
    FA_H(out, n->label);
    if (n->description) {
        fputs(": ", out);
        FA_H(out, n->description);
    }
    fprintf(out, "</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"#f4f7fb\" "
                 "stroke=\"#455a64\"/><text class=\"title\" x=\"%d\" y=\"%d\">",
            n->x, n->y, n->w, n->h, n->x + 8, n->y + 16);
    fa_html_escape(out, n->label, 30);
    fputs("</text>", out);
    for (int k = 0; k < n->naddrs; k++) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#455a64\">", n->x + 8, n->y + 31 + 14 * k);
        fa_html_escape(out, n->addrs[k], 32);
        fputs("</text>", out);
    }
    fputs("</g>\n", out);
}

void fa_html_diagram(const fa_diagram *d, FILE *out)
{
    fputs("<h2 id=\"diagram\">Deployment diagram</h2>\n", out);
    if (d->port_only)
        fputs("<p>Port-only mode: no site file, so roles have no addresses and were not verified.</p>\n", out);
    legend(out);
    fprintf(out, "<div class=\"wide\"><svg id=\"deployment\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">\n<defs>",
            d->width, d->height, d->width, d->height);
    for (int k = 0; k < FA_EDGE_KINDS; k++)
        fprintf(out, "<marker id=\"arrow%d\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
                     "markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>",
                k, fa_edge_kind_color((fa_edge_kind)k));
    fputs("</defs>\n", out);
    for (int i = 0; i < d->nedges; i++)
        svg_edge(&d->edges[i], out);
    for (int i = 0; i < d->nnodes; i++)
        svg_node(&d->nodes[i], out);
    /* Labels last, over the lines, with a white halo. */
    for (int i = 0; i < d->nedges; i++) {
        const fa_diagram_edge *e = &d->edges[i];
        if (!e->label[0])
            continue;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" stroke=\"#fff\" "
                     "stroke-width=\"3\" paint-order=\"stroke\">", e->lx, e->ly - 3, fa_edge_kind_color(e->kind));
        fa_html_escape(out, e->label, 40);
        fputs("</text>\n", out);
    }
    fputs("</svg></div>\n", out);
}

/* How each ending is marked: colour and shape. */
static const struct ending_mark {
    const char *color;
    char shape;             /* o circle, O ring, s square, d diamond, x cross, > triangle */
} marks[FA_WS_ENDING_COUNT] = {
    [FA_WS_CLEAN] = {"#2e7d32", 'o'},
    [FA_WS_KILLED_RST] = {"#c62828", 'x'},
    [FA_WS_KILLED_BLACKHOLE] = {"#000000", 'd'},
    [FA_WS_KILLED_IDLE] = {"#ef6c00", 's'},
    [FA_WS_CLOSED_ENDPOINT] = {"#1565c0", 'O'},
    [FA_WS_STILL_OPEN] = {"#78909c", '>'},
    [FA_WS_FAILED_UPGRADE] = {"#8e24aa", 'x'},
};

static void mark(FILE *out, int ending, double x, double y)
{
    const struct ending_mark *m = &marks[ending];
    switch (m->shape) {
    case 'o': fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", x, y, m->color); break;
    case 'O':
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"2\"/>", x, y,
                m->color);
        break;
    case 's':
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>", x - 4, y - 4, m->color);
        break;
    case 'd':
        fprintf(out, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"/>", x, y - 5, m->color);
        break;
    case 'x':
        fprintf(out, "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke=\"%s\" stroke-width=\"2.5\"/>", x - 4, y - 4,
                m->color);
        break;
    default:
        fprintf(out, "<path d=\"M%.1f %.1fl7 4.5l-7 4.5z\" fill=\"%s\"/>", x, y - 4.5, m->color);
        break;
    }
}

static int by_start(const void *x, const void *y)
{
    const fa_ws_session *a = *(const fa_ws_session *const *)x, *b = *(const fa_ws_session *const *)y;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    return strcmp(a->uid, b->uid);
}

/* What names a session for people: Host and path, or SNI. */
static void session_name(const fa_ws_session *s, FILE *out, size_t max)
{
    char c[FA_ADDR_STRLEN], sv[FA_ADDR_STRLEN], head[128];
    snprintf(head, sizeof head, "%s:%u \xE2\x86\x92 %s:%u ", fa_addr_str(&s->client, c, sizeof c), s->client_port,
             fa_addr_str(&s->server, sv, sizeof sv), s->server_port);
    fputs(head, out);
    if (s->kind == FA_APP_TLS && s->sni[0]) {
        fa_html_escape(out, s->sni, max);
    } else if (s->host[0] || s->path[0]) {
        fa_html_escape(out, s->host, max);
        fa_html_escape(out, s->path, max);
    }
}

/* A round step for an axis that covers span in at most 8 steps: 1, 2 or
 * 5 times a power of ten. */
static double axis_step(double span)
{
    static const double mult[] = {1, 2, 5};
    double decade = 1e-3;
    for (; decade < 1e15; decade *= 10)
        for (int i = 0; i < 3; i++)
            if (span / (decade * mult[i]) <= 8)
                return decade * mult[i];
    return decade;
}

/* Grid lines and numbers of one axis, from 0 to max, over width pixels. */
static void axis(FILE *out, int x0, int width, double max, int height)
{
    double step = axis_step(max);
    for (int k = 0; k * step <= max * 1.0001; k++) {
        double x = x0 + k * step / max * width;
        fprintf(out, "<path d=\"M%.1f 22V%d\" stroke=\"#e0e0e0\"/><text x=\"%.1f\" y=\"32\" "
                     "text-anchor=\"middle\">%.*f</text>", x, height, x, step < 1 ? 3 : 0, k * step);
    }
}

static void timeline_row(const fa_ws_session *s, int row, uint64_t t0, double span_s, double idle_max, FILE *out)
{
    double y = 40 + row * ROW_H + ROW_H / 2.0;
    double xs = LABEL_W + (double)(s->start_us - t0) / 1e6 / span_s * TIME_W;
    double xe = LABEL_W + (double)(s->end_us - t0) / 1e6 / span_s * TIME_W;
    double idle = s->idle_s < (double)(s->end_us - s->start_us) / 1e6 ? s->idle_s
                                                                        : (double)(s->end_us - s->start_us) / 1e6;
    double xi = xe - idle / span_s * TIME_W;
    fputs("<g><title>", out);
    FA_H(out, s->uid);
    fprintf(out, ": %s, %.1f s idle before the end\n", fa_ws_ending_name((fa_ws_ending)s->ending), s->idle_s);
    FA_H(out, s->evidence);
    fprintf(out, "</title><text x=\"4\" y=\"%.1f\">", y + 4);
    session_name(s, out, 24);
    fprintf(out, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill=\"#90a4ae\"/>", xs, y - 4,
            xe - xs > 1 ? xe - xs : 1);
    if (xe - xi >= 1)
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill=\"url(#idle)\"/>", xi, y - 4,
                xe - xi);
    mark(out, s->ending, xe, y);
    mark(out, s->ending, IDLE_X + (idle_max > 0 ? s->idle_s / idle_max * IDLE_W : 0), y);
    fputs("</g>\n", out);
}

static void timeline(const fa_ws_session **v, uint32_t n, FILE *out)
{
    uint64_t t0 = UINT64_MAX, t1 = 0;
    double idle_max = 0;
    for (uint32_t i = 0; i < n; i++) {
        t0 = v[i]->start_us < t0 ? v[i]->start_us : t0;
        t1 = v[i]->end_us > t1 ? v[i]->end_us : t1;
        idle_max = v[i]->idle_s > idle_max ? v[i]->idle_s : idle_max;
    }
    double span_s = t1 > t0 ? (double)(t1 - t0) / 1e6 : 1;
    idle_max = idle_max > 0 ? axis_step(idle_max) * ceil(idle_max / axis_step(idle_max)) : 1;
    int height = 40 + (int)n * ROW_H + 10;
    fprintf(out, "<div class=\"wide\"><svg id=\"timeline\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">\n",
            IDLE_X + IDLE_W + 20, height, IDLE_X + IDLE_W + 20, height);
    fputs("<defs><pattern id=\"idle\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
          "<rect width=\"4\" height=\"4\" fill=\"#eceff1\"/><path d=\"M0 4L4 0\" stroke=\"#546e7a\"/>"
          "</pattern></defs>\n", out);
    fprintf(out, "<text x=\"%d\" y=\"14\" class=\"title\">seconds from the first start</text>"
                 "<text x=\"%d\" y=\"14\" class=\"title\">idle before the end (s)</text>",
            LABEL_W, IDLE_X);
    axis(out, LABEL_W, TIME_W, span_s, height);
    axis(out, IDLE_X, IDLE_W, idle_max, height);
    for (uint32_t i = 0; i < n; i++)
        timeline_row(v[i], (int)i, t0, span_s, idle_max, out);
    fputs("</svg></div>\n", out);
}

/* The endings with their marks and counts, as the legend. */
static void ending_legend(const fa_ws *w, FILE *out)
{
    fprintf(out, "<p>%" PRIu64 " sessions:", fa_ws_sessions(w));
    for (int e = 0; e < FA_WS_ENDING_COUNT; e++) {
        fputs(" <svg class=\"key\" width=\"12\" height=\"12\" viewBox=\"0 0 12 12\">", out);
        mark(out, e, 6, 6);
        fprintf(out, "</svg> %s %" PRIu64, fa_ws_ending_name((fa_ws_ending)e), fa_ws_ending_count(w, (fa_ws_ending)e));
    }
    fputs("<br><span class=\"small\">Bars run from start to end; the hatched part is the silence before the "
          "end. On the right the same ending is placed by the length of that silence: kills by one "
          "middlebox's idle timeout line up in a column.</span></p>\n", out);
}

static void session_row(const fa_ws_session *s, FILE *out)
{
    static const char *const kinds[] = {"tcp", "ws", "tls", "tcp"};
    char t[32];
    fa_html_time(s->start_us, t);
    fputs("<tr><td>", out);
    session_name(s, out, 80);
    fprintf(out, "</td><td>%s</td><td class=\"small\">%s</td><td class=\"n\">%.1f</td><td class=\"n\">%u/%u</td>"
                 "<td class=\"st\" style=\"color:%s\">%s</td><td>%s</td><td class=\"n\">%.1f</td><td class=\"small\">",
            kinds[s->kind & 3], t, (double)(s->end_us - s->start_us) / 1e6, s->dir[0].messages, s->dir[1].messages,
            marks[s->ending].color, fa_ws_ending_name((fa_ws_ending)s->ending),
            s->side < 0 ? "" : s->side ? "server" : "client", s->idle_s);
    FA_H(out, s->evidence);
    fputs("</td></tr>\n", out);
}

void fa_html_sessions(const fa_ws *w, FILE *out)
{
    uint32_t kept, n = 0;
    const fa_ws_session *all = fa_ws_kept(w, &kept);
    const fa_ws_session *v[ROWS_SHOWN];
    fputs("<h2 id=\"sessions\">WebSockets and long-lived sessions</h2>\n", out);
    if (fa_ws_sessions(w) == 0) {
        fputs("<p>None.</p>\n", out);
        return;
    }
    for (uint32_t i = 0; i < kept && n < ROWS_SHOWN; i++)
        v[n++] = &all[i];
    qsort(v, n, sizeof v[0], by_start);
    ending_legend(w, out);
    timeline(v, n, out);
    fputs("<table><tr><th>client &rarr; server, Host and path or SNI</th><th>kind</th><th>start (UTC)</th>"
          "<th>seconds</th><th>messages c/s</th><th>ending</th><th>side</th><th>idle before end (s)</th>"
          "<th>evidence</th></tr>\n", out);
    for (uint32_t i = 0; i < n; i++)
        session_row(v[i], out);
    fputs("</table>\n", out);
    if (fa_ws_sessions(w) > n)
        fprintf(out, "<p>%" PRIu64 " more sessions in the JSON output.</p>\n", fa_ws_sessions(w) - n);
}
