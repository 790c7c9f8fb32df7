/* capture.c - libpcap wrapper for savefiles and live interfaces. */
#include "capture.h"

#include <errno.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "decode.h"

/* libpcap reads a savefile with fread, through the FILE's stdio buffer:
 * 4 KiB by default, so a large capture costs hundreds of thousands of
 * read() calls. This buffer makes them about 4,000 a gigabyte and stays
 * in the reading core's cache beside the batch being filled: 8 MiB,
 * which also made them few, made the whole audit 10% slower, its every
 * byte written by the kernel and read by fread from farther away
 * (docs/benchmark.md section 7). */
#define FILE_BUFFER (256u << 10)

struct fa_capture {
    pcap_t *p;
    char *file_buf;
    bool live;
    uint64_t file_size;
    char dlt_name[96];
};

static int apply_filter(fa_capture *c, const char *filter, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (!filter || !*filter)
        return 0;
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(c->p));
        return -1;
    }
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(c->p));
        return -1;
    }
    return 0;
}

static int check_linktype(fa_capture *c, const char *what, char *err, size_t errlen)
{
    int dlt = pcap_datalink(c->p);
    const char *name = pcap_datalink_val_to_name(dlt);
    const char *desc = pcap_datalink_val_to_description(dlt);
    snprintf(c->dlt_name, sizeof c->dlt_name, "%s (%s)", name ? name : "unknown",
             desc ? desc : "no description");
    if (!fa_decode_linktype_supported(dlt)) {
        snprintf(err, errlen, "%s: unsupported link type %d, %s", what, dlt, c->dlt_name);
        return -1;
    }
    return 0;
}

/* As pcap_open_offline ("-" is standard input, left to libpcap), the
 * file read through a large stdio buffer. */
static pcap_t *open_savefile(fa_capture *c, const char *path, char *perr)
{
    if (strcmp(path, "-") == 0)
        return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, perr);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(perr, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    c->file_buf = malloc(FILE_BUFFER);
    if (c->file_buf && setvbuf(f, c->file_buf, _IOFBF, FILE_BUFFER) != 0) {
        free(c->file_buf);
        c->file_buf = NULL;
    }
    /* libpcap makes two fread calls a packet, and glibc locks the stream
     * for each; only the thread reading this capture ever touches it. */
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (!p) {
        fclose(f);
        free(c->file_buf);
        c->file_buf = NULL;
    }
    return p;
}

