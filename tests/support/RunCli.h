#pragma once
// SPDX-License-Identifier: MIT
// Runs `lidistill WORDS...` in-process, as a user would type it, capturing both streams.

#include "core/cli/Cli.h"

#include <sstream>
#include <string>
#include <vector>

namespace lidistill::test {

struct CliResult {
    int code;         ///< the exit code: 0 ok, 1 failure, 2 usage
    std::string out;  ///< what went to stdout
    std::string err;  ///< progress and diagnostics
};

inline CliResult runCli(const std::vector<std::string>& words) {
    std::vector<const char*> argv{"lidistill"};
    for (const auto& w : words) argv.push_back(w.c_str());
    std::ostringstream out, err;
    const int code = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
}

}  // namespace lidistill::test
