/* records_log.c - libfixbuf's log messages (GLib's g_warning and kin in
 * the default domain) taken from GLib's default handler, which writes
 * them raw ("** (process:N): WARNING **: ...") to stderr: each is counted,
 * the first few are written prefixed with the input they concern, and a
 * NetFlow v9 session's first packet, which libfixbuf finds "out of
 * sequence" when the exporter numbers from 1, is not written as a loss. */
#include "records_internal.h"

#include <stdio.h>
#include <string.h>

/* Messages written; the rest are only counted. */
#define LOG_SHOWN_MAX 10

/* libfixbuf's words for a NetFlow v9 session's first packet numbered 1
 * (pmacctd numbers so): it awaited 0, nothing was lost. */
static const char first_v9[] = "expecting 0x0000 received 0x0001";

static void on_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer arg)
{
    (void)domain, (void)level;
    fa_fixbuf_log *l = arg;
    pthread_mutex_lock(&l->mu);
    l->count++;
    bool show = !l->quiet && !strstr(msg, first_v9) && l->shown < LOG_SHOWN_MAX;
    if (show && ++l->shown == LOG_SHOWN_MAX)
        fprintf(stderr, "flowaudit: %s: %s (libfixbuf; further messages only counted)\n", l->where, msg);
    else if (show)
        fprintf(stderr, "flowaudit: %s: %s (libfixbuf)\n", l->where, msg);
    pthread_mutex_unlock(&l->mu);
}

void fa_fixbuf_log_start(fa_fixbuf_log *l, bool quiet, const char *where)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->quiet = quiet;
    fa_fixbuf_log_where(l, where);
    l->handler = g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, on_log, l);
}

void fa_fixbuf_log_where(fa_fixbuf_log *l, const char *where)
{
    pthread_mutex_lock(&l->mu);
    snprintf(l->where, sizeof l->where, "%s", where);
    pthread_mutex_unlock(&l->mu);
}

uint64_t fa_fixbuf_log_stop(fa_fixbuf_log *l)
{
    g_log_remove_handler(NULL, l->handler);
    pthread_mutex_destroy(&l->mu);
    return l->count;
}
