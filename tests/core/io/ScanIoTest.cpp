// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/io/ScanIo.h"
#include "tests/core/io/IoTestUtil.h"
#include "tests/support/TestData.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <set>

namespace lidistill::test {
namespace {
namespace fs = std::filesystem;
using io::readKittiBin;
using io::readKittiScan;
using io::readLabelFile;

// ---- real data --------------------------------------------------------------------------

TEST(ScanIoReal, SemanticKittiScanMatchesRawFloats) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path bin = semanticKittiSeq00() / "velodyne" / "000000.bin";
    const PointCloud c = readKittiBin(bin);
    const auto raw = rawValues<float>(bin);
    ASSERT_EQ(c.size(), raw.size() / 4);
    EXPECT_EQ(c.size(), fs::file_size(bin) / 16);
    EXPECT_GT(c.size(), 120000u);
    EXPECT_LT(c.size(), 130000u);
    ASSERT_TRUE(c.hasIntensity());
    EXPECT_FALSE(c.hasLabels());
    for (std::size_t i : {std::size_t{0}, c.size() / 2, c.size() - 1}) {
        EXPECT_EQ(c.xyz[i][0], raw[4 * i]);
        EXPECT_EQ(c.xyz[i][1], raw[4 * i + 1]);
        EXPECT_EQ(c.xyz[i][2], raw[4 * i + 2]);
        EXPECT_EQ(c.intensity[i], raw[4 * i + 3]);
    }
    for (float r : c.intensity) {
        ASSERT_GE(r, 0.0f);
        ASSERT_LE(r, 1.0f);  // KITTI remission is normalised
    }
}

TEST(ScanIoReal, LabelsAlignedWithGeometry) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const PointCloud c =
        readKittiScan(dir / "velodyne" / "000000.bin", dir / "labels" / "000000.label");
    ASSERT_EQ(c.label.size(), c.size());
    EXPECT_EQ(c.label, rawValues<std::uint32_t>(dir / "labels" / "000000.label"));

    // Alignment: road points (class 40) lie on the ground, about 1.73 m below the sensor,
    // while all points together spread far more. A shifted label array would mix them.
    std::vector<double> roadZ, allZ;
    for (std::size_t i = 0; i < c.size(); ++i) {
        allZ.push_back(c.xyz[i][2]);
        if (semanticClass(c.label[i]) == 40) roadZ.push_back(c.xyz[i][2]);
    }
    ASSERT_GT(roadZ.size(), 10000u);
    const double roadMedian = median(roadZ);
    EXPECT_NEAR(roadMedian, -1.73, 0.15);
    double off = 0;
    for (double z : roadZ) off += std::abs(z - roadMedian) > 0.3 ? 1 : 0;
    EXPECT_LT(off / static_cast<double>(roadZ.size()), 0.10);
    double allOff = 0;
    for (double z : allZ) allOff += std::abs(z - roadMedian) > 0.3 ? 1 : 0;
    EXPECT_GT(allOff / static_cast<double>(allZ.size()), 0.3);
    // The same statistic with labels misaligned by a few thousand points (about one laser
    // ring) is clearly worse, so the check above does detect an off-by-N reader.
    const std::size_t shift = 3000;
    double shiftedOff = 0, shiftedRoad = 0;
    for (std::size_t i = 0; i + shift < c.size(); ++i) {
        if (semanticClass(c.label[i + shift]) != 40) continue;
        ++shiftedRoad;
        shiftedOff += std::abs(c.xyz[i][2] - roadMedian) > 0.3 ? 1 : 0;
    }
    EXPECT_GT(shiftedOff / shiftedRoad, 2 * off / static_cast<double>(roadZ.size()));
}

TEST(ScanIoReal, SemanticInstanceSplit) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const auto labels = readLabelFile(dir / "labels" / "000000.label");
    // SemanticKITTI "thing" classes carry instances; "stuff" classes never do.
    const std::set<int> things = {10, 11,  13,  15,  16,  18,  20,  30,  31,
                                  32, 252, 253, 254, 255, 256, 257, 258, 259};
    std::size_t withInstance = 0;
    std::set<std::uint16_t> carInstances;
    for (std::uint32_t l : labels) {
        EXPECT_EQ(static_cast<std::uint32_t>(semanticClass(l)) |
                      (static_cast<std::uint32_t>(instanceId(l)) << 16),
                  l);
        if (instanceId(l) != 0) {
            ++withInstance;
            ASSERT_TRUE(things.count(semanticClass(l)))
                << "stuff class " << semanticClass(l) << " with instance " << instanceId(l);
        }
        if (semanticClass(l) == 10) carInstances.insert(instanceId(l));
    }
    EXPECT_GT(withInstance, 1000u);
    EXPECT_GE(carInstances.size(), 3u);  // several parked cars in frame 0
}

