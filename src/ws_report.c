/* ws_report.c - the WebSocket section of the report, the "websocket" and
 * "ws_summary" NDJSON records, and the estimates of the middlebox idle
 * timeouts from the idle times that preceded kills, one per group of kills
 * that one middlebox plausibly made (ws_group). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow_json.h"
#include "ws_detect.h"
#include "ws_internal.h"

/* Idle timeouts that common middleboxes ship with: hints, not facts. */
static const struct known_timeout {
    double seconds;
    const char *what;
} known_timeouts[] = {
    {60, "nginx proxy_read_timeout default, AWS ALB idle timeout"},
    {240, "Azure Load Balancer default idle timeout (4 min)"},
    {300, "F5 BIG-IP default TCP idle timeout"},
    {350, "AWS NLB TCP idle timeout"},
    {3600, "common firewall TCP session timeout"},
    {0, NULL},
};

typedef struct estimate {
    double seconds;      /* median idle before the group's kills */
    bool exact;          /* idle closes: the timeout itself; else an upper bound */
    uint32_t kills, clustered;
} estimate;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Idle closes happen at the timeout; black holes and forged RSTs are only
 * noticed when traffic resumes, so their idle time bounds it from above.
 * Each kind is its own group, so no kill is left out for another's sake. */
static estimate estimate_group(const fa_ws *w, uint32_t g)
{
    estimate e = {0};
    double v[FA_WS_KILLS_KEPT];
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->nkills; i++)
        if (w->kill_group[i] == g)
            v[n++] = w->kill_idle[i];
    if (n == 0)
        return e;
    qsort(v, n, sizeof v[0], cmp_double);
    e.exact = w->groups[g].ending == FA_WS_KILLED_IDLE;
    e.kills = n;
    e.seconds = v[n / 2];
    for (uint32_t i = 0; i < n; i++)
        if (v[i] >= e.seconds * 0.8 && v[i] <= e.seconds * 1.2)
            e.clustered++;
    return e;
}

/* Hops from the capture point to whoever built the killing packet: TTLs
 * start at 64, 128 or 255. */
static int ttl_hops(uint8_t ttl)
{
    return ttl <= 64 ? 64 - ttl : ttl <= 128 ? 128 - ttl : 255 - ttl;
}

static char *net_str(const fa_addr *net, char *buf, size_t len)
{
    char a[FA_ADDR_STRLEN];
    snprintf(buf, len, "%s/%d", fa_addr_str(net, a, sizeof a), fa_addr_is_v4(net) ? 24 : 64);
    return buf;
}

static bool hint_matches(const estimate *e, double known)
{
    if (e->exact)
        return known >= e->seconds * 0.9 && known <= e->seconds * 1.1;
    return known <= e->seconds * 1.05 && known >= e->seconds * 0.5;
}

static const char *kind_name(uint8_t kind)
{
    return kind == FA_APP_WEBSOCKET ? "websocket" : kind == FA_APP_TLS ? "tls" : "long-lived";
}

static void print_session(const fa_ws_session *s, FILE *out)
{
    char c[FA_ADDR_STRLEN], sv[FA_ADDR_STRLEN], name[FA_HTTP_FIELD_MAX];
    if (s->kind == FA_APP_TLS)
        snprintf(name, sizeof name, "%s", s->sni);
    else
        snprintf(name, sizeof name, "%.60s%.60s", s->host, s->path);
    fprintf(out, "  %s:%u -> %s:%u %s %s  %.1f s, msgs %u/%u, %s", fa_addr_str(&s->client, c, sizeof c),
            s->client_port, fa_addr_str(&s->server, sv, sizeof sv), s->server_port,
            s->kind == FA_APP_WEBSOCKET ? "ws" : s->kind == FA_APP_TLS ? "tls" : "tcp", name[0] ? name : "-",
            (double)(s->end_us - s->start_us) / 1e6, s->dir[0].messages, s->dir[1].messages,
            fa_ws_ending_name(s->ending));
    if (s->side >= 0)
        fprintf(out, " (%s side, %.1f s idle before)", s->side ? "server" : "client", s->idle_s);
    fputc('\n', out);
    if (s->evidence[0])
        fprintf(out, "      %s\n", s->evidence);
}

static json_t *text_if(bool present, const char *text)
{
    return present ? json_string(text) : json_null();
}

/* One RST's facts; seq_vs_ack is null when the receiver had sent no ACK. */
static json_t *rst_json(const fa_ws_rst *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_real((double)r->ts_us / 1e6));
    json_object_set_new(o, "ttl", json_integer(r->ttl));
    json_object_set_new(o, "ip_id", json_integer(r->ip_id));
    json_object_set_new(o, "seq_vs_ack", r->seq_known ? json_integer(r->seq_off) : json_null());
    json_object_set_new(o, "window", json_integer(r->rcv_window));
    return o;
}

