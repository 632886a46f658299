// SPDX-License-Identifier: MIT
#include "core/base/AtomicFile.h"

#include "core/base/Error.h"

#include <atomic>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace lidistill {
namespace fs = std::filesystem;

namespace {
fs::path tempSibling(const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    // pid + counter: unique across threads and concurrent processes writing the same folder.
    return target.parent_path() / (target.filename().string() + ".tmp" +
                                   std::to_string(::getpid()) + "_" + std::to_string(counter++));
}
}  // namespace

void writeViaTemp(const fs::path& target, const std::function<void(const fs::path& tmp)>& writer) {
    std::error_code ec;
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path(), ec);
        if (ec) {
            throw IoError(target, "cannot create folder " + target.parent_path().string() + ": " +
                                      ec.message());
        }
    }
    const fs::path tmp = tempSibling(target);
    try {
        writer(tmp);
    } catch (...) {
        fs::remove(tmp, ec);
        throw;
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        const std::string why = ec.message();  // before remove() overwrites ec
        fs::remove(tmp, ec);
        throw IoError(target, "cannot move the written temporary file into place: " + why);
    }
}

void writeStreamAtomically(const fs::path& target,
                           const std::function<void(std::ostream& out)>& writer) {
    writeViaTemp(target, [&](const fs::path& tmp) {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw IoError(target, "cannot open a temporary file for writing in its folder");
        }
        writer(out);
        out.flush();
        if (!out) {
            throw IoError(target, "write failed (disk full or I/O error)");
        }
    });
}

}  // namespace lidistill
