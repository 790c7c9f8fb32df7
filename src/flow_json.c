/* flow_json.c - flow records, written straight into the line buffer. */
#include "flow_json.h"

#include "decode.h"
#include "json_line.h"

void fa_tcp_flags_str(uint8_t flags, char out[9])
{
    static const struct { uint8_t bit; char c; } names[] = {
        {FA_TH_SYN, 'S'}, {FA_TH_ACK, 'A'}, {FA_TH_PSH, 'P'}, {FA_TH_FIN, 'F'},
        {FA_TH_RST, 'R'}, {FA_TH_URG, 'U'}, {FA_TH_ECE, 'E'}, {FA_TH_CWR, 'C'}, {0, 0},
    };
    int n = 0;
    for (int i = 0; names[i].bit; i++)
        if (flags & names[i].bit)
            out[n++] = names[i].c;
    out[n] = '\0';
}

static double seconds(uint64_t us)
{
    return (double)us / 1e6;
}

/* The per-side field names, spelled out rather than printed for every
 * flow (printf was a tenth of a flow record's cost). */
enum { K_BYTES, K_PKTS, K_IP_BYTES, K_TTL_MIN, K_TTL_MAX, K_TCP_FLAGS, K_RST_TTL, K_RST_BY, K_RETRANS,
       K_KEEPALIVES, K_DUPLICATES, K_COUNT };
static const char *const dir_keys[2][K_COUNT] = {
    {"orig_bytes", "orig_pkts", "orig_ip_bytes", "orig_ttl_min", "orig_ttl_max", "orig_tcp_flags",
     "orig_rst_ttl", "orig_rst_by", "orig_retransmissions", "orig_keepalives", "orig_duplicates"},
    {"resp_bytes", "resp_pkts", "resp_ip_bytes", "resp_ttl_min", "resp_ttl_max", "resp_tcp_flags",
     "resp_rst_ttl", "resp_rst_by", "resp_retransmissions", "resp_keepalives", "resp_duplicates"},
};

/* A count, or null where the flow cannot know it. */
static void int_if(fa_json_rec *r, const char *key, bool known, int64_t v)
{
    if (known)
        fa_json_rec_int(r, key, v);
    else
        fa_json_rec_null(r, key);
}

static void add_dir(fa_json_rec *r, const fa_flow *f, int d)
{
    const fa_flow_dir *dir = &f->dir[d];
    const char *const *k = dir_keys[d];
    char flags[9];
    /* A record does not say what these count: unknown, not zero. */
    bool counted = !(f->bits & FA_FLOW_RECORD);
    fa_json_rec_int(r, k[K_BYTES], (int64_t)fa_flow_seq_bytes(f, d));
    fa_json_rec_int(r, k[K_PKTS], dir->pkts);
    fa_json_rec_int(r, k[K_IP_BYTES], (int64_t)dir->ip_bytes);
    int_if(r, k[K_TTL_MIN], dir->ttl_max, dir->ttl_min);
    int_if(r, k[K_TTL_MAX], dir->ttl_max, dir->ttl_max);
    if (f->key.proto == FA_PROTO_TCP) {
        fa_tcp_flags_str(dir->flags, flags);
        fa_json_rec_str(r, k[K_TCP_FLAGS], flags);
        int_if(r, k[K_RST_TTL], dir->flags & FA_TH_RST, dir->ttl_rst);
        fa_rst_origin ro = fa_flow_rst_origin(f, d);
        fa_json_rec_str_or_null(r, k[K_RST_BY], ro == FA_RST_NONE ? NULL : fa_rst_origin_name(ro));
        int_if(r, k[K_RETRANS], counted, dir->retrans);
        int_if(r, k[K_KEEPALIVES], counted, dir->keepalives);
    }
    int_if(r, k[K_DUPLICATES], counted, dir->dups);
}

void fa_flow_json(fa_json_rec *r, const fa_flow *f, const char *type)
{
    fa_flow_json_as(r, f, type, NULL);
}

void fa_flow_json_as(fa_json_rec *r, const fa_flow *f, const char *type, const char *evidence)
{
    char uid[20], addr[FA_ADDR_STRLEN];
    fa_flow_uid(f, uid);
    fa_json_rec_open(r, NULL);
    fa_json_rec_str(r, "type", type);
    fa_json_rec_micros(r, "ts", f->first_us);
    fa_json_rec_str(r, "uid", uid);
    fa_json_rec_str(r, "id.orig_h", fa_addr_str(fa_flow_addr(f, 0), addr, sizeof addr));
    fa_json_rec_int(r, "id.orig_p", fa_flow_port(f, 0));
    fa_json_rec_str(r, "id.resp_h", fa_addr_str(fa_flow_addr(f, 1), addr, sizeof addr));
    fa_json_rec_int(r, "id.resp_p", fa_flow_port(f, 1));
    fa_json_rec_str(r, "proto", fa_proto_name(f->key.proto));
    fa_json_rec_int(r, "ip_proto", f->key.proto);
    fa_json_rec_micros(r, "duration", f->last_us - f->first_us);
    fa_json_rec_str(r, "conn_state", fa_conn_state_name(fa_flow_conn_state(f)));
    fa_json_rec_str(r, "history", f->history);
    add_dir(r, f, 0);
    add_dir(r, f, 1);
    fa_json_rec_str(r, "end_reason", fa_end_reason_name(f->end_reason));
    if (f->key.proto == FA_PROTO_TCP)
        fa_json_rec_bool(r, "continued", f->bits & FA_FLOW_CONTINUED);
    fa_json_rec_micros(r, "end_ts", f->last_us);
    if (f->icmp_errors) {
        fa_json_rec_int(r, "icmp_errors", f->icmp_errors);
        fa_json_rec_int(r, "icmp_type", f->icmp_type);
        fa_json_rec_int(r, "icmp_code", f->icmp_code);
        fa_json_rec_str(r, "icmp_refused", (f->bits & FA_FLOW_ICMP_FROM_RESP) ? "orig" : "resp");
        if (f->bits & FA_FLOW_ICMP_PAIRED)
            fa_json_rec_str(r, "icmp_match", "host_pair_time");
    }
    if (evidence || (f->bits & FA_FLOW_RECORD))
        fa_json_rec_str(r, "evidence", evidence ? evidence : "flow-record");
    if (f->joined)
        fa_json_rec_bool(r, "joined_uniflows", true);
    if (f->bits & FA_FLOW_DENIED)
        fa_json_rec_str(r, "firewall_event", "denied");
}

json_t *fa_json_time(uint64_t us)
{
    return us ? json_real(seconds(us)) : json_null();
}

int fa_json_sink_file(void *out, json_t *rec)
{
    int rc = rec ? fa_json_write_line(out, rec) : -1;
    json_decref(rec);
    return rc;
}

int fa_json_sink_file_rec(void *out, fa_json_rec *rec)
{
    fa_json_rec_close(rec);
    return fa_json_rec_line(rec, out);
}
