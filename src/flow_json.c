/* flow_json.c - flow records as JSON objects. */
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

static void add_dir(json_t *o, const fa_flow *f, int d)
{
    const fa_flow_dir *dir = &f->dir[d];
    char flags[9];
    /* A record does not say what these count: unknown, not zero. */
    bool record = f->bits & FA_FLOW_RECORD;
#define SET(k, value) json_object_set_new_nocheck(o, dir_keys[d][k], value)
    SET(K_BYTES, json_integer((json_int_t)fa_flow_seq_bytes(f, d)));
    SET(K_PKTS, json_integer(dir->pkts));
    SET(K_IP_BYTES, json_integer((json_int_t)dir->ip_bytes));
    SET(K_TTL_MIN, dir->ttl_max ? json_integer(dir->ttl_min) : json_null());
    SET(K_TTL_MAX, dir->ttl_max ? json_integer(dir->ttl_max) : json_null());
    if (f->key.proto == FA_PROTO_TCP) {
        fa_tcp_flags_str(dir->flags, flags);
        SET(K_TCP_FLAGS, json_string(flags));
        SET(K_RST_TTL, (dir->flags & FA_TH_RST) ? json_integer(dir->ttl_rst) : json_null());
        fa_rst_origin ro = fa_flow_rst_origin(f, d);
        SET(K_RST_BY, ro == FA_RST_NONE ? json_null() : json_string(fa_rst_origin_name(ro)));
        SET(K_RETRANS, record ? json_null() : json_integer(dir->retrans));
        SET(K_KEEPALIVES, record ? json_null() : json_integer(dir->keepalives));
    }
    SET(K_DUPLICATES, record ? json_null() : json_integer(dir->dups));
#undef SET
}

json_t *fa_flow_to_json(const fa_flow *f)
{
    char uid[20], orig[FA_ADDR_STRLEN], resp[FA_ADDR_STRLEN];
    json_t *o = json_object();
    if (!o)
        return NULL;
    fa_flow_uid(f, uid);
    json_object_set_new_nocheck(o, "type", json_string("flow"));
    json_object_set_new_nocheck(o, "ts", json_real(seconds(f->first_us)));
    json_object_set_new_nocheck(o, "uid", json_string(uid));
    json_object_set_new_nocheck(o, "id.orig_h", json_string(fa_addr_str(fa_flow_addr(f, 0), orig, sizeof orig)));
    json_object_set_new_nocheck(o, "id.orig_p", json_integer(fa_flow_port(f, 0)));
    json_object_set_new_nocheck(o, "id.resp_h", json_string(fa_addr_str(fa_flow_addr(f, 1), resp, sizeof resp)));
    json_object_set_new_nocheck(o, "id.resp_p", json_integer(fa_flow_port(f, 1)));
    json_object_set_new_nocheck(o, "proto", json_string(fa_proto_name(f->key.proto)));
    json_object_set_new_nocheck(o, "ip_proto", json_integer(f->key.proto));
    json_object_set_new_nocheck(o, "duration", json_real(seconds(f->last_us - f->first_us)));
    json_object_set_new_nocheck(o, "conn_state", json_string(fa_conn_state_name(fa_flow_conn_state(f))));
    json_object_set_new_nocheck(o, "history", json_string(f->history));
    add_dir(o, f, 0);
    add_dir(o, f, 1);
    json_object_set_new_nocheck(o, "end_reason", json_string(fa_end_reason_name(f->end_reason)));
    if (f->key.proto == FA_PROTO_TCP)
        json_object_set_new_nocheck(o, "continued", json_boolean(f->bits & FA_FLOW_CONTINUED));
    json_object_set_new_nocheck(o, "end_ts", json_real(seconds(f->last_us)));
    if (f->icmp_errors) {
        json_object_set_new_nocheck(o, "icmp_errors", json_integer(f->icmp_errors));
        json_object_set_new_nocheck(o, "icmp_type", json_integer(f->icmp_type));
        json_object_set_new_nocheck(o, "icmp_code", json_integer(f->icmp_code));
        json_object_set_new_nocheck(o, "icmp_refused",
                                    json_string((f->bits & FA_FLOW_ICMP_FROM_RESP) ? "orig" : "resp"));
        if (f->bits & FA_FLOW_ICMP_PAIRED)
            json_object_set_new_nocheck(o, "icmp_match", json_string("host_pair_time"));
    }
    if (f->bits & FA_FLOW_RECORD)
        json_object_set_new_nocheck(o, "evidence", json_string("flow-record"));
    if (f->bits & FA_FLOW_DENIED)
        json_object_set_new_nocheck(o, "firewall_event", json_string("denied"));
    return o;
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
