// SPDX-License-Identifier: MIT
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/PointCloud.h"
#include "core/base/Progress.h"
#include "core/base/Strings.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace lidistill;

TEST(Strings, NaturalOrderSortsNumbersByValue) {
    std::vector<std::string> v{"frame10.bin", "frame2.bin", "frame1.bin", "frame002.bin", "a"};
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return naturalLess(a, b); });
    EXPECT_EQ(v, (std::vector<std::string>{"a", "frame1.bin", "frame002.bin", "frame2.bin",
                                           "frame10.bin"}));
    EXPECT_FALSE(naturalLess("x", "x"));
}

TEST(PointCloud, FilterKeepsFieldsAligned) {
    PointCloud c;
    c.xyz = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}};
    c.intensity = {0.f, 0.5f, 1.f};
    c.label = {10, 20, 30};
    c.filter({true, false, true});
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.label, (std::vector<std::uint32_t>{10, 30}));
    EXPECT_FLOAT_EQ(c.intensity[1], 1.f);
    EXPECT_FLOAT_EQ(c.xyz[1][0], 2.f);
    EXPECT_THROW(c.filter({true}), InvalidArgument);
}

TEST(PointCloud, AppendDropsFieldsMissingOnOneSide) {
    PointCloud a, b;
    a.xyz = {{0, 0, 0}};
    a.intensity = {1.f};
    a.label = {7};
    b.xyz = {{1, 0, 0}};
    b.label = {8};
    a.append(b);
    EXPECT_EQ(a.size(), 2u);
    EXPECT_TRUE(a.intensity.empty());
    EXPECT_EQ(a.label, (std::vector<std::uint32_t>{7, 8}));
    EXPECT_NO_THROW(a.validate());
}

TEST(PointCloud, TransformAppliesRotationAndTranslation) {
    PointCloud c;
    c.xyz = {{1, 0, 0}};
    Eigen::Matrix4d t = Eigen::Matrix4d::Identity();
    t.block<3, 3>(0, 0) << 0, -1, 0, 1, 0, 0, 0, 0, 1;  // 90 degrees about z
    t(0, 3) = 10;
    transformInPlace(c, t);
    EXPECT_NEAR(c.xyz[0][0], 10.f, 1e-6);
    EXPECT_NEAR(c.xyz[0][1], 1.f, 1e-6);
}

TEST(AtomicFile, FailedWriteLeavesOldFileAndNoTemporary) {
    const fs::path dir = fs::temp_directory_path() / "lidistill_atomic_test";
    fs::remove_all(dir);
    const fs::path target = dir / "out.txt";
    writeStreamAtomically(target, [](std::ostream& o) { o << "old"; });
    EXPECT_THROW(writeStreamAtomically(target,
                                       [](std::ostream& o) {
                                           o << "half";
                                           throw IoError("x", "simulated failure");
                                       }),
                 IoError);
    std::ifstream in(target);
    std::string s;
    in >> s;
    EXPECT_EQ(s, "old");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
    fs::remove_all(dir);
}

// A target that is a folder cannot be replaced: the error says why (rename's reason, not the
// outcome of removing the temporary) and no temporary is left behind.
TEST(AtomicFile, TargetThatIsAFolderGivesRenameReason) {
    const fs::path dir = fs::temp_directory_path() / "lidistill_atomic_folder_test";
    fs::remove_all(dir);
    fs::create_directories(dir / "taken" / "inside");
    try {
        writeStreamAtomically(dir / "taken", [](std::ostream& o) { o << "data"; });
        ADD_FAILURE() << "no exception";
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), dir / "taken");
        const std::string expected = std::make_error_code(std::errc::is_a_directory).message();
        EXPECT_NE(e.problem().find(expected), std::string::npos) << e.problem();
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
    fs::remove_all(dir);
}

namespace {
struct StopAfter : ProgressSink {
    int calls = 0;
    double last = -1;
    void report(double f, std::string_view) override {
        ++calls;
        last = f;
    }
    bool cancelled() const override { return calls >= 2; }
};
}  // namespace

TEST(Progress, SubProgressMapsRangeAndCheckpointCancels) {
    StopAfter sink;
    SubProgress sub(&sink, 0.5, 1.0);
    checkpoint(&sub, 0.5, "x");
    EXPECT_DOUBLE_EQ(sink.last, 0.75);
    checkpoint(&sub, 1.0, "x");
    EXPECT_THROW(checkpoint(&sub, 1.0, "x"), Cancelled);
    EXPECT_NO_THROW(checkpoint(nullptr, 0.3, "x"));
}
