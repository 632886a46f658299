// SPDX-License-Identifier: MIT
#include "core/base/XyzCodec.h"

#include "core/base/Base64.h"

#include <cstring>

namespace lidistill {

std::string encodeXyz(const PointCloud& cloud) {
    std::string bytes(cloud.size() * 12, '\0');
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        std::memcpy(bytes.data() + 12 * i, cloud.xyz[i].data(), 12);
    }
    return base64Encode(bytes);
}

std::optional<PointCloud> decodeXyz(std::string_view text) {
    const auto bytes = base64Decode(text);
    if (!bytes || bytes->size() % 12 != 0) return std::nullopt;
    PointCloud cloud;
    cloud.xyz.resize(bytes->size() / 12);
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        std::memcpy(cloud.xyz[i].data(), bytes->data() + 12 * i, 12);
    }
    return cloud;
}

}  // namespace lidistill
