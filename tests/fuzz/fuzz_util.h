/* fuzz_util.h - helpers shared by the fuzz targets: NUL-terminated copies of
 * inputs, the shipped rule set loaded once, and a sink for printed output. */
#ifndef FLOWAUDIT_FUZZ_UTIL_H
#define FLOWAUDIT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rules.h"

/* The flow tables' hash seed: a fixed one, so that an input takes the same
 * chains, and reaches the same coverage, in every run and every process. */
#define FUZZ_HASH_SEED 0x5eedf1a0c0ffee01ull

/* Returns a malloc'd NUL-terminated copy of data (caller frees), or NULL
 * when out of memory. */
char *fuzz_strdup(const uint8_t *data, size_t size);

/* Returns the rules/ directory of the source tree, loaded on the first call
 * and kept for the life of the process (read-only afterwards). Aborts when
 * the shipped rules do not load: every input would be meaningless. */
const fa_ruleset *fuzz_shipped_rules(void);

/* Returns a stream that discards what is written to it, opened once. */
FILE *fuzz_sink(void);

#endif
