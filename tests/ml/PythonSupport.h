#pragma once
// SPDX-License-Identifier: MIT
// The ML tests' Python side (tests/ml/ml_test_helper.py, resources/tools/): which python has
// torch, where the sources are, and running a command.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace lidistill::ml::pytest {

/// The python with torch and numpy (LIDISTILL_TORCH_PYTHON, else the one CMake found), or ""
/// where there is none: tests skip, not fail.
inline std::string python() {
    const char* p = std::getenv("LIDISTILL_TORCH_PYTHON");
    std::string exe = p && *p ? p : LIDISTILL_ML_TEST_PYTHON;
    if (exe.empty()) return exe;
    return std::system((exe + " -c 'import torch, numpy' > /dev/null 2>&1").c_str()) == 0 ? exe
                                                                                          : "";
}

inline std::filesystem::path sourceDir() {
    const char* s = std::getenv("LIDISTILL_SOURCE_DIR");
    return s && *s ? std::filesystem::path(s) : std::filesystem::path(LIDISTILL_ML_TEST_SOURCE_DIR);
}

/// Runs `cmd` (stderr with stdout) and returns its output; a failure fails the test unless
/// `mayFail`, and `rc` gets the exit status.
inline std::string runCommand(const std::string& cmd, bool mayFail = false, int* rc = nullptr) {
    std::string out;
    FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
    if (!pipe) return out;
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), buf.size(), pipe)) out += buf.data();
    const int status = pclose(pipe);
    if (rc) *rc = status;
    if (status != 0 && !mayFail) ADD_FAILURE() << cmd << " failed:\n" << out;
    return out;
}

}  // namespace lidistill::ml::pytest
