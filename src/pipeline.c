/* pipeline.c - the driver for files: the capture thread (reader.c) reads
 * and copies the frames of every -r input, in order; this thread hands
 * each full batch to the run core. */
#include "pipeline.h"

#include <stdio.h>

#include "reader.h"
#include "run_internal.h"

int fa_pipeline_files(fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    fa_reader *r = fa_reader_start(ctx->opts, sig);
    if (!r) {
        snprintf(err, errlen, "cannot start the capture thread");
        return -1;
    }
    fa_batch *b;
    while ((b = fa_reader_next(r))) {
        fa_run_batch(ctx, b, true);
        fa_reader_release(r, b);
    }
    return fa_reader_finish(r, &ctx->summary.files, err, errlen);
}
