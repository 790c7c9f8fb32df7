/* summary.c - the text summary printed at the end of a run. */
#include "summary.h"

#include <inttypes.h>

#include "records.h"

static int proto_index(uint8_t proto)
{
    switch (proto) {
    case FA_PROTO_TCP: return 0;
    case FA_PROTO_UDP: return 1;
    case FA_PROTO_ICMP: case FA_PROTO_ICMP6: return 2;
    default: return 3;
    }
}

void fa_summary_add_flow(fa_summary *s, const fa_flow *f)
{
    int p = proto_index(f->key.proto);
    s->flows_by_proto[p]++;
    if (p == 0)
        s->tcp_states[fa_flow_conn_state(f)]++;
    else if (p == 1)
        s->udp_states[fa_flow_conn_state(f)]++;
}

void fa_summary_add_encap(fa_summary *s, uint8_t encap)
{
    if (!encap)
        return;
    s->encapsulated++;
    for (int e = 0; e < FA_ENCAP_KINDS; e++)
        if (encap & (1u << e))
            s->encap[e]++;
}

static void print_states(FILE *out, const char *label, const uint64_t *states)
{
    fprintf(out, "  %-5s", label);
    for (int i = 0; i < FA_CONN_STATES; i++)
        if (states[i])
            fprintf(out, " %s=%" PRIu64, fa_conn_state_name((fa_conn_state)i), states[i]);
    fputc('\n', out);
}

static void print_decode(const fa_summary *s, FILE *out)
{
    uint64_t by_class[3] = {0, 0, 0};
    for (int r = 1; r < FA_DEC_COUNT; r++)
        by_class[fa_decode_result_class(r)] += s->decode[r];
    fprintf(out, "decoded   %" PRIu64 " packets; skipped %" PRIu64 " not IP, %" PRIu64
                 " truncated, %" PRIu64 " malformed\n",
            s->decode[FA_DEC_OK], s->decode[FA_DEC_NOT_IP], by_class[1], by_class[2]);
    if (s->encapsulated) {
        fprintf(out, "  encapsulated %" PRIu64 " packets:", s->encapsulated);
        for (int e = 0; e < FA_ENCAP_KINDS; e++)
            if (s->encap[e])
                fprintf(out, " %s=%" PRIu64, fa_encap_name((fa_encap)e), s->encap[e]);
        fputc('\n', out);
    }
    for (int r = FA_DEC_NOT_IP + 1; r < FA_DEC_COUNT; r++)
        if (s->decode[r])
            fprintf(out, "  %-26s %" PRIu64 "\n", fa_decode_result_name(r), s->decode[r]);
    if (s->payload_cut)
        fprintf(out, "  %-26s %" PRIu64 " (still tracked)\n", "payload_cut_by_snaplen", s->payload_cut);
    for (int k = FA_TS_IN_ORDER + 1; k < FA_TS_KINDS; k++)
        if (s->ts[k])
            fprintf(out, "  %-26s %" PRIu64 "%s\n", fa_ts_kind_name((fa_ts_kind)k), s->ts[k], fa_ts_kind_note((fa_ts_kind)k));
}

static void print_flows(const fa_summary *s, const fa_flow_stats *fs, FILE *out)
{
    fprintf(out, "flows     %" PRIu64 " (tcp %" PRIu64 ", udp %" PRIu64 ", icmp %" PRIu64
                 ", other %" PRIu64 "); peak active %" PRIu64 "; evicted %" PRIu64 "\n",
            fs->flows_created, s->flows_by_proto[0], s->flows_by_proto[1], s->flows_by_proto[2],
            s->flows_by_proto[3], fs->flows_peak, fs->flows_ended[FA_END_EVICTED]);
    if (s->flows_by_proto[0])
        print_states(out, "tcp", s->tcp_states);
    if (s->flows_by_proto[1])
        print_states(out, "udp", s->udp_states);
    if (fs->closed_reclaimed)
        fprintf(out, "  at the cap %" PRIu64 " closed flows ended before their linger was over"
                     " (counted under fin or rst_*, not evicted)\n", fs->closed_reclaimed);
    if (fs->flows_continued)
        fprintf(out, "  continued %" PRIu64 " (connections resumed after their flow timed out or was evicted)\n",
                fs->flows_continued);
    fprintf(out, "  ended:");
    for (int r = FA_END_FIN; r <= FA_END_REUSED; r++)
        if (fs->flows_ended[r])
            fprintf(out, " %s=%" PRIu64, fa_end_reason_name(r), fs->flows_ended[r]);
    fputc('\n', out);
    fprintf(out, "  duplicates %" PRIu64 "; fragments attributed %" PRIu64 ", unattributed %" PRIu64
                 "; icmp errors attributed %" PRIu64 ", unmatched %" PRIu64 "\n",
            fs->duplicates, fs->fragments_attributed, fs->fragments_unattributed,
            fs->icmp_errors_attributed, fs->icmp_errors_unmatched);
    fprintf(out, "  memory    %" PRIu64 " bytes of flow records and list links (%zu bytes per flow), %" PRIu64
                 " bytes of hash buckets\n", fs->pool_bytes, FA_FLOW_SLOT_BYTES, fs->bucket_bytes);
}

