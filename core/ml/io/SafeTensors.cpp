// SPDX-License-Identifier: MIT
#include "core/ml/io/SafeTensors.h"

#include "core/ml/io/SafeTensorsHeader.h"

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
    // Header first (bounded, every entry checked against the file's size), then each tensor
    // read straight into its own storage: the data section is never held whole, so a file
    // is never read past what its checked header names.
    const SafeTensorsHeader header = readSafeTensorsHeader(file);
    SafeTensors out;
    out.metadata = header.metadata;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw IoError(file, "cannot open for reading");
    for (const auto& e : header.entries) {
        const DType* type = nullptr;
        for (const auto& d : kDTypes) {
            if (e.dtype == d.name) type = &d;
        }
        if (!type) throw IoError(file, "tensor '" + e.name + "': unsupported dtype " + e.dtype);
        auto t = torch::empty(e.shape, torch::TensorOptions().dtype(type->type));
        if (e.end > e.begin) {
            in.seekg(static_cast<std::streamoff>(header.dataOffset + e.begin));
            if (!in.read(static_cast<char*>(t.data_ptr()),
                         static_cast<std::streamsize>(e.end - e.begin))) {
                throw IoError(file, "tensor '" + e.name + "': read failed (file changed?)");
            }
        }
        out.tensors.emplace_back(e.name, std::move(t));
    }
    return out;
}

void collectState(const torch::nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out) {
    for (const auto& p : module.named_parameters(true))
        out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : module.named_buffers(true)) out.emplace_back(prefix + b.key(), b.value());
}

void applyState(torch::nn::Module& module, const std::string& prefix, const SafeTensors& content,
                const std::filesystem::path& file, DTypeConversion conversion) {
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
        if (src.scalar_type() != target.scalar_type()) {
            const bool floating = src.is_floating_point() && target.is_floating_point();
            if (conversion == DTypeConversion::None ||
                (conversion == DTypeConversion::Floating && !floating)) {
                throw IoError(file, "tensor '" + name + "' is " + dtypeName(src.scalar_type()) +
                                        ", the network expects " +
                                        dtypeName(target.scalar_type()));
            }
        }
        target.copy_(src.to(target.scalar_type()));
    }
}

}  // namespace lidistill::ml
