/* fuzz_tls_hello.c - fuzz target: the TLS ClientHello reader, on the input
 * whole and on every prefix the first byte picks (ClientHellos arrive cut
 * by segments and snaplen). */
#include "fuzz_target.h"

#include <stdlib.h>
#include <string.h>

#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_tls_hello h;
    size_t cut = size ? data[0] % (size + 1) : 0;
    (void)fa_tls_could_be_hello(data, cut);
    (void)fa_tls_parse_hello(data, cut, &h);
    if (fa_tls_parse_hello(data, size, &h) != FA_TLS_NOT_TLS &&
        (memchr(h.sni, 0, sizeof h.sni) == NULL || memchr(h.alpn, 0, sizeof h.alpn) == NULL))
        abort(); /* names are always NUL-terminated */
    return 0;
}
