/* fuzz_target.h - the libFuzzer entry points each fuzz_<target>.c defines,
 * shared by the libFuzzer build and the plain replay program. */
#ifndef FLOWAUDIT_FUZZ_TARGET_H
#define FLOWAUDIT_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input through the target's entry points. Always returns 0; a bug
 * shows as a crash or a sanitizer report. data is owned by the caller. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
