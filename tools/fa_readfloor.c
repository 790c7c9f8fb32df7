/* fa_readfloor.c - the bare libpcap read loop, the floor any pcap reader
 * (flowaudit included) is measured against.
 *
 * Usage: fa_readfloor [--big-buffer] FILE. Prints one line:
 *   packets=N bytes=B seconds=S pps=P check=C
 * where bytes sums caplen and check sums each packet's first byte, so the
 * compiler cannot drop the reads. Time covers open, read loop and close.
 * --big-buffer reads through an 8 MiB stdio buffer (pcap_fopen_offline on
 * a FILE given to setvbuf) instead of the 4 KiB stdio buffer of
 * pcap_open_offline's own fopen: fewer, larger read() calls. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BIG_BUFFER (8u << 20)

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libpcap reads with fread, so stdio's buffer sets its read size. *buf is
 * to be freed after pcap_close, which closes the FILE. */
static pcap_t *open_big(const char *path, char **buf, char *err)
{
    FILE *f = fopen(path, "rb");
    *buf = malloc(BIG_BUFFER);
    if (!f || !*buf || setvbuf(f, *buf, _IOFBF, BIG_BUFFER) != 0) {
        snprintf(err, PCAP_ERRBUF_SIZE, "%s: cannot open with a large buffer", path);
        if (f)
            fclose(f);
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline(f, err);
    if (!p)
        fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE], *buf = NULL;
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t packets = 0, bytes = 0, check = 0;
    int big = argc == 3 && strcmp(argv[1], "--big-buffer") == 0;
    int rc;

    if (argc != 2 && !big) {
        fprintf(stderr, "usage: fa_readfloor [--big-buffer] FILE\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    double t0 = mono_seconds();
    pcap_t *p = big ? open_big(path, &buf, err) : pcap_open_offline(path, err);
    if (p == NULL) {
        fprintf(stderr, "fa_readfloor: %s\n", err);
        free(buf);
        return 1;
    }
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        if (h->caplen > 0)
            check += data[0];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "fa_readfloor: %s: %s\n", path, pcap_geterr(p));
        pcap_close(p);
        free(buf);
        return 1;
    }
    pcap_close(p);
    free(buf);
    double secs = mono_seconds() - t0;
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f pps=%.0f check=%" PRIu64 "\n", packets,
           bytes, secs, secs > 0 ? (double)packets / secs : 0.0, check);
    return 0;
}