static void dir_json(json_t *o, const fa_ws_session *s, int d)
{
    const fa_ws_dir_stats *ds = &s->dir[d];
    const char *who = d ? "server" : "client";
    char key[32];
#define SET(name, v) (snprintf(key, sizeof key, "%s_%s", who, name), json_object_set_new(o, key, v))
    SET("messages", json_integer(ds->messages));
    SET("pings", json_integer(ds->pings));
    SET("pongs", json_integer(ds->pongs));
    SET("close_code", ds->close_seen ? json_integer(ds->close_code) : json_null());
    SET("frames_unparsed", json_boolean(s->frames_unparsed[d]));
    SET("bad_frames", json_integer(ds->bad_frames));
    SET("rsts", json_integer(s->rst[d].count));
    SET("rst_first", s->rst[d].count ? rst_json(&s->rst[d].first) : json_null());
    SET("rst_last", s->rst[d].count ? rst_json(&s->rst[d].last) : json_null());
#undef SET
}

json_t *fa_ws_session_json(const fa_ws_session *s)
{
    static const char *const conf_names[] = {"high", "medium", "low"};
    char c[FA_ADDR_STRLEN], sv[FA_ADDR_STRLEN];
    bool ws = s->kind == FA_APP_WEBSOCKET, tls = s->kind == FA_APP_TLS;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string("websocket"));
    json_object_set_new(o, "ts", json_real((double)s->start_us / 1e6));
    json_object_set_new(o, "uid", json_string(s->uid));
    json_object_set_new(o, "client_h", json_string(fa_addr_str(&s->client, c, sizeof c)));
    json_object_set_new(o, "client_p", json_integer(s->client_port));
    json_object_set_new(o, "server_h", json_string(fa_addr_str(&s->server, sv, sizeof sv)));
    json_object_set_new(o, "server_p", json_integer(s->server_port));
    json_object_set_new(o, "kind", json_string(kind_name(s->kind)));
    json_object_set_new(o, "confidence", json_string(conf_names[s->confidence]));
    json_object_set_new(o, "http_host", text_if(ws, s->host));
    json_object_set_new(o, "http_path", text_if(ws, s->path));
    json_object_set_new(o, "http_status", s->status >= 0 ? json_integer(s->status) : json_null());
    json_object_set_new(o, "sni", text_if(tls, s->sni));
    json_object_set_new(o, "alpn", text_if(tls, s->alpn));
    json_object_set_new(o, "duration", json_real((double)(s->end_us - s->start_us) / 1e6));
    for (int d = 0; d < 2; d++)
        dir_json(o, s, d);
    json_object_set_new(o, "ending", json_string(fa_ws_ending_name(s->ending)));
    json_object_set_new(o, "killed", json_boolean(fa_ws_ending_is_kill(s->ending)));
    json_object_set_new(o, "side", s->side < 0 ? json_null() : json_string(s->side ? "server" : "client"));
    json_object_set_new(o, "idle_before_end", json_real(s->idle_s));
    json_object_set_new(o, "killer_ttl", s->killer_ttl ? json_integer(s->killer_ttl) : json_null());
    json_object_set_new(o, "evidence", json_string(s->evidence));
    return o;
}

/* One line per group of kills: path, side, the killer's TTL, kind. */
static void print_estimates(const fa_ws *w, FILE *out)
{
    char cn[FA_ADDR_STRLEN + 4], sn[FA_ADDR_STRLEN + 4], ttl[32];
    if (w->ngroups)
        fprintf(out, "  middlebox idle timeouts, per path, side, killer's TTL and kind of kill:\n");
    for (uint32_t g = 0; g < w->ngroups; g++) {
        const ws_group *gr = &w->groups[g];
        estimate e = estimate_group(w, g);
        if (gr->killer_ttl)
            snprintf(ttl, sizeof ttl, "TTL %u (%d hop%s)", gr->killer_ttl, ttl_hops(gr->killer_ttl),
                     ttl_hops(gr->killer_ttl) == 1 ? "" : "s");
        else
            snprintf(ttl, sizeof ttl, "no packet");
        fprintf(out, "    %s -> %s %s side, %s, %s: %s%.1f s (%u of %u kills within 20%%)\n",
                net_str(&gr->client_net, cn, sizeof cn), net_str(&gr->server_net, sn, sizeof sn),
                gr->side ? "server" : "client", ttl, fa_ws_ending_name((fa_ws_ending)gr->ending),
                e.exact ? "about " : "at most ", e.seconds, e.clustered, e.kills);
        for (int i = 0; known_timeouts[i].what; i++)
            if (hint_matches(&e, known_timeouts[i].seconds))
                fprintf(out, "      hint: %.0f s is the %s\n", known_timeouts[i].seconds, known_timeouts[i].what);
    }
    if (w->kills_not_grouped)
        fprintf(out, "    (%u kills in no estimate: more than %d groups)\n", w->kills_not_grouped, FA_WS_GROUPS_MAX);
}

