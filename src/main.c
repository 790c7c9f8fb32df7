/* main.c - entry point: parse the command line, run the chosen mode, map
 * the outcome to the exit status (0 ok, 1 findings, 2 usage/input error).
 * The only file that exits, and the only one with process-wide state: the
 * flags the signal handler sets. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "live.h"
#include "options.h"
#include "outputs.h"
#include "pipeline.h"
#include "records.h"
#include "rules.h"
#include "run.h"
#include "site.h"
#include "signals.h"


enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

static fa_signals signals;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        signals.reload = 1;
    else if (sig == SIGUSR1)
        signals.report = 1;
    else
        signals.stop++;  /* counted: one during a blocked -j write breaks it (json_file.c) */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

static int init_site(const fa_ruleset *rs, const char *product)
{
    int p = fa_rules_find_product(rs, product);
    if (p < 0) {
        fprintf(stderr, "flowaudit: --init-site: unknown product '%s' (products:", product);
        for (int i = 0; i < rs->nproducts; i++)
            fprintf(stderr, " %s", rs->products[i].id);
        fputs(")\n", stderr);
        return -1;
    }
    return fa_site_template(rs, p, stdout);
}

static int rules_mode(const fa_options *o)
{
    char err[512];
    const char *dir = o->rules_dir ? o->rules_dir : fa_default_rules_dir();
    fa_ruleset *rs = fa_rules_new();
    if (!rs) {
        fprintf(stderr, "flowaudit: out of memory\n");
        return EXIT_ERROR;
    }
    int rc = fa_rules_load_dir(rs, dir, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        fa_rules_free(rs);
        return EXIT_ERROR;
    }
    FILE *out = stdout;
    if (o->mode == FA_MODE_LIST_RULES && o->json_path && strcmp(o->json_path, "-") != 0 &&
        !(out = fopen(o->json_path, "w"))) {
        fprintf(stderr, "flowaudit: %s: %s\n", o->json_path, strerror(errno));
        fa_rules_free(rs);
        return EXIT_ERROR;
    }
    if (o->mode == FA_MODE_INIT_SITE)
        rc = init_site(rs, o->init_product);
    else if (o->mode == FA_MODE_CHECK_RULES)
        printf("%s: %d products, %d roles, %d rules: OK\n", dir, rs->nproducts, rs->nroles, rs->nrules);
    else if (o->json_path)
        rc = fa_rules_print_json(rs, out);
    else
        rc = fa_rules_print_text(rs, out);
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    fa_rules_free(rs);
    return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

/* The run core, fed by the driver for the kind of input. */
static int audit_mode(const fa_options *o)
{
    char err[1024];
    fa_run_result res;
    if (fa_outputs_check(o, err, sizeof err) != 0) {
        fprintf(stderr, "flowaudit: %s\n", err);
        return EXIT_ERROR;
    }
    int records = fa_options_live(o) || o->kafka_in ? 0 : fa_records_inputs(o, err, sizeof err);
    if (records < 0) {
        fprintf(stderr, "flowaudit: %s\n", err);
        return EXIT_ERROR;
    }
    fa_kafka_in *sensors = NULL;
    if (o->kafka_in && !(sensors = fa_kafka_in_open(o, err, sizeof err))) {
        fprintf(stderr, "flowaudit: %s\n", err);
        return EXIT_ERROR;
    }
    install_signals();
    fa_run *run = fa_run_start(o, &signals, err, sizeof err);
    int rc = -1;
    if (run) {
        rc = o->nifaces       ? fa_live_run(run, &signals, err, sizeof err)
             : o->collect.set ? fa_records_collect(run, &signals, err, sizeof err)
             : sensors        ? fa_kafka_in_run(sensors, run, &signals, err, sizeof err)
             : records        ? fa_records_files(run, &signals, err, sizeof err)
                              : fa_pipeline_files(run, &signals, err, sizeof err);
        rc = fa_run_finish(run, rc, &res, err, sizeof err);
    }
    /* After the final report: the offsets it covers are committed. */
    fa_kafka_in_close(sensors, rc == 0);
    if (rc != 0) {
        fprintf(stderr, "flowaudit: %s\n", err);
        return EXIT_ERROR;
    }
    return res.findings > 0 ? EXIT_FINDINGS : EXIT_OK;
}

int main(int argc, char **argv)
{
    fa_options o;
    char err[1024];
    if (fa_options_parse(&o, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "flowaudit: %s\n", err);
        fa_options_free(&o);
        return EXIT_ERROR;
    }
    int status = EXIT_OK;
    switch (o.mode) {
    case FA_MODE_HELP:
        fa_options_usage(stdout);
        break;
    case FA_MODE_VERSION:
        printf("flowaudit %s\n", FLOWAUDIT_VERSION);
        break;
    case FA_MODE_CHECK_RULES: case FA_MODE_LIST_RULES: case FA_MODE_INIT_SITE:
        status = rules_mode(&o);
        break;
    case FA_MODE_AUDIT:
        status = audit_mode(&o);
        break;
    }
    fa_options_free(&o);
    return status;
}
