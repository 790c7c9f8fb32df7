/* reader.h - the capture thread for files.
 *
 * Pipeline stage 1 for -r (capture -> decode -> batch -> flow table ->
 * detect -> report): a thread of its own opens the files in order, reads
 * them with libpcap and fills packet batches (packet_batch.h), while the
 * calling thread takes the full batches, in order, and processes them.
 * Reading overlaps decoding and the flow table's work; what comes out is
 * exactly what one thread would produce, since the packets keep their
 * order and only the batch's own data is shared. */
#ifndef FLOWAUDIT_READER_H
#define FLOWAUDIT_READER_H

#include <stdint.h>

#include "options.h"
#include "packet_batch.h"
#include "signals.h"

typedef struct fa_reader fa_reader;

/* Starts reading o->files. Returns NULL when there is no memory or no
 * thread. Stops early on sig->stop. */
fa_reader *fa_reader_start(const fa_options *o, fa_signals *sig);
/* The next full batch, waiting for it; NULL once every packet read has
 * been handed out (end of the last file, an error, or a stop). */
fa_batch *fa_reader_next(fa_reader *r);
/* Gives a batch from fa_reader_next back for refilling. */
void fa_reader_release(fa_reader *r, fa_batch *b);
/* Waits for the thread and frees the reader; call after fa_reader_next
 * returned NULL. Returns 0, or -1 with err set ("FILE: libpcap's
 * message"); *files is the number of files opened. */
int fa_reader_finish(fa_reader *r, uint64_t *files, char *err, size_t errlen);

#endif
