// SPDX-License-Identifier: MIT
#include "core/cli/Outputs.h"

#include "core/cli/Args.h"

namespace lidistill::cli {
namespace fs = std::filesystem;

bool samePath(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) {
        const bool same = fs::equivalent(a, b, ec);
        if (!ec) return same;
    }
    const auto ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
    const auto cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
    return ca.lexically_normal() == cb.lexically_normal();
}

void checkOutputFile(const fs::path& out, const std::vector<fs::path>& inputs, bool force) {
    for (const auto& in : inputs) {
        if (samePath(out, in)) {
            throw UsageError("the output " + out.string() + " is an input (" + in.string() +
                             "): it would be overwritten; write somewhere else");
        }
    }
    std::error_code ec;
    if (!force && fs::exists(out, ec)) {
        throw UsageError(out.string() + " exists: pass --force to replace it");
    }
}

}  // namespace lidistill::cli
