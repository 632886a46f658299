#pragma once
// SPDX-License-Identifier: MIT
//
// Point positions as text for JSON messages (the worker protocol, core/cli/Worker.h): float32
// little-endian x, y, z per point, base64 (RFC 4648). The hosts we build for are little endian.

#include "core/base/PointCloud.h"

#include <optional>
#include <string>
#include <string_view>

namespace lidistill {

std::string encodeXyz(const PointCloud& cloud);
/// Nothing for text that is not base64 or not a whole number of points (12 bytes each).
std::optional<PointCloud> decodeXyz(std::string_view text);

}  // namespace lidistill
