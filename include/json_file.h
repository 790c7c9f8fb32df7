/* json_file.h - the -j file, written by a thread of its own.
 *
 * Report stage, last step: the run formats NDJSON records into a stdio
 * stream as before (json_line.h), or hands the facts of a flow record over
 * as a job the thread formats; each buffer stdio hands on goes to a
 * thread that makes the write() calls, so copying hundreds of megabytes
 * into the page cache does not hold up the packets. Records leave in the
 * order they were written. A write that fails is seen at the next fwrite,
 * fflush or fclose of the stream (ferror set, EOF returned), never lost. */
#ifndef FLOWAUDIT_JSON_FILE_H
#define FLOWAUDIT_JSON_FILE_H

#include <stdatomic.h>
#include <stdio.h>

#include "json_line.h"

typedef struct fa_json_file fa_json_file;

/* Creates or truncates path and opens it for appending. Returns a stream
 * whose fclose waits until everything written has reached the file, or
 * NULL with err set ("PATH: reason"). stops counts the signals asking the
 * run to stop (fa_signals.stop): once one has come, a write that a pipe's
 * or FIFO's reader has let wait for a second fails instead of waiting on. */
FILE *fa_json_file_open(const char *path, const atomic_int *stops, fa_json_file **handle, char *err,
                        size_t errlen);

/* Jobs: records the writing thread formats itself, from job_size bytes the
 * processing thread copies in, in their place among the stream's other
 * records. format writes one complete record (closed, without the newline)
 * into line; it runs in the writing thread, so it must read only the job
 * and what stays unchanged while the file is open. */
typedef void (*fa_json_job_fn)(const void *job, fa_json_rec *line, void *arg);
void fa_json_file_jobs(fa_json_file *j, size_t job_size, fa_json_job_fn format, void *arg);
/* Queues one job (waiting while the ring is full). Returns 0, or -1 once
 * a write has failed. */
int fa_json_file_job(fa_json_file *j, const void *job);
/* Waits until every job queued has been formatted (and written, or given
 * up after a failed write): before what format reads is freed. */
void fa_json_file_drain(fa_json_file *j);

#endif
