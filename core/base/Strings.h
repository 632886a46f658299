#pragma once
// SPDX-License-Identifier: MIT

#include <string>
#include <string_view>
#include <vector>

namespace lidistill {

/// "Natural" order: digit runs compare by value, so frame2 < frame10. Ties on equal value
/// fall back to plain string order, so the order is total.
bool naturalLess(std::string_view a, std::string_view b);

/// Splits on runs of whitespace; no empty tokens.
std::vector<std::string> splitWhitespace(std::string_view line);

/// Lower-cased copy (ASCII).
std::string toLower(std::string_view s);

}  // namespace lidistill