/* --collect: what was lost before the records were read. */
static void print_losses(const fa_summary *s, FILE *out)
{
    const char *doubt = ": a 'not seen' or 'blocked' verdict may be wrong";
    if (s->record_formats & (1u << FA_REC_NETFLOW9))
        fprintf(out, "  export packets lost, by the exporter's sequence numbers: %" PRIu32 "%s\n", s->export_missed,
                s->export_missed ? doubt : "");
    else
        fprintf(out, "  records lost, by the exporters' sequence numbers: %" PRIu64 "%s%s\n",
                s->export_records_missed, s->export_records_missed ? doubt : "",
                s->seq_untracked ? " (more exporters than followed: some messages not checked)" : "");
    if (s->socket_rcvbuf)
        fprintf(out, "  datagrams the kernel dropped (socket buffer full): %" PRIu64 " (buffer %d bytes)%s\n",
                s->socket_dropped, s->socket_rcvbuf, s->socket_dropped ? doubt : "");
}

/* Flow records: no packets were decoded and no table tracked them. */
static void print_records(const fa_summary *s, FILE *out)
{
    if (s->collected)
        fprintf(out, "input     flow records collected live, %" PRIu64 " messages (", s->messages);
    else if (s->record_formats & (1u << FA_REC_KAFKA))
        fprintf(out, "input     flow records from Kafka (");
    else
        fprintf(out, "input     %" PRIu64 " file%s of flow records (", s->files, s->files == 1 ? "" : "s");
    for (int f = FA_REC_NONE + 1, n = 0; f < FA_REC_FORMATS; f++)
        if (s->record_formats & (1u << f))
            fprintf(out, "%s%s", n++ ? ", " : "", fa_record_format_name((fa_record_format)f));
    fprintf(out, "), %" PRIu64 " records; skipped %" PRIu64 " malformed lines or messages", s->records,
            s->records_malformed);
    if (s->records_untimed)
        fprintf(out, " (%" PRIu64 " record%s with no flow start time)", s->records_untimed,
                s->records_untimed == 1 ? "" : "s");
    if (s->first_malformed[0])
        fprintf(out, ", the first at %s", s->first_malformed);
    fputc('\n', out);
    fprintf(out, "flows     %" PRIu64 " (tcp %" PRIu64 ", udp %" PRIu64 ", icmp %" PRIu64 ", other %" PRIu64 ")\n",
            s->flows_by_proto[0] + s->flows_by_proto[1] + s->flows_by_proto[2] + s->flows_by_proto[3],
            s->flows_by_proto[0], s->flows_by_proto[1], s->flows_by_proto[2], s->flows_by_proto[3]);
    if (s->flows_by_proto[0])
        print_states(out, "tcp", s->tcp_states);
    if (s->flows_by_proto[1])
        print_states(out, "udp", s->udp_states);
    fprintf(out, "  icmp unreachables paired with an unanswered attempt by host pair and time: %" PRIu64 "\n",
            s->icmp_paired);
    if (s->uniflows)
        fprintf(out, "  uniflow records (one direction each) %" PRIu64 ": %" PRIu64 " joined in pairs, %" PRIu64
                     " alone (no other direction recorded)\n", s->uniflows, s->uniflows_joined, s->uniflows_alone);
    if (s->record_formats & (1u << FA_REC_IPFIX | 1u << FA_REC_NETFLOW9)) {
        fprintf(out, "  denied by a firewall %" PRIu64 "; options records %" PRIu64 "\n", s->fw_denied,
                s->options_records);
        if (s->sampling > 1)
            fprintf(out, "  WARNING: the exporter samples 1 packet in %" PRIu32 ": a flow or an answer it missed"
                         " looks not seen or blocked\n", s->sampling);
        else
            fprintf(out, "  sampling: none announced (a sampling exporter that does not say so can miss an"
                         " answer)\n");
    }
    if (s->record_formats & (1u << FA_REC_KAFKA))
        fprintf(out, "  sensors announced %" PRIu64 "; records met again (sensor and uid) and dropped %" PRIu64
                     "; messages missing (gaps in a sensor's seq) %" PRIu64 "\n  messages of other sites skipped %"
                     PRIu64 " (a site_key not given with --site-key)\n", s->sensors, s->sensor_duplicates,
                s->sensor_missing, s->other_sites);
    if (s->collected)
        print_losses(s, out);
    if (s->fixbuf_messages)
        fprintf(out, "  libfixbuf's messages: %" PRIu64 " (the first 10 on stderr)\n", s->fixbuf_messages);
    if (s->attempts_unheld || s->unreach_dropped)
        fprintf(out, "  not paired for want of room: %" PRIu64 " attempts, %" PRIu64 " unreachables\n",
                s->attempts_unheld, s->unreach_dropped);
}

void fa_summary_print(const fa_summary *s, const fa_flow_stats *fs, const fa_capture_stats *cap,
                      FILE *out)
{
    if (s->record_formats) {
        print_records(s, out);
        return;
    }
    if (cap && cap->valid)
        fprintf(out, "input     live capture, %" PRIu64 " packets, %" PRIu64 " bytes\n", s->packets, s->bytes);
    else
        fprintf(out, "input     %" PRIu64 " file%s, %" PRIu64 " packets, %" PRIu64 " bytes\n", s->files,
                s->files == 1 ? "" : "s", s->packets, s->bytes);
    if (cap && cap->valid)
        fprintf(out, "capture   received %" PRIu64 ", dropped %" PRIu64 ", if_dropped %" PRIu64 "\n",
                cap->received, cap->dropped, cap->if_dropped);
    print_decode(s, out);
    print_flows(s, fs, out);
}
