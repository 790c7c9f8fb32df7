/* records_zeek.c - Zeek conn.log lines as flows: the TSV log with its
 * '#' header (#separator, #unset_field, #path, #fields), and the JSON log
 * (one flat object per line). Zeek's conn_state is taken as Zeek computed
 * it: each state is given the two endpoint states from which
 * fa_flow_conn_state() computes that same state again, so the audit's
 * attempt logic (audit.c) stays in one place and reads a record's flow as
 * it reads a captured one. History letters give the TCP flags each side
 * sent (S SYN, H SYN-ACK, A ACK, F FIN, R RST, I FIN+RST), which tell
 * whether the initiator is known and whether only one direction was seen. */
#include "records_internal.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "decode.h"
#include "flow_table.h"

typedef struct zval {
    const char *p;   /* NULL: absent or unset */
    size_t n;
} zval;

static const struct { const char *name; fa_zeek_field id; } field_names[] = {
    {"ts", ZF_TS}, {"id.orig_h", ZF_ORIG_H}, {"id.orig_p", ZF_ORIG_P}, {"id.resp_h", ZF_RESP_H},
    {"id.resp_p", ZF_RESP_P}, {"proto", ZF_PROTO}, {"duration", ZF_DURATION},
    {"orig_bytes", ZF_ORIG_BYTES}, {"resp_bytes", ZF_RESP_BYTES}, {"conn_state", ZF_CONN_STATE},
    {"history", ZF_HISTORY}, {"orig_pkts", ZF_ORIG_PKTS}, {"orig_ip_bytes", ZF_ORIG_IP_BYTES},
    {"resp_pkts", ZF_RESP_PKTS}, {"resp_ip_bytes", ZF_RESP_IP_BYTES}, {"ip_proto", ZF_IP_PROTO},
    {NULL, ZF_COUNT},
};

/* Endpoint states that make tcp_state.c's conn_state give Zeek's state
 * back, and what the state says ended the connection. RSTOS0 also needs
 * its history (^?S[^HAFGIQ]*R), which Zeek's own history has. */
static const struct {
    const char *name;
    uint8_t orig, resp;
    uint8_t end;
} tcp_states[] = {
    {"S0", FA_EP_SYN_SENT, FA_EP_INACTIVE, FA_END_IDLE},
    {"S1", FA_EP_ESTABLISHED, FA_EP_ESTABLISHED, FA_END_IDLE},
    {"SF", FA_EP_CLOSED, FA_EP_CLOSED, FA_END_FIN},
    {"REJ", FA_EP_SYN_SENT, FA_EP_RESET, FA_END_RST_RESP},
    {"S2", FA_EP_CLOSED, FA_EP_ESTABLISHED, FA_END_FIN},
    {"S3", FA_EP_ESTABLISHED, FA_EP_CLOSED, FA_END_FIN},
    {"RSTO", FA_EP_RESET, FA_EP_ESTABLISHED, FA_END_RST_ORIG},
    {"RSTR", FA_EP_ESTABLISHED, FA_EP_RESET, FA_END_RST_RESP},
    {"RSTOS0", FA_EP_RESET, FA_EP_INACTIVE, FA_END_RST_ORIG},
    {"RSTRH", FA_EP_INACTIVE, FA_EP_RESET, FA_END_RST_RESP},
    {"SH", FA_EP_CLOSED, FA_EP_INACTIVE, FA_END_FIN},
    {"SHR", FA_EP_INACTIVE, FA_EP_CLOSED, FA_END_FIN},
    {"OTH", FA_EP_INACTIVE, FA_EP_INACTIVE, FA_END_IDLE},
    {NULL, 0, 0, 0},
};

/* TCP flags a history letter says its side sent (upper case: the
 * originator). 'D' (data) names no flag and proves none. */
