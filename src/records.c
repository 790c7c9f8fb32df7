/* records.c - the driver for flow records (records.h): reads each -r
 * input line by line into a fixed buffer, makes one flow per record
 * (records_zeek.c) and hands it to the run core.
 *
 * A captured ICMP unreachable quotes the header of the packet it refuses,
 * which names the connection; a flow record of the ICMP error keeps only
 * its two hosts, type and code. So an attempt that got no answer is held
 * back until the end of the input, and is judged refused when an
 * unreachable went from its responder's host to its originator's host
 * within a second of the attempt's time span: paired by host pair and
 * time, which the record says ("icmp_match"). An unreachable sent by a
 * router rather than the refused host pairs with nothing. */
#include "records.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "live.h"
#include "records_internal.h"
#include "run_internal.h"

/* Unanswered attempts held for pairing, and unreachables kept: beyond
 * these an attempt is judged as it is, and counted. */
#define HELD_MAX 4096
#define UNREACH_MAX 4096
/* An unreachable answers within milliseconds; a second covers the
 * rounding of both records' times. */
#define PAIR_SLACK_US 1000000u

/* Records taken from the collector per round. */
#define TAKE_MAX 256

typedef struct unreach {
    fa_addr from, to;
    uint64_t first_us, last_us;
    uint8_t type, code;
} unreach;

typedef struct rec_reader {
    fa_run *ctx;
    fa_ipfix *ipfix;
    fa_flow *held;
    uint64_t *held_at;         /* live: when each held attempt came */
    size_t nheld;
    unreach *errs;
    size_t nerrs, next_err;    /* live: errs is a ring, next_err the oldest */
    uint64_t now_us;           /* live: wall clock of the records being taken; files: 0 */
    fa_fixbuf_log log;
    uint64_t file_records;     /* records the last file gave */
    char line[FA_RECORD_LINE_MAX + 1];
} rec_reader;

fa_record_format fa_record_sniff(int first_byte)
{
    switch (first_byte) {
    case '#': return FA_REC_ZEEK_TSV;
    case '{': return FA_REC_ZEEK_JSON;
    case 0: return FA_REC_IPFIX; /* or NetFlow v9: the second byte tells */
    default: return FA_REC_NONE;
    }
}

const char *fa_record_format_name(fa_record_format f)
{
    static const char *const names[FA_REC_FORMATS] = {"packets", "Zeek conn.log (TSV)", "Zeek conn.log (JSON)",
                                                      "IPFIX", "NetFlow v9", "sensors' records from Kafka"};
    return (unsigned)f < FA_REC_FORMATS ? names[f] : "unknown";
}

