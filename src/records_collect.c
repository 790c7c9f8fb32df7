/* records_collect.c - a live IPFIX or NetFlow v9 collector: libfixbuf's
 * fbListener on a UDP or TCP port (NetFlow v9 through its translator),
 * read in a thread of its own because fbListenerWait blocks until a
 * message or a connection comes. Losses before the records reach the
 * ring are counted three ways: datagrams the kernel's socket buffer
 * could not hold (SO_MEMINFO's drop count on libfixbuf's UDP socket,
 * whose buffer is raised first), IPFIX data records the exporters'
 * sequence numbers show missing (per exporter session and observation
 * domain), and NetFlow v9 export packets libfixbuf counts missing. The thread only reads: each record, put
 * through the internal template (records_ipfix.c), goes into a ring the
 * driver (records.c) drains from the main thread, which joins uniflows,
 * judges and reports. A full ring makes the thread wait, never drop: the
 * exporter's datagrams then queue in the socket buffer, whose overflow
 * the kernel counts (and libfixbuf, from sequence numbers, reports). */
#include "records_internal.h"

#include "live.h"

/* fbSessionGetSequence, the sequence number libfixbuf awaits next in the
 * session's domain, is only in its private interface, which may change
 * between minor releases: held to the one built and tested against. */
#include <fixbuf/private.h>
#include <fixbuf/version.h>
#if FIXBUF_VERSION_MAJOR != 2
#error "records_collect.c reads libfixbuf 2's session sequence numbers"
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Records in flight between the thread and the driver. */
#define RING 4096
/* The UDP socket buffer asked for: at about 2 KB a message, some 4000
 * messages, 2 s of a busy exporter's export while the driver judges. */
#define RCVBUF_BYTES (8 << 20)
/* Exporter sessions and observation domains whose sequence numbers are
 * followed; the ones past it are counted, not followed. */
#define STREAMS 1024

/* One exporter session's observation domain: the sequence number its
 * next message should carry (RFC 7011 3.1: data records sent before). */
typedef struct seq_stream {
    const fbSession_t *session;
    uint32_t domain;
    uint32_t next;
} seq_stream;

struct fa_collector {
    fbInfoModel_t *model;
    fbSession_t *session;
    fbListener_t *listener;
    uint16_t tid;
    bool tcp;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t room, ready;
    fa_ipfix_item *ring;
    size_t head, count;
    bool stop, done;         /* under mu */
    uint64_t malformed;      /* under mu: messages refused, sets without a template */
    uint64_t messages;       /* under mu */
    uint32_t missed;         /* under mu: NetFlow v9 export packets missed, by sequence numbers */
    uint64_t records_missed; /* under mu: IPFIX data records missed, by sequence numbers */
    uint64_t untracked;      /* under mu: messages of streams past STREAMS, not followed */
    bool netflow9;
    int udp_fd;              /* libfixbuf's UDP socket, -1 for TCP */
    int rcvbuf;              /* its receive buffer as the kernel set it */
    seq_stream *streams;     /* the thread's own: STREAMS of them */
    char err[256];           /* under mu: why the thread ended early */
};

