#pragma once
// SPDX-License-Identifier: MIT

#include <filesystem>
#include <functional>
#include <ostream>

namespace lidistill {

/// Writes `target` so that it is either the complete new file or untouched: `writer` fills a
/// temporary file in the same folder, which is renamed over `target` only if the writer
/// returns normally. On any exception the temporary is removed and the exception rethrown
/// (an IoError naming `target` if the failure was in the file system).
/// Creates missing parent folders. Thread-safe for distinct targets.
void writeViaTemp(const std::filesystem::path& target,
                  const std::function<void(const std::filesystem::path& tmp)>& writer);

/// Same, for writers that stream bytes: the stream is binary and checked after the writer.
void writeStreamAtomically(const std::filesystem::path& target,
                           const std::function<void(std::ostream& out)>& writer);

}  // namespace lidistill
