#pragma once
// SPDX-License-Identifier: MIT

#include <iosfwd>

namespace lidistill::cli {

/// Exit codes of every `lidistill` command.
enum ExitCode : int { kOk = 0, kFailure = 1, kUsage = 2 };

/// Runs `lidistill <command> [options]`. Writes results to `out`, progress, warnings and
/// errors to `err`. Never throws: every exception becomes a message on `err` and exit code 1
/// (2 for usage errors). Thread-compatible (one call at a time per process, as it sets the
/// log sink).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
/// Same, on std::cout / std::cerr.
int run(int argc, char** argv);

}  // namespace lidistill::cli
