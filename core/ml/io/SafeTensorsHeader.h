#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml: the header of a safetensors file (SafeTensors.h), read and
// checked without torch, before any tensor byte is read or allocated. Torch-free so that the
// fuzz target (tests/fuzz/fuzz_safetensors.cpp) runs it in a libFuzzer build without libtorch.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lidistill::ml {

/// One tensor as the header describes it, checked against the file.
struct SafeTensorsEntry {
    std::string name;
    std::string dtype;              ///< F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL
    std::size_t elementSize = 0;    ///< bytes an element of dtype
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  ///< byte range in the data section
};

struct SafeTensorsHeader {
    std::vector<SafeTensorsEntry> entries;  ///< in data order (by begin)
    std::map<std::string, std::string> metadata;
    std::uint64_t dataOffset = 0;  ///< file offset of the data section (8 + header length)
    std::uint64_t dataSize = 0;    ///< bytes of the data section
};

/// Limits applied before anything sized by the header is allocated.
inline constexpr std::uint64_t kMaxSafeTensorsHeaderBytes = std::uint64_t{100} << 20;
inline constexpr std::uint64_t kMaxTensorElements = std::uint64_t{1} << 40;
inline constexpr std::size_t kMaxTensorRank = 16;
inline constexpr std::size_t kMaxMetadataValueBytes = std::size_t{1} << 20;

/// Bytes an element of a safetensors dtype name, or 0 for a name this reader does not support.
std::size_t safeTensorsElementSize(std::string_view dtype);

/// Parses and checks `json`, the header of a file whose data section holds `dataSize` bytes:
/// a JSON object; every entry has a supported dtype, a shape of at most kMaxTensorRank
/// non-negative dimensions whose element count (overflow-checked) stays under
/// kMaxTensorElements, and data_offsets [begin, end] inside the data whose length is exactly
/// the tensor's bytes; no two tensors overlap; metadata values are strings of at most
/// kMaxMetadataValueBytes. @throws IoError naming `file` and the tensor or key at fault.
SafeTensorsHeader parseSafeTensorsHeader(const std::filesystem::path& file, std::string_view json,
                                         std::uint64_t dataSize);

/// Reads the 8-byte header length and the header of `file` (never more than
/// kMaxSafeTensorsHeaderBytes, never the data) and parses it. @throws IoError naming the file.
SafeTensorsHeader readSafeTensorsHeader(const std::filesystem::path& file);

}  // namespace lidistill::ml
