/* fuzz_util.c - helpers shared by the fuzz targets (see fuzz_util.h). */
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

/* Returns a NUL-terminated heap copy of data; the caller frees it. */
char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Returns rules/ loaded once; the process owns it until exit. */
const fa_ruleset *fuzz_shipped_rules(void)
{
    static fa_ruleset *rs;
    char err[512];
    if (rs)
        return rs;
    rs = fa_rules_new();
    if (!rs || fa_rules_load_dir(rs, FA_FUZZ_SOURCE_DIR "/rules", err, sizeof err) != 0) {
        fprintf(stderr, "cannot load the shipped rules: %s\n", rs ? err : "out of memory");
        abort();
    }
    return rs;
}

/* Returns /dev/null opened once; the process owns it until exit. Its
 * buffer takes several inputs' reports (40 KiB an input of fuzz_pipeline
 * on the seeds) per write instead of one write every 4 KiB. */
FILE *fuzz_sink(void)
{
    static FILE *sink;
    static char buf[1 << 18];
    if (!sink) {
        sink = fopen("/dev/null", "w");
        if (!sink || setvbuf(sink, buf, _IOFBF, sizeof buf) != 0)
            abort();
    }
    return sink;
}