/* The first byte of a file, or of standard input given back unread. */
static int first_byte(const char *path)
{
    if (strcmp(path, "-") == 0) {
        int c = getc(stdin);
        if (c != EOF)
            ungetc(c, stdin);
        return c;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return EOF;
    int c = getc(f);
    fclose(f);
    return c;
}

int fa_records_inputs(const fa_options *o, char *err, size_t errlen)
{
    int records = 0;
    for (int i = 0; i < o->nfiles; i++) {
        bool rec = fa_record_sniff(first_byte(o->files[i])) != FA_REC_NONE;
        if (i > 0 && rec != (records > 0)) {
            snprintf(err, errlen, "%.200s holds %s, %.200s %s: give one kind of input per run", o->files[0],
                     records ? "flow records" : "packets", o->files[i], rec ? "flow records" : "packets");
            return -1;
        }
        records = rec;
    }
    return records;
}

static bool is_unreachable(const fa_flow *f)
{
    uint16_t type = fa_flow_port(f, 0);
    return (f->key.proto == FA_PROTO_ICMP && type == 3) || (f->key.proto == FA_PROTO_ICMP6 && type == 1);
}

/* What an unreachable could have refused: an attempt nothing answered. */
static bool unanswered(const fa_flow *f)
{
    return f->dir[1].pkts == 0 && f->key.proto != FA_PROTO_ICMP && f->key.proto != FA_PROTO_ICMP6;
}

static void take(rec_reader *r, fa_flow *f)
{
    if (is_unreachable(f)) {
        unreach u = {*fa_flow_addr(f, 0), *fa_flow_addr(f, 1), f->first_us, f->last_us,
                     (uint8_t)fa_flow_port(f, 0), (uint8_t)fa_flow_port(f, 1)};
        if (r->nerrs < UNREACH_MAX) {
            r->errs[r->nerrs++] = u;
        } else if (r->now_us) {
            /* Live, the oldest gives way: its attempts were judged long ago. */
            r->errs[r->next_err] = u;
            r->next_err = (r->next_err + 1) % UNREACH_MAX;
        } else {
            r->ctx->summary.unreach_dropped++;
        }
    }
    if (unanswered(f) && r->nheld < HELD_MAX) {
        r->held_at[r->nheld] = r->now_us;
        r->held[r->nheld++] = *f;
        return;
    }
    r->ctx->summary.attempts_unheld += unanswered(f);
    fa_run_flow(r->ctx, f);
}

static void take_record(void *arg, fa_flow *f)
{
    take(arg, f);
}

/* An unreachable from the attempt's responder host to its originator
 * host, in time with the attempt. */
static const unreach *pair_of(const rec_reader *r, const fa_flow *f)
{
    for (size_t i = 0; i < r->nerrs; i++) {
        const unreach *u = &r->errs[i];
        if (fa_addr_cmp(&u->from, fa_flow_addr(f, 1)) == 0 && fa_addr_cmp(&u->to, fa_flow_addr(f, 0)) == 0 &&
            u->first_us <= f->last_us + PAIR_SLACK_US && f->first_us <= u->last_us + PAIR_SLACK_US)
            return u;
    }
    return NULL;
}

/* Judges the held attempts that came before before_us (files: all). */
static void judge_held(rec_reader *r, uint64_t before_us)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->nheld; i++) {
        fa_flow *f = &r->held[i];
        if (r->held_at[i] >= before_us) {
            r->held_at[kept] = r->held_at[i];
            r->held[kept++] = *f;
            continue;
        }
        const unreach *u = pair_of(r, f);
        if (u) {
            f->icmp_errors = 1;
            f->icmp_type = u->type;
            f->icmp_code = u->code;
            f->bits |= FA_FLOW_ICMP_FROM_RESP | FA_FLOW_ICMP_PAIRED;
            r->ctx->summary.icmp_paired++;
        }
        fa_run_flow(r->ctx, f);
    }
    r->nheld = kept;
}

/* One line into r->line without its end of line: 1, 0 at the end of the
 * input, -1 for a line too long or holding a NUL, which no text log
 * writes (read to its end and skipped as one line). */
static int read_line(rec_reader *r, FILE *in, size_t *len)
{
    size_t n = 0;
    bool bad = false;
    int c;
    while ((c = getc_unlocked(in)) != EOF && c != '\n') {
        if (n < FA_RECORD_LINE_MAX && c != '\0')
            r->line[n++] = (char)c;
        else
            bad = true;
    }
    if (c == EOF && n == 0 && !bad)
        return 0;
    while (n && r->line[n - 1] == '\r')
        n--;
    r->line[n] = '\0';
    *len = n;
    return bad ? -1 : 1;
}

static int read_records(rec_reader *r, FILE *in, const char *name, fa_signals *sig, char *err, size_t errlen)
{
    fa_zeek_tsv z;
    fa_summary *s = &r->ctx->summary;
    fa_record_format fmt = FA_REC_NONE;
    uint64_t lineno = 0;
    size_t len;
    int got;
    fa_zeek_tsv_init(&z);
    while (!sig->stop && (got = read_line(r, in, &len)) != 0) {
        fa_flow f;
        lineno++;
        if (fmt == FA_REC_NONE)
            s->record_formats |= 1u << (fmt = fa_record_sniff((unsigned char)r->line[0]));
        if (got > 0 && r->line[0] == '#' && fmt == FA_REC_ZEEK_TSV) {
            char why[256];
            if (fa_zeek_tsv_header(&z, r->line, why, sizeof why) == 0)
                continue;
            snprintf(err, errlen, "%.200s:%llu: %s", name, (unsigned long long)lineno, why);
            return -1;
        }
        if (got > 0 && len == 0)
            continue;
        if (got < 0 || !(fmt == FA_REC_ZEEK_JSON ? fa_zeek_json_line(r->line, len, &f)
                                                 : fa_zeek_tsv_line(&z, r->line, &f))) {
            if (!s->records_malformed++)
                snprintf(s->first_malformed, sizeof s->first_malformed, "%.200s:%llu", name,
                         (unsigned long long)lineno);
            continue;
        }
        s->records++;
        r->file_records++;
        take(r, &f);
    }
    return ferror(in) ? (snprintf(err, errlen, "%.200s: %s", name, strerror(errno)), -1) : 0;
}

