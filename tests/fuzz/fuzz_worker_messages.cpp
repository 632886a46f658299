// SPDX-License-Identifier: MIT
// What travels between the studio and a `lidistill worker` (core/cli/Worker.h): event lines
// (events::parse, what the studio reads) and base64 point clouds (decodeXyz, the scans the
// worker reads and the clouds the studio reads). Input: text, parsed line by line as events;
// the whole input and every string of a parsed event are also decoded as clouds.
#include "core/base/Base64.h"
#include "core/base/Events.h"
#include "core/base/XyzCodec.h"
#include "tests/fuzz/FuzzTarget.h"

#include <cmath>
#include <cstring>
#include <string_view>

using namespace lidistill;

namespace {

void decodeCloud(std::string_view text) {
    const auto cloud = decodeXyz(text);
    const auto bytes = base64Decode(text);
    FUZZ_CHECK(cloud.has_value() == (bytes && bytes->size() % 12 == 0));
    if (!cloud) return;
    FUZZ_CHECK(cloud->size() * 12 == bytes->size());
    // Bit-exact both ways: what the studio draws is what the worker made.
    const auto again = decodeXyz(encodeXyz(*cloud));
    FUZZ_CHECK(again && again->size() == cloud->size());
    FUZZ_CHECK(cloud->empty() ||
               std::memcmp(again->xyz.data(), cloud->xyz.data(), 12 * cloud->size()) == 0);
}

}  // namespace

LIDISTILL_FUZZ_TARGET(worker_messages) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    decodeCloud(text);
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const auto event = events::parse(text.substr(pos, end - pos));
        if (event) {
            FUZZ_CHECK(!event->type.empty());
            for (const auto& [name, value] : event->strings) decodeCloud(value);
            for (const auto& [name, value] : event->numbers) (void)event->number(name);
            if (event->type == "progress") {
                FUZZ_CHECK(std::isfinite(event->fraction));
            }
        }
        pos = end + 1;
    }
}
