#pragma once
// SPDX-License-Identifier: MIT
// Helpers for the metric tests: KITTI .bin reading/writing and running the Python reference.

#include "core/base/PointCloud.h"
#include "core/io/ScanIo.h"
#include "tests/support/TestData.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace lidistill::test {

/// float32 x,y,z,remission records; positions only.
/// Positions of a KITTI .bin, through the project's reader (the Python references read the
/// same files with numpy).
inline std::vector<Vec3f> readBinXyz(const std::filesystem::path& file) {
    return io::readKittiBin(file).xyz;
}

inline void writeBinXyz(const std::filesystem::path& file, const std::vector<Vec3f>& pts) {
    PointCloud cloud;
    cloud.xyz = pts;
    io::writeKittiBin(file, cloud);  // intensity written as 0, as the old test writer did
}

inline std::vector<double> readF64(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::vector<double> v(std::filesystem::exists(file) ? std::filesystem::file_size(file) / 8 : 0);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 8));
    return v;
}

/// Debian's interpreter carries python3-open3d / python3-scipy; a pyenv or venv python3 that
/// comes first on PATH usually does not. LIDISTILL_PYTHON overrides.
inline std::string pythonExecutable() {
    if (const char* p = std::getenv("LIDISTILL_PYTHON"); p && *p) {
        return p;
    }
    if (std::filesystem::exists("/usr/bin/python3")) {
        return "/usr/bin/python3";
    }
    return "python3";
}

/// Output of the reference script: every "key v1 v2 ..." line.
using ReferenceValues = std::map<std::string, std::vector<std::string>>;

inline ReferenceValues parseReference(const std::string& out) {
    ReferenceValues values;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        std::string v;
        while (ls >> v) {
            values[key].push_back(v);
        }
    }
    return values;
}

inline std::string readText(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// FNV-1a over bytes, chainable; a cache key, not a security hash.
inline std::uint64_t fnv1a(const void* data, std::size_t n,
                           std::uint64_t h = 1469598103934665603ull) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}
inline std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
    return fnv1a(s.data(), s.size(), h);
}
inline std::uint64_t fnv1a(const std::vector<Vec3f>& v, std::uint64_t h) {
    return fnv1a(v.data(), v.size() * sizeof(Vec3f), h);
}

/// metrics_reference.py beside this header. __FILE__ is absolute under CMake, so this works
/// even when LIDISTILL_SOURCE_DIR does not reach the test's environment.
inline std::filesystem::path referenceScript() {
    const auto fromEnv = sourceDir() / "tests" / "core" / "metrics" / "metrics_reference.py";
    if (std::filesystem::exists(fromEnv)) {
        return fromEnv;
    }
    return std::filesystem::path(__FILE__).parent_path() / "metrics_reference.py";
}

/// Runs tests/core/metrics/metrics_reference.py with `args`. On failure (Python or one of its
/// modules missing, script error) returns nothing and sets `error` to a message quoting the
/// script's stderr; callers fail the test with it (never skip).
/// `raw`, if given, receives the script's standard output.
inline ReferenceValues runReference(const std::string& args, std::string& error,
                                    std::string* raw = nullptr) {
    const auto script = referenceScript();
    const auto errFile = std::filesystem::temp_directory_path() /
                         ("lidistill_metrics_ref_" + std::to_string(::getpid()) + ".err");
    const std::string cmd = "'" + pythonExecutable() + "' '" + script.string() + "' " + args +
                            " 2>'" + errFile.string() + "'";
    ReferenceValues values;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) {
        error = "cannot start " + cmd;
        return values;
    }
    std::string out;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) {
        out += buf;
    }
    const int status = ::pclose(pipe);
    std::ifstream errIn(errFile);
    const std::string err((std::istreambuf_iterator<char>(errIn)),
                          std::istreambuf_iterator<char>());
    std::filesystem::remove(errFile);
    if (status != 0) {
        error = "The Python reference failed (status " + std::to_string(status) + "): " + cmd +
                "\n" + err +
                "\nIt needs python3 with numpy, scipy and open3d (Debian: python3-numpy "
                "python3-scipy python3-open3d); set LIDISTILL_PYTHON to choose the interpreter.";
        return values;
    }
    if (raw) {
        *raw = out;
    }
    return parseReference(out);
}

/// The i-th value of a key as double; fails the test if absent.
inline double refValue(const ReferenceValues& r, const std::string& key, std::size_t i = 0) {
    const auto it = r.find(key);
    if (it == r.end() || it->second.size() <= i) {
        ADD_FAILURE() << "reference output lacks " << key;
        return -1e300;
    }
    return std::stod(it->second[i]);
}

}  // namespace lidistill::test

/// |a - b| <= rel * max(|b|, tiny): the tolerance of the reference comparisons.
#define EXPECT_REL_NEAR(a, b, rel)                                     \
    EXPECT_LE(std::abs((a) - (b)), (rel)*std::max(std::abs(b), 1e-12)) \
        << #a " = " << (a) << ", reference " #b " = " << (b)
