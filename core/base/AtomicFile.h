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
/// Durable::yes also survives a power cut or a kernel crash, not only a killed process: the
/// temporary is fsync'ed before the rename and the folder after it (checkpoints need this;
/// ordinary outputs do not pay for it).
enum class Durable { no, yes };
void writeViaTemp(const std::filesystem::path& target,
                  const std::function<void(const std::filesystem::path& tmp)>& writer,
                  Durable durable = Durable::no);

/// Same, for writers that stream bytes: the stream is binary and checked after the writer.
void writeStreamAtomically(const std::filesystem::path& target,
                           const std::function<void(std::ostream& out)>& writer,
                           Durable durable = Durable::no);

/// Removes the temporaries that writes killed mid-way left in `dir` (NAME.tmpPID_N whose
/// process PID no longer runs); returns how many. Never throws; a missing folder is empty.
std::size_t removeStaleTemporaries(const std::filesystem::path& dir);

}  // namespace lidistill