/* One input, by its first byte. */
static int read_one(rec_reader *r, FILE *in, const char *name, fa_signals *sig, char *err, size_t errlen)
{
    int c = getc(in);
    if (c == EOF)
        return 0;
    ungetc(c, in);
    if (fa_record_sniff(c) != FA_REC_IPFIX)
        return read_records(r, in, name, sig, err, errlen);
    /* IPFIX says version 10 in its first two bytes, NetFlow v9 9. Two
     * bytes given back: glibc's stdio takes more than the one ungetc()
     * that C promises, standard input too. */
    getc(in);
    int version = getc(in);
    if (version != EOF)
        ungetc(version, in);
    ungetc(c, in);
    if (version == 9) {
        /* libfixbuf's translator splits a stream into export packets by
         * the header's count, taken for a count of flowsets; RFC 3954
         * makes it a count of records, so a file of several packets is
         * misread after the first. */
        snprintf(err, errlen, "%.200s: NetFlow v9 export packets are not read from files (libfixbuf cannot split"
                              " them); collect them live with --collect netflow:PORT", name);
        return -1;
    }
    char why[256];
    fa_ipfix_file fr;
    fa_summary *s = &r->ctx->summary;
    s->record_formats |= 1u << FA_REC_IPFIX;
    if (fa_ipfix_read(r->ipfix, in, &sig->stop, &fr, why, sizeof why) != 0) {
        snprintf(err, errlen, "%.200s: %s", name, why);
        return -1;
    }
    if (fr.first_bad >= 0 && !s->first_malformed[0])
        snprintf(s->first_malformed, sizeof s->first_malformed, "%.200s: the message at byte %ld", name,
                 fr.first_bad);
    r->file_records = fr.records;
    return 0;
}

/* The IPFIX reader's counts go into the summary. */
static void finish_ipfix(rec_reader *r)
{
    fa_ipfix_stats st;
    fa_summary *s = &r->ctx->summary;
    fa_ipfix_finish(r->ipfix, &st);
    s->records += st.records;
    s->records_malformed += st.malformed;
    s->records_untimed += st.untimed;
    s->uniflows += st.uniflows;
    s->uniflows_joined += st.joined;
    s->uniflows_alone += st.alone;
    s->fw_denied += st.denied;
    s->options_records += st.options;
    if (st.sampling > s->sampling)
        s->sampling = st.sampling;
}

/* Filters and -w work on packets, which records do not have. */
static int check_options(const fa_options *o, char *err, size_t errlen)
{
    if (o->evidence_path)
        snprintf(err, errlen, "-w %s: the inputs are flow records, which carry no packets to write",
                 o->evidence_path);
    else if (o->filter)
        snprintf(err, errlen, "the filter '%.100s' selects packets; the inputs are flow records", o->filter);
    else
        return 0;
    return -1;
}

