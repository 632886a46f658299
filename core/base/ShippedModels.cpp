// SPDX-License-Identifier: MIT
#include "core/base/ShippedModels.h"

#include <cstdlib>
#include <system_error>
#include <vector>

namespace lidistill {
namespace fs = std::filesystem;

fs::path shippedModel(const std::string& name) {
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("LIDISTILL_MODELS_DIR"); env && *env) dirs.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "lidistill" / "models");
#ifdef LIDISTILL_SOURCE_MODELS_DIR
    dirs.emplace_back(LIDISTILL_SOURCE_MODELS_DIR);
#endif
    for (const auto& d : dirs) {
        const fs::path f = d / name;
        if (fs::is_regular_file(f, ec)) return f;
    }
    return {};
}

}  // namespace lidistill
