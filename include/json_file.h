/* json_file.h - the -j file, written by a thread of its own.
 *
 * Report stage, last step: the run formats NDJSON records into a stdio
 * stream as before (json_line.h); each buffer stdio hands on goes to a
 * thread that makes the write() calls, so copying hundreds of megabytes
 * into the page cache does not hold up the packets. Records leave in the
 * order they were written. A write that fails is seen at the next fwrite,
 * fflush or fclose of the stream (ferror set, EOF returned), never lost. */
#ifndef FLOWAUDIT_JSON_FILE_H
#define FLOWAUDIT_JSON_FILE_H

#include <stdatomic.h>
#include <stdio.h>

/* Creates or truncates path and opens it for appending. Returns a stream
 * whose fclose waits until everything written has reached the file, or
 * NULL with err set ("PATH: reason"). stops counts the signals asking the
 * run to stop (fa_signals.stop): one that arrives while a write waits for
 * a pipe's or FIFO's reader fails the write instead of waiting on. */
FILE *fa_json_file_open(const char *path, const atomic_int *stops, char *err, size_t errlen);

#endif
