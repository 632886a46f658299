// SPDX-License-Identifier: MIT
#include "core/ml/io/SafeTensors.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

namespace lidistill::ml {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; big-endian hosts need byte swapping");

struct DType {
    const char* name;
    torch::ScalarType type;
};
constexpr DType kDTypes[] = {
    {"F64", torch::kDouble},    {"F32", torch::kFloat}, {"F16", torch::kHalf},
    {"BF16", torch::kBFloat16}, {"I64", torch::kLong},  {"I32", torch::kInt},
    {"I16", torch::kShort},     {"I8", torch::kChar},   {"U8", torch::kByte},
    {"BOOL", torch::kBool},
};

const char* dtypeName(torch::ScalarType t) {
    for (const auto& d : kDTypes) {
        if (d.type == t) return d.name;
    }
    throw InvalidArgument(std::string("safetensors: unsupported dtype ") + c10::toString(t));
}

std::uint64_t readLe64(const char* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

void saveSafeTensors(const std::filesystem::path& file, const SafeTensors& content) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!content.metadata.empty()) {
        auto meta = nlohmann::ordered_json::object();
        for (const auto& [k, v] : content.metadata) meta[k] = v;
        header["__metadata__"] = meta;
    }
    std::vector<torch::Tensor> data;
    std::set<std::string> names;
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : content.tensors) {
        if (name == "__metadata__" || !names.insert(name).second) {
            throw InvalidArgument("safetensors: duplicate or reserved tensor name '" + name + "'");
        }
        auto t = tensor.detach().to(torch::kCPU).contiguous();
        const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
        header[name] = {{"dtype", dtypeName(t.scalar_type())},
                        {"shape", t.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(t);
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
    writeStreamAtomically(file, [&](std::ostream& out) {
        const std::uint64_t n = json.size();
        out.write(reinterpret_cast<const char*>(&n), 8);
        out.write(json.data(), static_cast<std::streamsize>(json.size()));
        for (const auto& t : data) {
            out.write(static_cast<const char*>(t.data_ptr()),
                      static_cast<std::streamsize>(t.numel() * t.element_size()));
        }
    });
}

SafeTensors loadSafeTensors(const std::filesystem::path& file) {
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
    const std::uint64_t n = readLe64(lengthBytes);
    if (n < 2 || n > fileSize - 8 || n > (std::uint64_t{100} << 20)) {
        throw IoError(file, "safetensors header length " + std::to_string(n) +
                                " does not fit the file of " + std::to_string(fileSize) +
                                " bytes (truncated or not a safetensors file)");
    }
    std::string headerText(n, '\0');
    if (!in.read(headerText.data(), static_cast<std::streamsize>(n))) {
        throw IoError(file, "read failed in the header");
    }
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(headerText);
    } catch (const nlohmann::json::exception& e) {
        throw IoError(file, std::string("corrupt safetensors header: ") + e.what());
    }
    if (!header.is_object()) throw IoError(file, "safetensors header is not a JSON object");
    const std::uint64_t dataSize = fileSize - 8 - n;
    // Every tensor is checked against the header before its bytes are read.
    std::vector<char> bytes;
    auto data = [&]() -> const char* {
        if (bytes.empty() && dataSize > 0) {
            bytes.resize(dataSize);
            if (!in.read(bytes.data(), static_cast<std::streamsize>(dataSize))) {
                throw IoError(file, "read failed in the tensor data");
            }
        }
        return bytes.data();
    };
    SafeTensors out;
    struct Checked {
        std::string name;
        torch::ScalarType type;
        std::vector<std::int64_t> sizes;
        std::uint64_t begin, end;
    };
    std::vector<Checked> checked;
    std::vector<std::pair<std::uint64_t, std::string>> order;
    std::unordered_map<std::string, torch::Tensor> byName;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) throw IoError(file, "__metadata__ is not a JSON object");
            for (const auto& [k, v] : entry.items()) {
                if (!v.is_string())
                    throw IoError(file, "metadata value '" + k + "' is not a string");
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        const auto fail = [&](const std::string& what) {
            return IoError(file, "tensor '" + name + "': " + what);
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
        const DType* type = nullptr;
        for (const auto& d : kDTypes) {
            if (dt.get<std::string>() == d.name) type = &d;
        }
        if (!type) throw fail("unsupported dtype " + dt.get<std::string>());
        std::vector<std::int64_t> sizes;
        std::uint64_t numel = 1;
        constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;
        for (const auto& s : shape) {
            if (!s.is_number_unsigned() || s.get<std::uint64_t>() > kMaxElements) {
                throw fail("bad shape");
            }
            const std::uint64_t d = s.get<std::uint64_t>();
            sizes.push_back(static_cast<std::int64_t>(d));
            // Overflow-checked: a huge shape must not wrap to a small (or zero) count.
            if (d != 0 && numel > kMaxElements / d) throw fail("shape too large");
            numel *= d;
        }
        const auto begin = offs[0].get<std::uint64_t>(), end = offs[1].get<std::uint64_t>();
        const auto elem = static_cast<std::uint64_t>(c10::elementSize(type->type));
        if (begin > end || end > dataSize) {
            throw fail("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       "] outside the " + std::to_string(dataSize) +
                       " data bytes (truncated file?)");
        }
        if (numel > (std::uint64_t{1} << 40) || end - begin != numel * elem) {
            throw fail("byte size does not match dtype and shape");
        }
        if (numel * elem > dataSize) throw fail("larger than the file's data");
        checked.push_back({name, type->type, std::move(sizes), begin, end});
    }
    // Only now, with every entry checked, are the bytes read and the tensors allocated.
    for (const auto& c : checked) {
        auto t = torch::empty(c.sizes, torch::TensorOptions().dtype(c.type));
        if (c.end > c.begin) std::memcpy(t.data_ptr(), data() + c.begin, c.end - c.begin);
        order.emplace_back(c.begin, c.name);
        byName[c.name] = t;
    }
    std::sort(order.begin(), order.end());
    for (const auto& [begin, name] : order) out.tensors.emplace_back(name, byName[name]);
    return out;
}

void collectState(const torch::nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out) {
    for (const auto& p : module.named_parameters(true))
        out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : module.named_buffers(true)) out.emplace_back(prefix + b.key(), b.value());
}

void applyState(torch::nn::Module& module, const std::string& prefix, const SafeTensors& content,
                const std::filesystem::path& file) {
    std::unordered_map<std::string, const torch::Tensor*> byName;
    for (const auto& [name, t] : content.tensors) byName[name] = &t;
    std::vector<std::pair<std::string, torch::Tensor>> targets;
    collectState(module, prefix, targets);
    torch::NoGradGuard guard;
    for (auto& [name, target] : targets) {
        auto it = byName.find(name);
        if (it == byName.end()) throw IoError(file, "missing tensor '" + name + "'");
        const auto& src = *it->second;
        if (src.sizes() != target.sizes()) {
            std::ostringstream os;
            os << "tensor '" << name << "' has shape " << src.sizes() << ", the network expects "
               << target.sizes();
            throw IoError(file, os.str());
        }
        target.copy_(src.to(target.scalar_type()));
    }
}

}  // namespace lidistill::ml
