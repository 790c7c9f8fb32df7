/* fa_readfloor.c - the bare libpcap read loop, the floor any pcap reader
 * (flowaudit included) is measured against.
 *
 * Usage: fa_readfloor FILE. Prints one line:
 *   packets=N bytes=B seconds=S pps=P check=C
 * where bytes sums caplen and check sums each packet's first byte, so the
 * compiler cannot drop the reads. Time covers open, read loop and close. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t packets = 0, bytes = 0, check = 0;
    double t0, secs;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: fa_readfloor FILE\n");
        return 2;
    }
    t0 = mono_seconds();
    p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "fa_readfloor: %s\n", err);
        return 1;
    }
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        if (h->caplen > 0)
            check += data[0];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "fa_readfloor: %s: %s\n", argv[1], pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    secs = mono_seconds() - t0;
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f pps=%.0f check=%" PRIu64 "\n", packets,
           bytes, secs, secs > 0 ? (double)packets / secs : 0.0, check);
    return 0;
}
