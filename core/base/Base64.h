#pragma once
// SPDX-License-Identifier: MIT
//
// RFC 4648 base64 (standard alphabet, '=' padding): binary payloads (point clouds, model files)
// inside the worker's JSON lines.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lidistill {

std::string base64Encode(std::string_view bytes);
/// Nothing for text that is not canonical padded base64 (a wrong length, a foreign character).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace lidistill
