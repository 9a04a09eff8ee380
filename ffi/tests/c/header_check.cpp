// The header compiles as C++ (-std=c++11 -Wall -Wextra -Werror -pedantic),
// links (extern "C" names), and works with RAII ownership.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "ocer.h"

namespace {

struct HeaderFree {
    void operator()(ocer_diag_header *h) const { ocer_diag_header_free(h); }
};
using Header = std::unique_ptr<ocer_diag_header, HeaderFree>;

std::string text(ocer_str s) {
    return s.ptr == nullptr ? std::string() : std::string(reinterpret_cast<const char *>(s.ptr), s.len);
}

}  // namespace

int main() {
    const std::string value = "1003;reason=\"User does not exist\";source=\"fe.contoso.com\"";
    ocer_diag_header *raw = nullptr;
    ocer_result r = ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE,
                                           reinterpret_cast<const uint8_t *>(value.data()),
                                           value.size(), &raw);
    if (r != OCER_RESULT_OK) {
        std::printf("parse failed: %s\n", text(ocer_result_describe(r)).c_str());
        return 1;
    }
    Header header(raw);
    uint32_t id = 0;
    ocer_str reason = {nullptr, 0};
    if (ocer_diag_header_error_id(header.get(), &id) != OCER_RESULT_OK ||
        ocer_diag_header_reason(header.get(), &reason) != OCER_RESULT_OK) {
        return 1;
    }
    ocer_catalog_entry entry;
    std::size_t rows = 0;
    if (ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, id, &entry, 1, &rows) != OCER_RESULT_OK) {
        return 1;
    }
    std::printf("%u %s: %.*s\n", static_cast<unsigned>(id), text(reason).c_str(),
                OCER_STR_PRINTF(entry.reason));
    return id == 1003 && text(reason) == "User does not exist" ? 0 : 1;
}
