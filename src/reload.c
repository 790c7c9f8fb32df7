/* reload.c - a configuration load in a thread of its own (reload.h). */
#include "reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct fa_reload {
    pthread_t thread;
    pthread_mutex_t lock;
    const fa_options *opts;
    fa_config_load_fn load;
    bool done;                 /* under lock: the result below is final */
    int rc;
    fa_config cfg;
    char err[512];
};

static void *reload_main(void *arg)
{
    fa_reload *r = arg;
    fa_config cfg = {NULL, NULL, NULL};
    char err[sizeof r->err];
    int rc = r->load(r->opts, &cfg, err, sizeof err);
    pthread_mutex_lock(&r->lock);
    r->rc = rc;
    r->cfg = cfg;
    snprintf(r->err, sizeof r->err, "%s", rc ? err : "");
    r->done = true;
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

fa_reload *fa_reload_start(const fa_options *o, fa_config_load_fn load, char *err, size_t errlen)
{
    fa_reload *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->opts = o;
    r->load = load;
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->thread, NULL, reload_main, r) != 0) {
        snprintf(err, errlen, "cannot start a thread to read the configuration");
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

bool fa_reload_done(fa_reload *r)
{
    pthread_mutex_lock(&r->lock);
    bool done = r->done;
    pthread_mutex_unlock(&r->lock);
    return done;
}

int fa_reload_finish(fa_reload *r, fa_config *out, char *err, size_t errlen)
{
    pthread_join(r->thread, NULL);
    int rc = r->rc;
    *out = r->cfg;
    if (rc)
        snprintf(err, errlen, "%s", r->err);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return rc;
}