TEST(ScanIoReal, NuscenesSweep) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = sharedData() / "nuscenes-sweep";
    ASSERT_TRUE(fs::exists(dir));
    const fs::path file = fs::directory_iterator(dir)->path();
    const PointCloud stored = io::readNuscenesBin(file);
    const auto raw = rawValues<float>(file);
    ASSERT_EQ(stored.size(), 34688u);
    ASSERT_EQ(raw.size(), 34688u * 5);
    ASSERT_TRUE(stored.hasRing());
    ASSERT_TRUE(stored.hasIntensity());
    std::set<std::uint16_t> rings(stored.ring.begin(), stored.ring.end());
    EXPECT_EQ(rings.size(), 32u);  // HDL-32E
    EXPECT_EQ(*rings.rbegin(), 31);
    for (std::size_t i : {std::size_t{0}, std::size_t{17000}, stored.size() - 1}) {
        EXPECT_EQ(stored.xyz[i][0], raw[5 * i]);
        EXPECT_EQ(stored.xyz[i][1], raw[5 * i + 1]);
        EXPECT_EQ(stored.xyz[i][2], raw[5 * i + 2]);
        EXPECT_EQ(stored.intensity[i], raw[5 * i + 3]);
        EXPECT_EQ(stored.ring[i], static_cast<std::uint16_t>(raw[5 * i + 4]));
    }
    float maxI = 0;
    for (float v : stored.intensity) maxI = std::max(maxI, v);
    EXPECT_GT(maxI, 1.0f);  // 0-255 scale, unlike KITTI
    EXPECT_LE(maxI, 255.0f);

    const PointCloud kitti = io::readNuscenesBin(file, io::NuscenesAxes::KittiFrame);
    ASSERT_EQ(kitti.size(), stored.size());
    for (std::size_t i = 0; i < kitti.size(); ++i) {
        // -90 deg about z: x' = y, y' = -x.
        ASSERT_EQ(kitti.xyz[i][0], stored.xyz[i][1]);
        ASSERT_EQ(kitti.xyz[i][1], -stored.xyz[i][0]);
        ASSERT_EQ(kitti.xyz[i][2], stored.xyz[i][2]);
    }
    EXPECT_EQ(kitti.ring, stored.ring);
}

TEST(ScanIoReal, KittiObjectFrameIsCroppedToTheCameraView) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path file = sharedData() / "kitti-object" / "000008.bin";
    const PointCloud c = readKittiBin(file);
    ASSERT_EQ(c.size(), 17238u);
    // Cropped to the front camera's view: every point ahead of the sensor (x forward).
    std::size_t ahead = 0;
    for (const auto& p : c.xyz) ahead += p[0] > 0 ? 1 : 0;
    EXPECT_EQ(ahead, c.size());
}

// ---- round trips ------------------------------------------------------------------------

PointCloud smallCloud() {
    PointCloud c;
    c.xyz = {{1.5f, -2.25f, 0.125f}, {1e-7f, 3e4f, -0.0f}, {-7.0f, 8.0f, 9.0f}};
    c.intensity = {0.25f, 1.0f, 0.0f};
    return c;
}

TEST(ScanIoWrite, BinAndLabelRoundTrip) {
    const fs::path dir = scratchDir();
    PointCloud c = smallCloud();
    io::writeKittiBin(dir / "a.bin", c);
    EXPECT_EQ(fs::file_size(dir / "a.bin"), 48u);
    EXPECT_EQ(rawValues<float>(dir / "a.bin"),
              (std::vector<float>{1.5f, -2.25f, 0.125f, 0.25f, 1e-7f, 3e4f, -0.0f, 1.0f, -7.0f,
                                  8.0f, 9.0f, 0.0f}));
    const std::vector<std::uint32_t> labels = {40, (7u << 16) | 10u, 0xFFFFFFFFu};
    io::writeLabelFile(dir / "a.label", labels);
    const PointCloud back = readKittiScan(dir / "a.bin", dir / "a.label");
    EXPECT_EQ(back.xyz, c.xyz);
    EXPECT_EQ(back.intensity, c.intensity);
    EXPECT_EQ(back.label, labels);

    c.intensity.clear();  // written as zeros
    io::writeKittiBin(dir / "b.bin", c);
    EXPECT_EQ(readKittiBin(dir / "b.bin").intensity, (std::vector<float>{0, 0, 0}));
    EXPECT_EQ(listNames(dir), (std::vector<std::string>{"a.bin", "a.label", "b.bin"}));
}

// ---- bad input --------------------------------------------------------------------------

TEST(ScanIoBadInput, BinSizeNotMultipleOf16) {
    const fs::path f = scratchDir() / "odd.bin";
    writeBytes(f, std::string(16 * 3 + 5, '\0'));
    expectIoError([&] { readKittiBin(f); }, f, "not a multiple of 16");
}

