/* fuzz_ws_frame.c - fuzz target: the WebSocket frame-header reader. The
 * first byte picks how the rest is cut into feeds (segments), so headers
 * split at every place are read; a gap may be declared midway. */
#include "fuzz_target.h"

#include <stdlib.h>

#include "ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] & 0x3f) + 1;
    bool gap = data[0] & 0x40;
    for (size_t pos = 1; pos < size; pos += step) {
        size_t n = size - pos < step ? size - pos : step;
        fa_ws_reader_feed(&r, data + pos, n);
        if (gap && pos > size / 2)
            fa_ws_reader_gap(&r);
        if (r.hdr_len >= sizeof r.hdr)
            abort(); /* a partial header never fills the buffer */
    }
    if (r.st.messages + r.st.pings + r.st.pongs > r.st.frames)
        abort();
    return 0;
}
