// SPDX-License-Identifier: MIT
#include "core/base/AtomicFile.h"

#include "core/base/Error.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <regex>
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
// fsync of a file or a folder (a rename is only durable once its folder is synced).
void syncPath(const fs::path& path, const fs::path& target, bool folder) {
    const int fd = ::open(path.c_str(), (folder ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(target, "cannot open " + path.string() + " to sync it to disk");
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0 && !folder) {  // some file systems refuse fsync on folders; data is what counts
        throw IoError(target, "cannot sync to disk (disk full or I/O error)");
    }
}
}  // namespace

std::size_t removeStaleTemporaries(const fs::path& dir) {
    static const std::regex temp(R"(.+\.tmp(\d+)_\d+)");
    std::error_code ec;
    std::size_t removed = 0;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::smatch m;
        const std::string name = it->path().filename().string();
        if (!std::regex_match(name, m, temp)) continue;
        const long pid = std::stol(m[1].str());
        // Ours (a write in progress in another thread) or another live process's: keep.
        if (pid == ::getpid()) continue;
        if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
        std::error_code rm;
        if (fs::remove(it->path(), rm)) ++removed;
    }
    return removed;
}

void writeViaTemp(const fs::path& target, const std::function<void(const fs::path& tmp)>& writer,
                  Durable durable) {
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
        if (durable == Durable::yes) syncPath(tmp, target, false);
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
    if (durable == Durable::yes) {
        syncPath(target.has_parent_path() ? target.parent_path() : fs::path("."), target, true);
    }
}

void writeStreamAtomically(const fs::path& target,
                           const std::function<void(std::ostream& out)>& writer, Durable durable) {
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
    }, durable);
}

}  // namespace lidistill