/* Waits for room, then queues; false once told to stop. */
static bool push(fa_collector *c, const fa_ipfix_item *it)
{
    pthread_mutex_lock(&c->mu);
    while (c->count == RING && !c->stop)
        pthread_cond_wait(&c->room, &c->mu);
    bool ok = !c->stop;
    if (ok) {
        c->ring[(c->head + c->count) % RING] = *it;
        c->count++;
        pthread_cond_signal(&c->ready);
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static bool stopping(fa_collector *c)
{
    pthread_mutex_lock(&c->mu);
    bool s = c->stop;
    pthread_mutex_unlock(&c->mu);
    return s;
}

static void count_error(fa_collector *c, bool message)
{
    pthread_mutex_lock(&c->mu);
    c->malformed++;
    c->messages += message;
    pthread_mutex_unlock(&c->mu);
}

/* An IPFIX message read to its end, which held nrec data records: the
 * records its exporter's sequence number shows missed before it. At its
 * end libfixbuf's session holds the message's sequence number plus the
 * records read, the number the next message should carry. A number
 * behind the one awaited (reordered, an exporter restarted) counts
 * nothing; the first message of a stream only starts it. */
static uint64_t seq_gap(fa_collector *c, fBuf_t *b, uint32_t nrec)
{
    fbSession_t *s = fBufGetSession(b);
    if (!s)
        return 0;
    uint32_t dom = fbSessionGetDomain(s), next = fbSessionGetSequence(s);
    uint32_t msgseq = next - nrec;
    size_t h = (((uintptr_t)s >> 4) ^ dom * 2654435761u) % STREAMS;
    for (size_t i = 0; i < STREAMS; i++) {
        seq_stream *st = &c->streams[(h + i) % STREAMS];
        if (!st->session) {
            *st = (seq_stream){s, dom, next};
            return 0;
        }
        if (st->session == s && st->domain == dom) {
            uint32_t gap = msgseq - st->next;
            st->next = next;
            return gap < (1u << 31) ? gap : 0;
        }
    }
    pthread_mutex_lock(&c->mu);
    c->untracked++;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* The records of one message, to its end. Returns false when the buffer
 * is done with: a TCP exporter closed or broke its connection. */
static bool read_message(fa_collector *c, fBuf_t *b)
{
    GError *gerr = NULL;
    fa_ipfix_item it;
    uint32_t nrec = 0;
    if (!fBufSetInternalTemplate(b, c->tid, &gerr)) {
        g_clear_error(&gerr);
        return true;
    }
    while (fa_ipfix_next(b, &it, &gerr)) {
        nrec++;
        it.arrival_us = fa_live_wall_us();
        if (!push(c, &it))
            return true;
    }
    bool eom = g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOM);
    bool gone = g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOF) ||
                g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_IO) ||
                g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_CONN);
    /* NLREAD: a signal broke the read off; nothing is lost. */
    if (!eom && !gone && !g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_NLREAD))
        count_error(c, false);
    if (eom) {
        /* libfixbuf counts a NetFlow v9 session's gaps in sequence numbers
         * since the session began (for IPFIX it only logs them). */
        uint32_t missed = c->netflow9 ? fbCollectorGetNetflowMissed(fBufGetCollector(b), NULL, 0, 0) : 0;
        uint64_t gap = c->netflow9 ? 0 : seq_gap(c, b, nrec);
        pthread_mutex_lock(&c->mu);
        c->messages++;
        c->records_missed += gap;
        if (missed > c->missed)
            c->missed = missed;
        pthread_mutex_unlock(&c->mu);
    }
    g_clear_error(&gerr);
    return !(gone && c->tcp);
}

