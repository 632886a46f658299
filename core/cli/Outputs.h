#pragma once
// SPDX-License-Identifier: MIT
//
// The rules every command that writes files follows: an input is never overwritten (not even
// with --force: a completion written over the scans it completes destroys the dataset), and an
// existing output is replaced only with --force, so that a mistyped path costs nothing.

#include <filesystem>
#include <vector>

namespace lidistill::cli {

/// Whether two paths name the same file (the same inode when both exist; else the same
/// normalised absolute path).
bool samePath(const std::filesystem::path& a, const std::filesystem::path& b);

/// @throws UsageError if `out` is one of `inputs`, or if it exists and !force (naming the file
///         and --force).
void checkOutputFile(const std::filesystem::path& out,
                     const std::vector<std::filesystem::path>& inputs, bool force);

}  // namespace lidistill::cli