TEST(ScanIoBadInput, NuscenesSizeNotMultipleOf20) {
    const fs::path f = scratchDir() / "odd.pcd.bin";
    writeBytes(f, std::string(16 * 5, '\0'));  // a KITTI-sized record count, 80 = 4 x 20 works
    EXPECT_EQ(io::readNuscenesBin(f).size(), 4u);
    writeBytes(f, std::string(16 * 3, '\0'));
    expectIoError([&] { io::readNuscenesBin(f); }, f, "not a multiple of 20");
}

TEST(ScanIoBadInput, LabelCountDiffersFromScan) {
    const fs::path dir = scratchDir();
    io::writeKittiBin(dir / "s.bin", smallCloud());
    io::writeLabelFile(dir / "s.label", {1, 2});
    expectIoError([&] { readKittiScan(dir / "s.bin", dir / "s.label"); }, dir / "s.label",
                  "holds 2 labels but the scan");
}

TEST(ScanIoBadInput, LabelSizeNotMultipleOf4) {
    const fs::path f = scratchDir() / "x.label";
    writeBytes(f, "abcdefg");
    expectIoError([&] { readLabelFile(f); }, f, "not a multiple of 4");
}

TEST(ScanIoBadInput, NonFiniteCoordinatesDroppedWithFieldsAligned) {
    const fs::path dir = scratchDir();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> v = {1, 1,    1, 0.1f, nan, 2,    2, 0.2f, 3, 3,
                                  3, 0.3f, 4, -inf, 4,   0.4f, 5, 5,    5, 0.5f};
    writeBytes(dir / "n.bin", asBytes(v));
    io::writeLabelFile(dir / "n.label", {11, 22, 33, 44, 55});

    LogCapture logs;
    const PointCloud c = readKittiScan(dir / "n.bin", dir / "n.label");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c.xyz, (std::vector<Vec3f>{{1, 1, 1}, {3, 3, 3}, {5, 5, 5}}));
    EXPECT_EQ(c.intensity, (std::vector<float>{0.1f, 0.3f, 0.5f}));
    EXPECT_EQ(c.label, (std::vector<std::uint32_t>{11, 33, 55}));
    const auto w = logs.warnings();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("n.bin"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("dropped 2 points"), std::string::npos) << w[0];

    expectIoError([&] { readKittiScan(dir / "n.bin", dir / "n.label", {.strict = true}); },
                  dir / "n.bin", "point 1 has a NaN or infinite coordinate");
    expectIoError([&] { readKittiBin(dir / "n.bin", {.strict = true}); }, dir / "n.bin",
                  "(2 such points");
}

TEST(ScanIoBadInput, EmptyAndMissingFiles) {
    const fs::path dir = scratchDir();
    writeBytes(dir / "e.bin", "");
    writeBytes(dir / "e.label", "");
    writeBytes(dir / "e.pcd.bin", "");
    expectIoError([&] { readKittiBin(dir / "e.bin"); }, dir / "e.bin", "file is empty");
    expectIoError([&] { readLabelFile(dir / "e.label"); }, dir / "e.label", "file is empty");
    expectIoError([&] { io::readNuscenesBin(dir / "e.pcd.bin"); }, dir / "e.pcd.bin",
                  "file is empty");
    expectIoError([&] { readKittiBin(dir / "nope.bin"); }, dir / "nope.bin", "file not found");
    io::writeKittiBin(dir / "ok.bin", smallCloud());
    expectIoError([&] { readKittiScan(dir / "ok.bin", dir / "nope.label"); }, dir / "nope.label",
                  "file not found");
    expectIoError([&] { readKittiBin(dir); }, dir, "not a regular file");
}

TEST(ScanIoBadInput, FailedWriteKeepsOldFileAndLeavesNoTemp) {
    const fs::path dir = scratchDir();
    const PointCloud old = smallCloud();
    io::writeKittiBin(dir / "scan.bin", old);
    const std::string before = slurp(dir / "scan.bin");

    PointCloud big;
    big.xyz.assign(200000, {1, 2, 3});
    {
        const FileSizeLimit limit(64 * 1024);  // the 3.2 MB write fails half-way
        EXPECT_THROW(io::writeKittiBin(dir / "scan.bin", big), IoError);
        std::vector<std::uint32_t> labels(200000, 7);
        EXPECT_THROW(io::writeLabelFile(dir / "scan.bin", labels), IoError);
    }
    EXPECT_EQ(slurp(dir / "scan.bin"), before);
    EXPECT_EQ(listNames(dir), std::vector<std::string>{"scan.bin"});

    // A folder that cannot be created (its parent is a file): IoError, nothing written.
    expectIoError([&] { io::writeKittiBin(dir / "scan.bin" / "sub" / "x.bin", old); },
                  dir / "scan.bin" / "sub" / "x.bin", "cannot create folder");
    EXPECT_EQ(listNames(dir), std::vector<std::string>{"scan.bin"});
}

}  // namespace
}  // namespace lidistill::test
