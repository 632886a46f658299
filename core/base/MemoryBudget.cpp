// SPDX-License-Identifier: MIT
#include "core/base/MemoryBudget.h"

#include "core/base/Error.h"

#include <cctype>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace lidistill {

namespace {

std::string human(std::uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        ++u;
    }
    std::string s = u == 0 ? std::to_string(bytes) : std::to_string(v);
    if (u > 0) s = s.substr(0, s.find('.') + 2);
    return s + " " + units[u];
}

std::uint64_t fromEnvironment() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    // Half the machine: a file may take much, never all (the tool and the desktop live too).
    std::uint64_t budget = pages > 0 && page > 0
                               ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2
                               : std::uint64_t{4} << 30;
    const char* env = std::getenv("LIDISTILL_MEMORY_BUDGET");
    if (env && std::isdigit(static_cast<unsigned char>(*env))) {  // strtoull takes "-3" too
        char* end = nullptr;
        const unsigned long long v = std::strtoull(env, &end, 10);
        int shift = 0;
        switch (std::toupper(static_cast<unsigned char>(*end))) {
            case 'K': shift = 10; break;
            case 'M': shift = 20; break;
            case 'G': shift = 30; break;
            case 'T': shift = 40; break;
            default: break;
        }
        if (end != env && (shift == 0 ? *end == '\0' : end[1] == '\0') && v > 0 &&
            v <= (UINT64_MAX >> shift)) {
            budget = static_cast<std::uint64_t>(v) << shift;
        }
    }
    return budget;
}

}  // namespace

std::uint64_t memoryBudget() {
    // Read each time (cheap next to reading a file), so a test or a caller may change it.
    return fromEnvironment();
}

void checkMemoryBudget(const std::filesystem::path& file, std::uint64_t bytes,
                       std::string_view what) {
    if (bytes <= memoryBudget()) return;
    throw IoError(file, std::string(what) + " would need " + human(bytes) +
                            ", more than the memory budget of " + human(memoryBudget()) +
                            " (corrupt file, or raise LIDISTILL_MEMORY_BUDGET)");
}

}  // namespace lidistill
