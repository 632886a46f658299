#pragma once
// SPDX-License-Identifier: MIT
// Where tests find data: the real scans in ../shared/data (CI has it beside the checkout),
// the bundled samples in datasets/, and a scratch folder per test binary.

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

/// Skips the current test in a build without PCL (LIDISTILL_WITH_PCL=0, a GPU-server build),
/// which refuses to read PCD/PLY data; every such refusal is itself tested (CloudFileTest).
#define LIDISTILL_REQUIRE_PCL() \
    if (!LIDISTILL_WITH_PCL) GTEST_SKIP() << "built without PCL: PCD/PLY data are refused"

namespace lidistill::test {

inline std::filesystem::path envPath(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::filesystem::path(v && *v ? v : fallback);
}

/// ../shared/data, as configured at build time (LIDISTILL_SHARED_DATA).
inline std::filesystem::path sharedData() {
    return envPath("LIDISTILL_SHARED_DATA", "../shared/data");
}
/// The real SemanticKITTI sequence 00 (10 frames).
inline std::filesystem::path semanticKittiSeq00() {
    return sharedData() / "semantickitti-mini" / "sequences" / "00";
}
inline std::filesystem::path sourceDir() {
    return envPath("LIDISTILL_SOURCE_DIR", ".");
}
inline std::filesystem::path binaryDir() {
    return envPath("LIDISTILL_BINARY_DIR", ".");
}

/// A fresh, empty scratch folder for the current test, under the system temp folder.
inline std::filesystem::path scratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "scratch";
    for (auto& c : name) {
        if (c == '/') c = '_';
    }
    const auto dir = std::filesystem::temp_directory_path() / "lidistill_tests" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

/// Skips the current test (with a reason) when the shared real data is missing.
#define LIDISTILL_REQUIRE_SHARED_DATA()                                                     \
    do {                                                                                    \
        if (!std::filesystem::exists(::lidistill::test::semanticKittiSeq00())) {            \
            GTEST_SKIP() << "shared data not found at " << ::lidistill::test::sharedData(); \
        }                                                                                   \
    } while (0)

}  // namespace lidistill::test