int fa_ws_print_text(const fa_ws *w, FILE *out, bool color)
{
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    fprintf(out, "%sWEBSOCKETS AND LONG-LIVED SESSIONS%s\n", bold, reset);
    if (w->sessions == 0) {
        fprintf(out, "  none\n");
        return ferror(out) ? -1 : 0;
    }
    fprintf(out, "  %" PRIu64 " sessions:", w->sessions);
    for (int e = 0; e < FA_WS_ENDING_COUNT; e++)
        if (w->endings[e])
            fprintf(out, " %s=%" PRIu64, fa_ws_ending_name((fa_ws_ending)e), w->endings[e]);
    fputc('\n', out);
    for (uint32_t i = 0; i < w->nkept; i++)
        print_session(&w->kept[i], out);
    if (w->sessions > w->nkept)
        fprintf(out, "  (%" PRIu64 " more in the JSON output)\n", w->sessions - w->nkept);
    print_estimates(w, out);
    if (w->states_dropped || w->heads_dropped)
        fprintf(out, "  not followed: %" PRIu64 " flows (detector full), %" PRIu64 " handshakes (buffers full)\n",
                w->states_dropped, w->heads_dropped);
    return ferror(out) ? -1 : 0;
}

int fa_ws_write_json(const fa_ws *w, FILE *out)
{
    fa_json_sink sink = {fa_json_sink_file, fa_json_sink_file_rec, out, 0};
    return fa_ws_json_records(w, &sink);
}

/* One group's estimate, with the known defaults that fit it. */
static json_t *estimate_json(const fa_ws *w, uint32_t g)
{
    const ws_group *gr = &w->groups[g];
    estimate e = estimate_group(w, g);
    char cn[FA_ADDR_STRLEN + 4], sn[FA_ADDR_STRLEN + 4];
    json_t *o = json_object(), *hints = json_array();
    for (int i = 0; known_timeouts[i].what; i++)
        if (hint_matches(&e, known_timeouts[i].seconds))
            json_array_append_new(hints, json_pack("{s:f, s:s}", "seconds", known_timeouts[i].seconds, "what",
                                                   known_timeouts[i].what));
    json_object_set_new(o, "client_net", json_string(net_str(&gr->client_net, cn, sizeof cn)));
    json_object_set_new(o, "server_net", json_string(net_str(&gr->server_net, sn, sizeof sn)));
    json_object_set_new(o, "side", json_string(gr->side ? "server" : "client"));
    json_object_set_new(o, "killer_ttl", gr->killer_ttl ? json_integer(gr->killer_ttl) : json_null());
    json_object_set_new(o, "killer_hops", gr->killer_ttl ? json_integer(ttl_hops(gr->killer_ttl)) : json_null());
    json_object_set_new(o, "ending", json_string(fa_ws_ending_name((fa_ws_ending)gr->ending)));
    json_object_set_new(o, "kills", json_integer(e.kills));
    json_object_set_new(o, "clustered", json_integer(e.clustered));
    json_object_set_new(o, "seconds", json_real(e.seconds));
    json_object_set_new(o, "is", json_string(e.exact ? "approximate" : "upper_bound"));
    json_object_set_new(o, "hints", hints);
    return o;
}

int fa_ws_json_records(const fa_ws *w, const fa_json_sink *sink)
{
    json_t *o = json_object(), *endings = json_object(), *estimates = json_array();
    for (int i = 0; i < FA_WS_ENDING_COUNT; i++)
        json_object_set_new(endings, fa_ws_ending_name((fa_ws_ending)i), json_integer((json_int_t)w->endings[i]));
    for (uint32_t g = 0; g < w->ngroups; g++)
        json_array_append_new(estimates, estimate_json(w, g));
    json_object_set_new(o, "type", json_string("ws_summary"));
    json_object_set_new(o, "ts", fa_json_time(sink->ts_us));
    json_object_set_new(o, "sessions", json_integer((json_int_t)w->sessions));
    json_object_set_new(o, "endings", endings);
    json_object_set_new(o, "killed_sessions", json_integer((json_int_t)fa_ws_killed(w)));
    json_object_set_new(o, "timeout_estimates", estimates);
    json_object_set_new(o, "kills_not_grouped", json_integer(w->kills_not_grouped));
    json_object_set_new(o, "flows_not_followed", json_integer((json_int_t)w->states_dropped));
    json_object_set_new(o, "handshakes_not_read", json_integer((json_int_t)w->heads_dropped));
    return sink->put(sink->ctx, o);
}
