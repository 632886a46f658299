#pragma once
// SPDX-License-Identifier: MIT
// Helpers shared by the io and dataset tests: raw file access that does not go through the
// code under test, log capture, a simulated disk-full, and an exact nearest-neighbour search.

#include "core/base/Error.h"
#include "core/base/Log.h"
#include "core/base/PointCloud.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <unordered_map>
#include <vector>

namespace lidistill::test {

/// Expects `f` to throw exactly an IoError whose message names `file` and contains `fault`.
template <typename F>
void expectIoError(F&& f, const std::filesystem::path& file, const std::string& fault) {
    try {
        f();
        ADD_FAILURE() << "no exception; expected IoError about " << fault;
    } catch (const IoError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find(fault), std::string::npos) << msg;
        EXPECT_EQ(e.file(), file);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
    }
}

inline void writeBytes(const std::filesystem::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename T>
std::string asBytes(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// The file as plain values of type T (host order; the test machine is little-endian).
template <typename T>
std::vector<T> rawValues(const std::filesystem::path& file) {
    const std::string b = slurp(file);
    std::vector<T> v(b.size() / sizeof(T));
    std::copy(b.data(), b.data() + v.size() * sizeof(T), reinterpret_cast<char*>(v.data()));
    return v;
}

/// File names in a folder, sorted.
inline std::vector<std::string> listNames(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// Collects log messages while alive; restores the default sink afterwards.
class LogCapture {
public:
    LogCapture() {
        log::setSink([this](log::Level lvl, std::string_view msg) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_messages.emplace_back(lvl, std::string(msg));
        });
    }
    ~LogCapture() { log::setSink({}); }
    std::vector<std::string> warnings() const {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<std::string> out;
        for (const auto& [lvl, msg] : m_messages) {
            if (lvl == log::Level::Warning) out.push_back(msg);
        }
        return out;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::pair<log::Level, std::string>> m_messages;
};

/// Simulates a full disk: while alive, writes that grow a file past `bytes` fail with EFBIG
/// (works for root too, unlike read-only folders).
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &m_old);
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lim = m_old;
        lim.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &lim);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldHandler);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit m_old{};
    void (*m_oldHandler)(int) = nullptr;
};

/// Exact nearest-neighbour distances from each query point to `ref`, capped at `cap` metres
/// (a uniform grid of cell `cap`: the 27 cells around a query hold every point within `cap`).
class GridNN {
public:
    GridNN(const std::vector<Vec3f>& ref, double cap) : m_ref(ref), m_cap(cap) {
        for (std::size_t i = 0; i < ref.size(); ++i) {
            m_cells[key(cell(ref[i][0]), cell(ref[i][1]), cell(ref[i][2]))].push_back(i);
        }
    }
    double distance(const Vec3f& q) const {
        double best = m_cap * m_cap;
        const long cx = cell(q[0]), cy = cell(q[1]), cz = cell(q[2]);
        for (long dx = -1; dx <= 1; ++dx)
            for (long dy = -1; dy <= 1; ++dy)
                for (long dz = -1; dz <= 1; ++dz) {
                    const auto it = m_cells.find(key(cx + dx, cy + dy, cz + dz));
                    if (it == m_cells.end()) continue;
                    for (std::size_t i : it->second) {
                        const double ex = m_ref[i][0] - q[0], ey = m_ref[i][1] - q[1],
                                     ez = m_ref[i][2] - q[2];
                        best = std::min(best, ex * ex + ey * ey + ez * ez);
                    }
                }
        return std::sqrt(best);
    }

private:
    long cell(float v) const { return static_cast<long>(std::floor(v / m_cap)); }
    static std::uint64_t key(long x, long y, long z) {
        return (static_cast<std::uint64_t>(x & 0x1FFFFF) << 42) |
               (static_cast<std::uint64_t>(y & 0x1FFFFF) << 21) |
               static_cast<std::uint64_t>(z & 0x1FFFFF);
    }
    const std::vector<Vec3f>& m_ref;
    double m_cap;
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> m_cells;
};

inline double median(std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace lidistill::test
