#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml: the safetensors format (huggingface/safetensors), written and
// read by our own code: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "string value"}}, then the raw little-endian tensor bytes.

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lidistill::ml {

struct SafeTensors {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;  ///< in file order
    std::map<std::string, std::string> metadata;
};

/// Writes tensors (any device; copied to CPU, made contiguous) and string metadata, atomically
/// (temp file + rename). Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
/// @throws IoError naming the file if it cannot be written; InvalidArgument on duplicate names
///         or an unsupported dtype.
void saveSafeTensors(const std::filesystem::path& file, const SafeTensors& content);

/// Reads a file: the header first, checked whole (SafeTensorsHeader.h: dtypes, overflow-checked
/// shapes, offsets inside the data, no overlaps, bounded metadata) before any tensor is
/// allocated; then each tensor's bytes only. @throws IoError naming the file and the tensor at
/// fault for a missing, truncated or corrupt file.
SafeTensors loadSafeTensors(const std::filesystem::path& file);

/// Appends `prefix + name` for every parameter and buffer of `module` (state-dict order).
void collectState(const torch::nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out);

/// Which dtype differences applyState converts instead of refusing.
enum class DTypeConversion {
    None,      ///< the file's dtype must be the parameter's
    Floating,  ///< floating point to floating point (a half-precision checkpoint); no other
};

/// Copies `prefix + name` tensors of `content` into the parameters and buffers of `module`.
/// Strict: every parameter/buffer must be present with the same shape, and the same dtype
/// unless `conversion` allows the difference.
/// @throws IoError naming `file` and the missing, mis-shaped or mis-typed key.
void applyState(torch::nn::Module& module, const std::string& prefix, const SafeTensors& content,
                const std::filesystem::path& file,
                DTypeConversion conversion = DTypeConversion::None);

}  // namespace lidistill::ml