static int read_inputs(rec_reader *r, fa_signals *sig, char *err, size_t errlen)
{
    const fa_options *o = r->ctx->opts;
    for (int i = 0; i < o->nfiles && !sig->stop; i++) {
        bool std = strcmp(o->files[i], "-") == 0;
        FILE *in = std ? stdin : fopen(o->files[i], "rb");
        if (!in) {
            snprintf(err, errlen, "%.200s: %s", o->files[i], strerror(errno));
            return -1;
        }
        r->ctx->summary.files++;
        fa_fixbuf_log_where(&r->log, o->files[i]);
        r->file_records = 0;
        int rc = read_one(r, in, o->files[i], sig, err, errlen);
        long size = std ? -1 : ftell(in);
        if (rc == 0 && r->file_records == 0 && size > 0 && !o->quiet && !sig->stop)
            fprintf(stderr, "flowaudit: %s: %ld bytes and no flow record in them\n", o->files[i], size);
        if (!std)
            fclose(in);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void free_reader(rec_reader *r)
{
    if (r) {
        free(r->held);
        free(r->held_at);
        free(r->errs);
    }
    free(r);
}

static rec_reader *new_reader(fa_run *ctx, char *err, size_t errlen)
{
    rec_reader *r = NULL;
    if (check_options(ctx->opts, err, errlen) != 0)
        return NULL;
    if (!(r = calloc(1, sizeof *r)) || !(r->held = calloc(HELD_MAX, sizeof *r->held)) ||
        !(r->held_at = calloc(HELD_MAX, sizeof *r->held_at)) || !(r->errs = calloc(UNREACH_MAX, sizeof *r->errs)) ||
        !(r->ipfix = fa_ipfix_new(take_record, r))) {
        free_reader(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->ctx = ctx;
    return r;
}

int fa_records_files(fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    rec_reader *r = new_reader(ctx, err, errlen);
    if (!r)
        return -1;
    fa_fixbuf_log_start(&r->log, ctx->opts->quiet, "");
    int rc = read_inputs(r, sig, err, errlen);
    finish_ipfix(r);
    judge_held(r, UINT64_MAX);
    ctx->summary.fixbuf_messages = fa_fixbuf_log_stop(&r->log);
    free_reader(r);
    return rc;
}

/* Records the collector has, into the reader. */
/* The collector's counts into the summary, read from c, or from *done
 * once it is freed. */
static void collector_losses(fa_run *ctx, fa_collector *c, const fa_collector_stats *done)
{
    fa_collector_stats st;
    if (c)
        fa_collector_losses(c, &st);
    else
        st = *done;
    ctx->summary.messages = st.messages;
    ctx->summary.export_missed = st.missed;
    ctx->summary.export_records_missed = st.records_missed;
    ctx->summary.seq_untracked = st.untracked;
    ctx->summary.socket_dropped = st.dropped;
    ctx->summary.socket_rcvbuf = st.rcvbuf;
}

static size_t take_collected(rec_reader *r, fa_collector *c, fa_ipfix_item *items, unsigned wait_ms)
{
    size_t n = fa_collector_take(c, items, TAKE_MAX, wait_ms);
    for (size_t i = 0; i < n; i++) {
        r->now_us = items[i].arrival_us ? items[i].arrival_us : 1;
        fa_ipfix_take(r->ipfix, &items[i]);
    }
    return n;
}

int fa_records_collect(fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    fa_ipfix_item *items = malloc(TAKE_MAX * sizeof *items);
    rec_reader *r = items ? new_reader(ctx, err, errlen) : NULL;
    if (r) {
        char where[300];
        snprintf(where, sizeof where, "--collect %s", o->collect.text);
        fa_fixbuf_log_start(&r->log, o->quiet, where);
    }
    fa_collector *c = r ? fa_collector_open(&o->collect, err, errlen) : NULL;
    if (!c || (o->user && fa_live_drop_privileges(o->user, err, errlen) != 0)) {
        if (!items)
            snprintf(err, errlen, "out of memory");
        if (c) {
            fa_collector_stats st;
            fa_collector_free(c, &st);
        }
        if (r) {
            fa_ipfix_stats st;
            fa_ipfix_finish(r->ipfix, &st);
            fa_fixbuf_log_stop(&r->log);
        }
        free(items);
        free_reader(r);
        return -1;
    }
    if (!o->quiet)
        fprintf(stderr, "flowaudit: collecting %s over %s on %s port %s\n",
                o->collect.netflow9 ? "NetFlow v9" : "IPFIX", o->collect.tcp ? "TCP" : "UDP",
                o->collect.host[0] ? o->collect.host : "every address,", o->collect.port);
    ctx->summary.record_formats |= 1u << (o->collect.netflow9 ? FA_REC_NETFLOW9 : FA_REC_IPFIX);
    ctx->summary.collected = true;
    fa_live_timers t;
    fa_live_start(ctx, &t);
    int rc = 0;
    while (!sig->stop && rc == 0) {
        take_collected(r, c, items, 200);
        uint64_t now = fa_live_wall_us();
        if (now > FA_RECORD_WINDOW_US) {
            fa_ipfix_expire(r->ipfix, now - FA_RECORD_WINDOW_US);
            judge_held(r, now - FA_RECORD_WINDOW_US);
        }
        rc = fa_collector_failed(c, err, errlen);
        ctx->summary.waiting = fa_ipfix_waiting(r->ipfix) + r->nheld;
        collector_losses(ctx, c, NULL);
        fa_live_tick(ctx, sig, &t);
    }
    fa_collector_stop(c);
    while (take_collected(r, c, items, 0) > 0)
        ;
    fa_collector_stats st;
    fa_collector_free(c, &st);
    ctx->summary.fixbuf_messages = fa_fixbuf_log_stop(&r->log);
    collector_losses(ctx, NULL, &st);
    ctx->summary.records_malformed += st.malformed;
    finish_ipfix(r);
    judge_held(r, UINT64_MAX);
    ctx->summary.waiting = 0;
    free(items);
    free_reader(r);
    return rc;
}
