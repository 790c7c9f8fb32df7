/* outputs.h - the checks on output paths made before anything is opened
 * for writing: an output never names an input, and its directory exists. */
#ifndef FLOWAUDIT_OUTPUTS_H
#define FLOWAUDIT_OUTPUTS_H

#include <stddef.h>

#include "options.h"

/* Checks the -j, --html and --dot files (with the FILE.tmp the last two
 * are written through), the -w file and the files -w rotates into against
 * the -r inputs (device and inode, so a symlink, a hard link or /dev/stdin
 * under "-r -" is caught as well as the same name) and against missing
 * directories. Returns 0, or -1 with a one-line message in err. Opens
 * nothing. */
int fa_outputs_check(const fa_options *o, char *err, size_t errlen);

#endif
