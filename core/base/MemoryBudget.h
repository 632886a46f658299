#pragma once
// SPDX-License-Identifier: MIT
//
// One budget for every allocation whose size a file decides (point counts, tile counts, map
// and tensor sizes): a file that asks for more is refused with an IoError naming the file and
// the size, instead of the process trying, swapping and being killed. The budget is
// LIDISTILL_MEMORY_BUDGET (bytes, or with a K, M, G or T suffix, powers of 1024) if set, else
// half of the machine's physical memory. No Qt, no torch.

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace lidistill {

/// The budget in bytes, from the environment at each call (an unreadable value is ignored).
std::uint64_t memoryBudget();

/// Refuses an allocation of `bytes` for `what` ("the points", "tile table") sized by `file`.
/// @throws IoError naming the file, what and both sizes when bytes > memoryBudget().
void checkMemoryBudget(const std::filesystem::path& file, std::uint64_t bytes,
                       std::string_view what);

/// `count * each`, saturating at UINT64_MAX instead of wrapping (then refused by the budget).
constexpr std::uint64_t budgetBytes(std::uint64_t count, std::uint64_t each) {
    return each != 0 && count > UINT64_MAX / each ? UINT64_MAX : count * each;
}

}  // namespace lidistill
