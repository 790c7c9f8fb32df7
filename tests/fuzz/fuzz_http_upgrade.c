/* fuzz_http_upgrade.c - fuzz target: the WebSocket opening handshake
 * reader. The input is fed as the client's and then the server's header
 * block, whole and cut at every offset the first byte picks, as the
 * detector sees split segments. */
#include "fuzz_target.h"

#include <stdlib.h>

#include "http_upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_http_request req;
    fa_http_response resp;
    if (size > FA_HTTP_HEAD_MAX)
        size = FA_HTTP_HEAD_MAX;
    size_t head = fa_http_head_length(data, size);
    if (head > size)
        abort();
    size_t cut = size ? data[0] % (size + 1) : 0;
    (void)fa_http_could_be_request(data, cut);
    (void)fa_http_could_be_response(data, cut);
    (void)fa_http_parse_request(data, cut, &req);
    (void)fa_http_parse_response(data, cut, &resp);
    if (fa_http_parse_request(data, size, &req) == FA_HTTP_DONE &&
        (req.path[sizeof req.path - 1] || req.host[sizeof req.host - 1]))
        abort(); /* fields are always NUL-terminated */
    (void)fa_http_parse_response(data, size, &resp);
    return 0;
}
