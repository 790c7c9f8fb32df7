/* fuzz_linktypes.h - the link types fuzz_decode picks from with its first
 * input byte; the seed builder writes the same index in front of each frame,
 * so the order here is part of the seed format (docs/fuzzing.md). */
#ifndef FLOWAUDIT_FUZZ_LINKTYPES_H
#define FLOWAUDIT_FUZZ_LINKTYPES_H

#include "decode.h"

/* Index 0..7 is the first byte of a fuzz_decode input, taken modulo 8. */
#define FUZZ_LINKTYPES                                                          \
    { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW,   \
      DLT_IPV4, DLT_IPV6 }

#endif
