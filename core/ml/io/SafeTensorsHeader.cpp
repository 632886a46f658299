// SPDX-License-Identifier: MIT
#include "core/ml/io/SafeTensorsHeader.h"

#include "core/base/Error.h"
#include "core/base/MemoryBudget.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace lidistill::ml {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian lengths; big-endian hosts need byte swapping");

std::size_t safeTensorsElementSize(std::string_view dtype) {
    if (dtype == "F64" || dtype == "I64") return 8;
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
    return 0;
}

SafeTensorsHeader parseSafeTensorsHeader(const std::filesystem::path& file, std::string_view json,
                                         std::uint64_t dataSize) {
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw IoError(file, std::string("corrupt safetensors header: ") + e.what());
    }
    if (!header.is_object()) throw IoError(file, "safetensors header is not a JSON object");
    SafeTensorsHeader out;
    out.dataSize = dataSize;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) throw IoError(file, "__metadata__ is not a JSON object");
            for (const auto& [k, v] : entry.items()) {
                if (!v.is_string()) {
                    throw IoError(file, "metadata value '" + k + "' is not a string");
                }
                if (v.get_ref<const std::string&>().size() > kMaxMetadataValueBytes) {
                    throw IoError(file, "metadata value '" + k + "' is longer than " +
                                            std::to_string(kMaxMetadataValueBytes) + " bytes");
                }
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        const std::string& tensor = name;  // clang 14 lambdas cannot capture a binding
        const auto fail = [&](const std::string& what) {
            return IoError(file, "tensor '" + tensor + "': " + what);
        };
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
            !entry.contains("data_offsets")) {
            throw fail("entry lacks dtype, shape or data_offsets");
        }
        const auto& dt = entry["dtype"];
        const auto& shape = entry["shape"];
        const auto& offs = entry["data_offsets"];
        if (!dt.is_string() || !shape.is_array() || !offs.is_array() || offs.size() != 2 ||
            !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) {
            throw fail("malformed dtype, shape or data_offsets");
        }
        SafeTensorsEntry e;
        e.name = name;
        e.dtype = dt.get<std::string>();
        e.elementSize = safeTensorsElementSize(e.dtype);
        if (e.elementSize == 0) throw fail("unsupported dtype " + e.dtype);
        if (shape.size() > kMaxTensorRank) {
            throw fail("shape of rank " + std::to_string(shape.size()) + " (at most " +
                       std::to_string(kMaxTensorRank) + ")");
        }
        std::uint64_t numel = 1;
        for (const auto& s : shape) {
            if (!s.is_number_unsigned() || s.get<std::uint64_t>() > kMaxTensorElements) {
                throw fail("bad shape " + shape.dump());
            }
            const std::uint64_t d = s.get<std::uint64_t>();
            e.shape.push_back(static_cast<std::int64_t>(d));
            // Overflow-checked: a huge shape must not wrap to a small (or zero) count.
            if (d != 0 && numel > kMaxTensorElements / d) throw fail("shape too large");
            numel *= d;
        }
        e.begin = offs[0].get<std::uint64_t>();
        e.end = offs[1].get<std::uint64_t>();
        if (e.begin > e.end || e.end > dataSize) {
            throw fail("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                       "] outside the " + std::to_string(dataSize) +
                       " data bytes (truncated file?)");
        }
        // numel < 2^40 and elementSize <= 8: the product cannot overflow.
        if (e.end - e.begin != numel * e.elementSize) {
            throw fail("holds " + std::to_string(e.end - e.begin) + " bytes, dtype " + e.dtype +
                       " and shape " + shape.dump() + " need " +
                       std::to_string(numel * e.elementSize));
        }
        out.entries.push_back(std::move(e));
    }
    std::stable_sort(out.entries.begin(), out.entries.end(), [](const auto& a, const auto& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    const SafeTensorsEntry* previous = nullptr;  // the last one holding bytes
    for (const auto& e : out.entries) {
        if (e.begin == e.end) continue;  // an empty tensor holds no bytes to share
        // Two tensors sharing bytes is no file any writer makes; refusing it keeps a damaged
        // header from passing every per-tensor check.
        if (previous && e.begin < previous->end) {
            throw IoError(file, "tensor '" + e.name + "' overlaps tensor '" + previous->name +
                                    "' in the data");
        }
        previous = &e;
    }
    std::uint64_t total = 0;  // <= dataSize now: inside the data, no overlaps
    for (const auto& e : out.entries) total += e.end - e.begin;
    checkMemoryBudget(file, total, std::to_string(out.entries.size()) + " tensors");
    return out;
}

SafeTensorsHeader readSafeTensorsHeader(const std::filesystem::path& file) {
    // The header first: a file picked by mistake (20 GB of something else) is refused after
    // reading 8 bytes and a bounded header, never read whole.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw IoError(file, "no such file");
    const std::uint64_t fileSize = std::filesystem::file_size(file, ec);
    if (ec) throw IoError(file, "cannot determine the file size");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw IoError(file, "cannot open for reading");
    if (fileSize < 8) {
        throw IoError(file, "not a safetensors file (shorter than its 8-byte header length)");
    }
    char lengthBytes[8];
    if (!in.read(lengthBytes, 8)) throw IoError(file, "read failed");
    std::uint64_t n = 0;
    std::memcpy(&n, lengthBytes, 8);
    if (n < 2 || n > fileSize - 8 || n > kMaxSafeTensorsHeaderBytes) {
        throw IoError(file, "safetensors header length " + std::to_string(n) +
                                " does not fit the file of " + std::to_string(fileSize) +
                                " bytes (truncated or not a safetensors file)");
    }
    std::string text(n, '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(n))) {
        throw IoError(file, "read failed in the header");
    }
    SafeTensorsHeader h = parseSafeTensorsHeader(file, text, fileSize - 8 - n);
    h.dataOffset = 8 + n;
    return h;
}

}  // namespace lidistill::ml