static void *collect_thread(void *arg)
{
    fa_collector *c = arg;
    GError *gerr = NULL;
    /* Reloads and report requests are the main thread's to take; stop
     * signals reach this one too and break its waits off. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    while (!stopping(c)) {
        fBuf_t *b = fbListenerWait(c->listener, &gerr);
        if (!b) {
            bool interrupted = g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_NLREAD);
            if (!interrupted) {
                pthread_mutex_lock(&c->mu);
                snprintf(c->err, sizeof c->err, "collector: %s", gerr ? gerr->message : "no buffer");
                pthread_mutex_unlock(&c->mu);
                g_clear_error(&gerr);
                break;
            }
            g_clear_error(&gerr);
            continue;
        }
        fBufSetAutomaticMode(b, FALSE);
        if (!read_message(c, b))
            fBufFree(b);
    }
    pthread_mutex_lock(&c->mu);
    c->done = true;
    pthread_cond_signal(&c->ready);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void free_collector(fa_collector *c)
{
    if (c->listener)
        fbListenerFree(c->listener);
    if (c->session)
        fbSessionFree(c->session);
    if (c->model)
        fbInfoModelFree(c->model);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->room);
    pthread_cond_destroy(&c->ready);
    free(c->ring);
    free(c->streams);
    free(c);
}

/* libfixbuf does not give its UDP socket away (its appinit callback gets
 * -1 for it): the socket is found among the process's own as the UDP one
 * bound to the port, its buffer raised, past net.core.rmem_max where the
 * process may (CAP_NET_ADMIN), and kept to read the kernel's drop count. */
static void find_udp_socket(fa_collector *c, const char *port)
{
    unsigned long want_port = strtoul(port, NULL, 10);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int fd = atoi(e->d_name), type = 0, proto = 0;
        socklen_t tl = sizeof type, pl = sizeof proto;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (e->d_name[0] == '.' || fd == dirfd(d) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
            type != SOCK_DGRAM || getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) != 0 ||
            proto != IPPROTO_UDP || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
            continue;
        unsigned bound = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                         : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                                    : 0;
        if (bound == want_port)
            c->udp_fd = fd;
    }
    if (d)
        closedir(d);
    if (c->udp_fd < 0)
        return;
    int want = RCVBUF_BYTES;
    if (setsockopt(c->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        (void)setsockopt(c->udp_fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    socklen_t len = sizeof c->rcvbuf;
    if (getsockopt(c->udp_fd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, &len) != 0)
        c->rcvbuf = 0;
}

/* The listener with NetFlow v9 translation when asked for. */
static int listen_on(fa_collector *c, const fa_collect_spec *spec, GError **gerr)
{
    fbConnSpec_t cs = FB_CONNSPEC_INIT;
    cs.transport = spec->tcp ? FB_TCP : FB_UDP;
    cs.host = spec->host[0] ? (char *)spec->host : NULL;
    cs.svc = (char *)spec->port;
    fbCollector_t *col;
    if (!(c->listener = fbListenerAlloc(&cs, c->session, NULL, NULL, gerr)))
        return -1;
    if (!spec->tcp)
        find_udp_socket(c, spec->port);
    if (spec->netflow9 && (!fbListenerGetCollector(c->listener, &col, gerr) ||
                           !fbCollectorSetNetflowV9Translator(col, gerr)))
        return -1;
    return 0;
}

fa_collector *fa_collector_open(const fa_collect_spec *spec, char *err, size_t errlen)
{
    GError *gerr = NULL;
    fa_collector *c = calloc(1, sizeof *c);
    if (!c || !(c->ring = calloc(RING, sizeof *c->ring)) || !(c->streams = calloc(STREAMS, sizeof *c->streams))) {
        if (c)
            free(c->ring);
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->room, NULL);
    pthread_cond_init(&c->ready, NULL);
    c->tcp = spec->tcp;
    c->netflow9 = spec->netflow9;
    c->udp_fd = -1;
    if (!(c->model = fbInfoModelAlloc()) || !(c->session = fa_ipfix_session(c->model, &c->tid, &gerr)) ||
        listen_on(c, spec, &gerr) != 0) {
        snprintf(err, errlen, "--collect %s: %s", spec->text, gerr ? gerr->message : "out of memory");
        g_clear_error(&gerr);
        free_collector(c);
        return NULL;
    }
    if (pthread_create(&c->thread, NULL, collect_thread, c) != 0) {
        snprintf(err, errlen, "--collect %s: cannot start the collector thread", spec->text);
        free_collector(c);
        return NULL;
    }
    c->started = true;
    return c;
}

size_t fa_collector_take(fa_collector *c, fa_ipfix_item *out, size_t max, unsigned wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
    until.tv_sec += wait_ms / 1000u + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&c->mu);
    while (c->count == 0 && !c->done && wait_ms &&
           pthread_cond_timedwait(&c->ready, &c->mu, &until) == 0)
        ;
    size_t n = 0;
    while (n < max && c->count) {
        out[n++] = c->ring[c->head];
        c->head = (c->head + 1) % RING;
        c->count--;
    }
    if (n)
        pthread_cond_signal(&c->room);
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Datagrams the kernel dropped on the UDP socket for want of buffer
 * (sk_drops, as /proc/net/udp's drops column gives it). */
static uint64_t socket_drops(const fa_collector *c)
{
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof mem;
    if (c->udp_fd < 0 || getsockopt(c->udp_fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < (SK_MEMINFO_DROPS + 1) * sizeof mem[0])
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

void fa_collector_losses(fa_collector *c, fa_collector_stats *st)
{
    pthread_mutex_lock(&c->mu);
    st->messages = c->messages;
    st->malformed = c->malformed;
    st->missed = c->missed;
    st->records_missed = c->records_missed;
    st->untracked = c->untracked;
    pthread_mutex_unlock(&c->mu);
    st->dropped = socket_drops(c);
    st->rcvbuf = c->rcvbuf;
}

int fa_collector_failed(fa_collector *c, char *err, size_t errlen)
{
    pthread_mutex_lock(&c->mu);
    int failed = c->done && c->count == 0 && c->err[0];
    if (failed)
        snprintf(err, errlen, "%s", c->err);
    pthread_mutex_unlock(&c->mu);
    return failed ? -1 : 0;
}

void fa_collector_stop(fa_collector *c)
{
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->room);
    pthread_mutex_unlock(&c->mu);
    /* fbListenerWait blocks in poll(); a signal to the thread breaks it
     * off (FB_ERROR_NLREAD), and is sent again until the thread has seen
     * the stop, since one sent just before its poll began is not felt. */
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool done = c->done;
        pthread_mutex_unlock(&c->mu);
        if (done)
            break;
        pthread_kill(c->thread, SIGTERM);
        usleep(20000);
    }
    pthread_join(c->thread, NULL);
    c->started = false;
}

void fa_collector_free(fa_collector *c, fa_collector_stats *st)
{
    if (c->started)
        fa_collector_stop(c);
    fa_collector_losses(c, st);
    free_collector(c);
}
