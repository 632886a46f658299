#pragma once
// SPDX-License-Identifier: MIT

#include <cstddef>
#include <cstdint>

namespace lidistill::map {

/// The 64-bit checksum of the static map file format (MapFile.cpp documents the algorithm):
/// a guard against truncation, bit rot and partial copies, not a cryptographic hash. Public
/// so that tools and the map fuzz target can build files whose checksums hold.
std::uint64_t checksum64(const void* data, std::size_t n);

}  // namespace lidistill::map