static const struct { char letter; uint8_t flags; } history_flags[] = {
    {'S', FA_TH_SYN}, {'H', FA_TH_SYN | FA_TH_ACK}, {'A', FA_TH_ACK}, {'F', FA_TH_FIN},
    {'R', FA_TH_RST}, {'I', FA_TH_FIN | FA_TH_RST}, {0, 0},
};

static bool zval_is(zval v, const char *s)
{
    return v.p && v.n == strlen(s) && memcmp(v.p, s, v.n) == 0;
}

static bool parse_u64(zval v, uint64_t max, uint64_t *out)
{
    uint64_t x = 0;
    if (!v.p || v.n == 0 || v.n > 20)
        return false;
    for (size_t i = 0; i < v.n; i++) {
        unsigned d = (unsigned)(v.p[i] - '0');
        if (d > 9 || x > (max - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

/* Digits after a decimal point as microseconds: at most 6 count, more
 * must still be digits. */
static bool parse_fraction(zval v, uint64_t *us)
{
    size_t used = v.n < 6 ? v.n : 6;
    uint64_t rest;
    *us = 0;
    if (v.n == 0 || !parse_u64((zval){v.p, used}, 999999, us) ||
        (v.n > used && !parse_u64((zval){v.p + used, v.n - used}, UINT64_MAX, &rest)))
        return false;
    for (size_t i = used; i < 6; i++)
        *us *= 10;
    return true;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 * (the civil-from-days inverse, counted in 400-year eras from March). */
static uint64_t days_from_civil(uint64_t y, uint64_t m, uint64_t d)
{
    y -= m <= 2;
    uint64_t era = y / 400, yoe = y - era * 400;
    uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* Zeek's JSON::TS_ISO8601, "2023-11-14T22:13:20.000123Z": UTC, the
 * fraction optional. */
static bool parse_iso_time(zval v, uint64_t *us)
{
    static const uint8_t mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    uint64_t y, mo, d, h, mi, sec, frac = 0;
    if (v.n < 20 || v.p[4] != '-' || v.p[7] != '-' || v.p[10] != 'T' || v.p[13] != ':' || v.p[16] != ':' ||
        v.p[v.n - 1] != 'Z' || !parse_u64((zval){v.p, 4}, 9999, &y) || !parse_u64((zval){v.p + 5, 2}, 12, &mo) ||
        !parse_u64((zval){v.p + 8, 2}, 31, &d) || !parse_u64((zval){v.p + 11, 2}, 23, &h) ||
        !parse_u64((zval){v.p + 14, 2}, 59, &mi) || !parse_u64((zval){v.p + 17, 2}, 59, &sec))
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo == 0 || d == 0 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    if (v.n > 20 && (v.p[19] != '.' || !parse_fraction((zval){v.p + 20, v.n - 21}, &frac)))
        return false;
    uint64_t s = days_from_civil(y, mo, d) * 86400u + h * 3600u + mi * 60u + sec;
    if (s > FA_TS_MAX_US / 1000000u)
        return false;
    *us = s * 1000000u + frac;
    return *us <= FA_TS_MAX_US;
}

/* "1700000095.000123" (at most 6 fraction digits count) as microseconds,
 * or Zeek's ISO 8601 form, within the program's time range. */
static bool parse_time(zval v, uint64_t *us)
{
    size_t dot = 0;
    if (v.p && v.n > 10 && v.p[4] == '-')
        return parse_iso_time(v, us);
    while (dot < v.n && v.p[dot] != '.')
        dot++;
    uint64_t s, frac = 0;
    if (!v.p || !parse_u64((zval){v.p, dot}, FA_TS_MAX_US / 1000000u, &s) ||
        (dot < v.n && !parse_fraction((zval){v.p + dot + 1, v.n - dot - 1}, &frac)))
        return false;
    *us = s * 1000000u + frac;
    return *us <= FA_TS_MAX_US;
}

/* A bare address, IPv4 or IPv6. */
static bool parse_addr(zval v, fa_addr *a)
{
    char buf[FA_ADDR_STRLEN];
    fa_cidr c;
    if (!v.p || v.n == 0 || v.n >= sizeof buf || memchr(v.p, '/', v.n))
        return false;
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    if (fa_cidr_parse(buf, &c) != 0)
        return false;
    *a = c.net;
    return true;
}

static bool parse_proto(const zval *v, const fa_addr *orig, uint8_t *proto)
{
    uint64_t n;
    if (v[ZF_IP_PROTO].p)
        return parse_u64(v[ZF_IP_PROTO], 255, &n) && (*proto = (uint8_t)n, true);
    if (zval_is(v[ZF_PROTO], "tcp"))
        *proto = FA_PROTO_TCP;
    else if (zval_is(v[ZF_PROTO], "udp"))
        *proto = FA_PROTO_UDP;
    else if (zval_is(v[ZF_PROTO], "icmp")) /* Zeek's name for ICMP and ICMPv6 alike */
        *proto = fa_addr_is_v4(orig) ? FA_PROTO_ICMP : FA_PROTO_ICMP6;
    else
        return false;
    return true;
}

/* Addresses, ports and protocol: the flow's key, orig first as Zeek has it. */
static bool set_key(const zval *v, fa_flow *f)
{
    fa_addr o, r;
    uint64_t op, rp;
    uint8_t proto;
    if (!parse_addr(v[ZF_ORIG_H], &o) || !parse_addr(v[ZF_RESP_H], &r) ||
        fa_addr_is_v4(&o) != fa_addr_is_v4(&r) || !parse_u64(v[ZF_ORIG_P], 65535, &op) ||
        !parse_u64(v[ZF_RESP_P], 65535, &rp) || !parse_proto(v, &o, &proto))
        return false;
    if (fa_flow_table_make_key(&f->key, proto, &o, (uint16_t)op, &r, (uint16_t)rp))
        f->bits |= FA_FLOW_ORIG_IS_LO;
    return true;
}

/* A count the log may leave unset (0 then). */
static bool parse_count(zval v, uint64_t max, uint64_t *out)
{
    *out = 0;
    return !v.p || parse_u64(v, max, out);
}

static bool set_counts(const zval *v, fa_flow *f)
{
    uint64_t pk[2], ipb[2], pay[2], first, dur = 0;
    if (!parse_time(v[ZF_TS], &first) || (v[ZF_DURATION].p && !parse_time(v[ZF_DURATION], &dur)) ||
        dur > FA_TS_MAX_US - first || !parse_count(v[ZF_ORIG_PKTS], UINT32_MAX, &pk[0]) ||
        !parse_count(v[ZF_RESP_PKTS], UINT32_MAX, &pk[1]) ||
        !parse_count(v[ZF_ORIG_IP_BYTES], UINT64_MAX, &ipb[0]) ||
        !parse_count(v[ZF_RESP_IP_BYTES], UINT64_MAX, &ipb[1]) ||
        !parse_count(v[ZF_ORIG_BYTES], UINT64_MAX, &pay[0]) || !parse_count(v[ZF_RESP_BYTES], UINT64_MAX, &pay[1]))
        return false;
    f->first_us = first;
    f->last_us = first + dur;
    for (int d = 0; d < 2; d++) {
        f->dir[d].pkts = (uint32_t)pk[d];
        f->dir[d].ip_bytes = ipb[d];
        /* A record has byte counts, not sequence numbers (fa_flow_seq_bytes). */
        f->dir[d].payload = pay[d];
    }
    return true;
}

/* conn_state as endpoint states, history as flags per side. */
static bool set_state(const zval *v, fa_flow *f)
{
    int i = 0;
    while (tcp_states[i].name && !zval_is(v[ZF_CONN_STATE], tcp_states[i].name))
        i++;
    if (!tcp_states[i].name)
        return false;
    size_t n = v[ZF_HISTORY].p ? v[ZF_HISTORY].n : 0;
    for (size_t k = 0; k < n; k++) {
        char c = v[ZF_HISTORY].p[k], up = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
        for (int j = 0; history_flags[j].letter; j++)
            if (history_flags[j].letter == up)
                f->dir[up != c].flags |= history_flags[j].flags;
        if (k < FA_HISTORY_MAX)
            f->history[k] = c;
    }
    f->end_reason = tcp_states[i].end;
    if (f->key.proto == FA_PROTO_TCP) {
        f->dir[0].state = tcp_states[i].orig;
        f->dir[1].state = tcp_states[i].resp;
    } else {
        /* Other protocols: a side is active once it sent a packet. */
        f->end_reason = FA_END_IDLE;
        for (int d = 0; d < 2; d++)
            f->dir[d].state = f->dir[d].pkts ? FA_EP_ACTIVE : FA_EP_INACTIVE;
    }
    return true;
}

/* One conn.log row as a finished flow made from a record. */
static bool row_to_flow(const zval *v, fa_flow *f)
{
    memset(f, 0, sizeof *f);
    f->bits = FA_FLOW_RECORD;
    return set_key(v, f) && set_counts(v, f) && set_state(v, f);
}

static fa_zeek_field field_id(const char *name, size_t n)
{
    for (int i = 0; field_names[i].name; i++)
        if (strlen(field_names[i].name) == n && memcmp(field_names[i].name, name, n) == 0)
            return field_names[i].id;
    return ZF_COUNT;
}

void fa_zeek_tsv_init(fa_zeek_tsv *z)
{
    memset(z, 0, sizeof *z);
    z->sep = '\t';
    z->unset[0] = '-';
    z->unset_len = 1;
    for (int i = 0; i < ZF_COUNT; i++)
        z->col[i] = -1;
}

/* "#separator \x09": the one header line with a space, and the only
 * escaped value Zeek writes in its header. */
static int read_separator(fa_zeek_tsv *z, const char *val, char *err, size_t errlen)
{
    unsigned x;
    char tail;
    if (strlen(val) == 1)
        z->sep = val[0];
    else if (sscanf(val, "\\x%2x%c", &x, &tail) == 1 && strlen(val) == 4 && x > 0)
        z->sep = (char)x;
    else {
        snprintf(err, errlen, "#separator '%.20s' is not one character", val);
        return -1;
    }
    return 0;
}

static int read_fields(fa_zeek_tsv *z, char *list, char *err, size_t errlen)
{
    static const fa_zeek_field needed[] = {ZF_TS, ZF_ORIG_H, ZF_ORIG_P, ZF_RESP_H, ZF_RESP_P, ZF_PROTO,
                                           ZF_CONN_STATE};
    for (int i = 0; i < ZF_COUNT; i++)
        z->col[i] = -1;
    int c = 0;
    for (char *p = list; p; c++) {
        char *next = strchr(p, z->sep);
        size_t n = next ? (size_t)(next - p) : strlen(p);
        fa_zeek_field id = field_id(p, n);
        if (id < ZF_COUNT && z->col[id] < 0)
            z->col[id] = c;
        p = next ? next + 1 : NULL;
    }
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (z->col[needed[i]] < 0) {
            snprintf(err, errlen, "#fields has no '%s': not a conn.log", field_names[needed[i]].name);
            return -1;
        }
    z->have_fields = true;
    return 0;
}

int fa_zeek_tsv_header(fa_zeek_tsv *z, char *line, char *err, size_t errlen)
{
    if (strncmp(line, "#separator ", 11) == 0)
        return read_separator(z, line + 11, err, errlen);
    char *val = strchr(line, z->sep);
    if (!val)
        return 0; /* "#close" without a value, comments */
    *val++ = '\0';
    if (strcmp(line, "#path") == 0 && strcmp(val, "conn") != 0) {
        snprintf(err, errlen, "a Zeek %.40s log, not conn", val);
        return -1;
    }
    if (strcmp(line, "#unset_field") == 0) {
        z->unset_len = strlen(val) < sizeof z->unset ? strlen(val) : 0;
        memcpy(z->unset, val, z->unset_len);
    }
    return strcmp(line, "#fields") == 0 ? read_fields(z, val, err, errlen) : 0;
}

bool fa_zeek_tsv_line(const fa_zeek_tsv *z, char *line, fa_flow *f)
{
    zval v[ZF_COUNT];
    memset(v, 0, sizeof v);
    if (!z->have_fields)
        return false;
    int c = 0;
    for (char *p = line; p; c++) {
        char *next = strchr(p, z->sep);
        size_t n = next ? (size_t)(next - p) : strlen(p);
        for (int i = 0; i < ZF_COUNT; i++)
            if (z->col[i] == c && !(n == z->unset_len && memcmp(p, z->unset, n) == 0))
                v[i] = (zval){p, n};
        p = next ? next + 1 : NULL;
    }
    return row_to_flow(v, f);
}

/* A bounded scan of one flat JSON object: names and scalar values are
 * taken as raw text (a value with escapes then fails to parse), nested
 * values are skipped up to a fixed depth. */
typedef struct jscan {
    const char *p;
    size_t left;
} jscan;

#define JSON_DEPTH_MAX 8

static void jspace(jscan *s)
{
    while (s->left && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++, s->left--;
}

static bool jchar(jscan *s, char c)
{
    jspace(s);
    if (!s->left || *s->p != c)
        return false;
    s->p++, s->left--;
    return true;
}

/* A string's raw contents, between its quotes. */
static bool jstring(jscan *s, zval *out)
{
    if (!jchar(s, '"'))
        return false;
    const char *start = s->p;
    while (s->left && *s->p != '"') {
        size_t step = *s->p == '\\' ? 2 : 1;
        if (step > s->left)
            return false;
        s->p += step, s->left -= step;
    }
    if (!s->left)
        return false;
    *out = (zval){start, (size_t)(s->p - start)};
    s->p++, s->left--;
    return true;
}

static bool jvalue(jscan *s, zval *out, int depth);

static bool jnested(jscan *s, char close, int depth)
{
    zval dummy;
    if (depth >= JSON_DEPTH_MAX)
        return false;
    if (jchar(s, close))
        return true;
    do {
        if (close == '}' && (!jstring(s, &dummy) || !jchar(s, ':')))
            return false;
        if (!jvalue(s, &dummy, depth + 1))
            return false;
    } while (jchar(s, ','));
    return jchar(s, close);
}

/* A value: strings and scalars in *out (null as absent), nested values
 * skipped (absent too). */
static bool jvalue(jscan *s, zval *out, int depth)
{
    *out = (zval){NULL, 0};
    jspace(s);
    if (!s->left)
        return false;
    if (*s->p == '"')
        return jstring(s, out);
    if (jchar(s, '{'))
        return jnested(s, '}', depth);
    if (jchar(s, '['))
        return jnested(s, ']', depth);
    const char *start = s->p;
    while (s->left && strchr("-+.eE0123456789truefalsn", *s->p))
        s->p++, s->left--;
    size_t n = (size_t)(s->p - start);
    if (n == 0)
        return false;
    if (!(n == 4 && memcmp(start, "null", 4) == 0))
        *out = (zval){start, n};
    return true;
}

bool fa_zeek_json_line(const char *line, size_t len, fa_flow *f)
{
    zval v[ZF_COUNT], name, val;
    jscan s = {line, len};
    memset(v, 0, sizeof v);
    if (!jchar(&s, '{'))
        return false;
    if (!jchar(&s, '}')) {
        do {
            if (!jstring(&s, &name) || !jchar(&s, ':') || !jvalue(&s, &val, 1))
                return false;
            fa_zeek_field id = field_id(name.p, name.n);
            if (id < ZF_COUNT)
                v[id] = val;
        } while (jchar(&s, ','));
        if (!jchar(&s, '}'))
            return false;
    }
    jspace(&s);
    return s.left == 0 && row_to_flow(v, f);
}