int fa_capture_open_file(fa_capture **out, const char *path, const fa_capture_opts *opts,
                         char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    fa_capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    c->p = open_savefile(c, path, perr);
    if (!c->p) {
        /* libpcap names the file in some messages and not in others. */
        if (strncmp(perr, path, strlen(path)) == 0)
            snprintf(err, errlen, "%s", perr);
        else
            snprintf(err, errlen, "%s: %s", path, perr);
        free(c);
        return -1;
    }
    struct stat st;
    if (path[0] != '-' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        c->file_size = (uint64_t)st.st_size;
    if (check_linktype(c, path, err, errlen) != 0 || apply_filter(c, opts->filter, err, errlen) != 0) {
        fa_capture_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int live_setup(fa_capture *c, const fa_capture_opts *opts)
{
    if (pcap_set_snaplen(c->p, opts->snaplen > 0 ? opts->snaplen : FA_DEFAULT_SNAPLEN) != 0 ||
        pcap_set_promisc(c->p, opts->promisc) != 0 || pcap_set_timeout(c->p, 200) != 0 ||
        pcap_set_immediate_mode(c->p, opts->immediate) != 0 ||
        (opts->buffer_mib > 0 && pcap_set_buffer_size(c->p, opts->buffer_mib * 1024 * 1024) != 0))
        return -1;
    return pcap_activate(c->p);
}

/* libpcap says what failed; the two ways to be allowed to capture are
 * named here, with this program's path for setcap. */
static void live_error(const char *iface, int rc, const char *why, char *err, size_t errlen)
{
    char exe[1024];
    ssize_t n;
    if (rc != PCAP_ERROR_PERM_DENIED) {
        snprintf(err, errlen, "%s: %s", iface, why);
        return;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(err, errlen, "%s: %s; run as root, or allow the program once with "
                          "'setcap cap_net_raw,cap_net_admin+eip %s'",
             iface, why, n > 0 ? exe : "FLOWAUDIT");
}

int fa_capture_open_live(fa_capture **out, const char *iface, const fa_capture_opts *opts,
                         char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    fa_capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", iface);
        return -1;
    }
    c->live = true;
    c->p = pcap_create(iface, perr);
    if (!c->p) {
        snprintf(err, errlen, "%s: %s", iface, perr);
        free(c);
        return -1;
    }
    int rc = live_setup(c, opts);
    if (rc < 0) {
        live_error(iface, rc, rc == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(rc), err, errlen);
        fa_capture_close(c);
        return -1;
    }
    if (check_linktype(c, iface, err, errlen) != 0 || apply_filter(c, opts->filter, err, errlen) != 0) {
        fa_capture_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void fa_capture_close(fa_capture *c)
{
    if (!c)
        return;
    if (c->p)
        pcap_close(c->p);
    free(c->file_buf);
    free(c);
}

int fa_capture_datalink(const fa_capture *c)
{
    return pcap_datalink(c->p);
}

const char *fa_capture_datalink_name(const fa_capture *c)
{
    return c->dlt_name;
}

fa_next fa_capture_next(fa_capture *c, const uint8_t **data, uint32_t *caplen, uint32_t *len,
                        uint64_t *ts_us, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(c->p, &h, &d);
    if (rc == 1) {
        *data = d;
        *caplen = h->caplen;
        *len = h->len;
        *ts_us = fa_ts_from_parts((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec);
        return FA_NEXT_PACKET;
    }
    if (rc == 0)
        return FA_NEXT_TIMEOUT;
    if (rc == PCAP_ERROR_BREAK)
        return FA_NEXT_EOF;
    snprintf(err, errlen, "%s", pcap_geterr(c->p));
    return FA_NEXT_ERROR;
}

int fa_capture_selectable_fd(fa_capture *c)
{
    return pcap_get_selectable_fd(c->p);
}

int fa_capture_set_nonblock(fa_capture *c, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(c->p, 1, perr) != 0) {
        snprintf(err, errlen, "%s", perr);
        return -1;
    }
    return 0;
}

int fa_capture_join_fanout(fa_capture *c, uint16_t *group, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
    /* The kernel hashes flows symmetrically (__skb_get_hash_symmetric), and
     * the defrag flag reassembles fragments before hashing them, so a
     * later fragment follows its first. A unique id keeps another
     * program's group out; the flag is only for the group's first member. */
    int fd = pcap_fileno(c->p);
    unsigned type = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG | (*group ? 0 : PACKET_FANOUT_FLAG_UNIQUEID);
    int arg = (int)(*group | (type << 16));
    socklen_t len = sizeof arg;
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0 ||
        (!*group && getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0)) {
        snprintf(err, errlen, "PACKET_FANOUT: %s", strerror(errno));
        return -1;
    }
    *group = (uint16_t)(arg & 0xffff);
    return 0;
#else
    (void)c;
    (void)group;
    snprintf(err, errlen, "--workers needs Linux's PACKET_FANOUT");
    return -1;
#endif
}

void fa_capture_progress(const fa_capture *c, uint64_t *done, uint64_t *total)
{
    FILE *f = c->live ? NULL : pcap_file(c->p);
    long pos = f ? ftell(f) : -1;
    *done = pos > 0 ? (uint64_t)pos : 0;
    *total = c->file_size;
}

void fa_capture_stats_get(fa_capture *c, fa_capture_stats *st)
{
    struct pcap_stat ps;
    st->valid = false;
    if (c->live && pcap_stats(c->p, &ps) == 0) {
        st->valid = true;
        st->received = ps.ps_recv;
        st->dropped = ps.ps_drop;
        st->if_dropped = ps.ps_ifdrop;
    }
}
