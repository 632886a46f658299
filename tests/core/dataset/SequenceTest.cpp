// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/io/PoseIo.h"
#include "core/io/ScanIo.h"
#include "tests/core/io/IoTestUtil.h"
#include "tests/support/TestData.h"

#include <Eigen/LU>

#include <gtest/gtest.h>

namespace lidistill::test {
namespace {
namespace fs = std::filesystem;

PointCloud cloudOf(std::size_t n, float tag) {
    PointCloud c;
    for (std::size_t i = 0; i < n; ++i) {
        c.xyz.push_back({tag, static_cast<float>(i), 0.5f});
        c.intensity.push_back(0.1f * static_cast<float>(i));
    }
    return c;
}

std::string poseLine(double tz) {
    return "1 0 0 0 0 1 0 0 0 0 1 " + std::to_string(tz) + "\n";
}

/// A small SemanticKITTI-style folder with `n` frames named by `names`.
fs::path makeKittiSequence(const fs::path& dir, const std::vector<std::string>& names, bool labels,
                           bool poses, bool calib, bool times) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        io::writeKittiBin(dir / "velodyne" / (names[i] + ".bin"),
                          cloudOf(3 + i, static_cast<float>(i)));
        if (labels) {
            io::writeLabelFile(
                dir / "labels" / (names[i] + ".label"),
                std::vector<std::uint32_t>(3 + i, 40 + static_cast<std::uint32_t>(i)));
        }
    }
    std::string p, t;
    for (std::size_t i = 0; i < names.size(); ++i) {
        p += poseLine(static_cast<double>(i));
        t += std::to_string(0.1 * static_cast<double>(i)) + "\n";
    }
    if (poses) writeBytes(dir / "poses.txt", p);
    if (times) writeBytes(dir / "times.txt", t);
    if (calib) {
        // Tr maps LiDAR x (forward) to camera z, LiDAR y (left) to camera -x, z (up) to -y.
        writeBytes(dir / "calib.txt",
                   "P0: 1 0 0 0 0 1 0 0 0 0 1 0\nTr: 0 -1 0 0 0 0 -1 0 1 0 0 0\n");
    }
    return dir;
}

TEST(SequenceReal, OpensSemanticKittiSequence) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const Sequence seq = Sequence::open(dir);
    ASSERT_EQ(seq.size(), 10u);
    EXPECT_TRUE(seq.hasLabels());
    EXPECT_TRUE(seq.hasPoses());
    EXPECT_TRUE(seq.hasCalib());
    EXPECT_EQ(seq.frameName(0), "000000");
    EXPECT_EQ(seq.frameName(9), "000009");
    EXPECT_EQ(seq.scanFile(3), dir / "velodyne" / "000003.bin");
    EXPECT_EQ(*seq.labelFile(3), dir / "labels" / "000003.label");
    EXPECT_DOUBLE_EQ(*seq.time(2), 2.073381e-01);

    const Eigen::Matrix4d tr = *io::readCalib(dir / "calib.txt").tr();
    const auto cam = io::readPoses(dir / "poses.txt");
    for (std::size_t i = 0; i < seq.size(); ++i) {
        EXPECT_TRUE(seq.pose(i).isApprox(tr.inverse() * cam[i] * tr, 1e-12)) << i;
    }

    const PointCloud c = seq.loadScan(5);
    EXPECT_EQ(c.size(), fs::file_size(dir / "velodyne" / "000005.bin") / 16);
    EXPECT_EQ(c.label, io::readLabelFile(dir / "labels" / "000005.label"));
    EXPECT_THROW((void)seq.scanFile(10), std::out_of_range);
    EXPECT_THROW((void)seq.pose(10), std::out_of_range);
}

TEST(Sequence, NaturalOrderAndKittiLayout) {
    const fs::path dir = makeKittiSequence(scratchDir() / "seq", {"10", "2", "1", "002a", "9"},
                                           true, true, true, true);
    const Sequence seq = Sequence::open(dir);
    ASSERT_EQ(seq.size(), 5u);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < seq.size(); ++i) names.push_back(seq.frameName(i));
    EXPECT_EQ(names, (std::vector<std::string>{"1", "2", "002a", "9", "10"}));
    // Frame "10" was written with tag 0 and 3 points; labels follow their scan by name.
    const PointCloud ten = seq.loadScan(4);
    ASSERT_EQ(ten.size(), 3u);
    EXPECT_EQ(ten.xyz[0][0], 0.0f);
    EXPECT_EQ(ten.label, (std::vector<std::uint32_t>{40, 40, 40}));
    const PointCloud nine = seq.loadScan(3);
    EXPECT_EQ(nine.size(), 7u);
    EXPECT_EQ(nine.label[0], 44u);
    // poses.txt line k belongs to frame k in natural order: camera z (forward) 3 m is LiDAR x.
    EXPECT_TRUE((seq.pose(3).topRightCorner<3, 1>().isApprox(Eigen::Vector3d(3, 0, 0), 1e-12)));
    EXPECT_DOUBLE_EQ(*seq.time(4), 0.4);
}

TEST(Sequence, WithoutCalibUsesCameraPosesWithWarning) {
    const fs::path dir =
        makeKittiSequence(scratchDir() / "seq", {"000000", "000001"}, false, true, false, false);
    LogCapture logs;
    const Sequence seq = Sequence::open(dir);
    EXPECT_FALSE(seq.hasCalib());
    EXPECT_FALSE(seq.hasLabels());
    EXPECT_FALSE(seq.labelFile(1).has_value());
    EXPECT_FALSE(seq.time(1).has_value());
    EXPECT_TRUE((seq.pose(1).topRightCorner<3, 1>().isApprox(Eigen::Vector3d(0, 0, 1), 1e-12)));
    const auto w = logs.warnings();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("no calib.txt"), std::string::npos) << w[0];
    EXPECT_FALSE(seq.loadScan(0).hasLabels());
}

TEST(Sequence, PlainFolderOfMixedScans) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    io::writeKittiBin(dir / "scan10.bin", cloudOf(4, 10));
    io::writePcd(dir / "scan2.pcd", cloudOf(5, 2));
    io::writePly(dir / "scan1.PLY", cloudOf(6, 1));
    // nuScenes sweep: 5 floats a point.
    writeBytes(dir / "scan3.pcd.bin", asBytes(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    writeBytes(dir / "notes.txt", "not a scan");
    const Sequence seq = Sequence::open(dir);
    ASSERT_EQ(seq.size(), 4u);
    EXPECT_FALSE(seq.hasPoses());
    EXPECT_EQ(seq.frameName(0), "scan1");
    EXPECT_EQ(seq.frameName(1), "scan2");
    EXPECT_EQ(seq.frameName(2), "scan3");
    EXPECT_EQ(seq.frameName(3), "scan10");
    EXPECT_EQ(seq.pose(2), Eigen::Matrix4d::Identity());
    EXPECT_EQ(seq.loadScan(0).size(), 6u);
    EXPECT_EQ(seq.loadScan(1).size(), 5u);
    const PointCloud sweep = seq.loadScan(2);
    ASSERT_EQ(sweep.size(), 2u);
    EXPECT_EQ(sweep.ring, (std::vector<std::uint16_t>{5, 10}));
    EXPECT_EQ(seq.loadScan(3).xyz[0][0], 10.0f);
}

TEST(SequenceBadInput, MissingOrEmptyFolders) {
    const fs::path dir = scratchDir();
    expectIoError([&] { Sequence::open(dir / "nope"); }, dir / "nope", "not found");
    writeBytes(dir / "file.bin", std::string(16, '\0'));
    expectIoError([&] { Sequence::open(dir / "file.bin"); }, dir / "file.bin", "not a folder");
    fs::create_directories(dir / "empty");
    expectIoError([&] { Sequence::open(dir / "empty"); }, dir / "empty", "holds no scans");
    fs::create_directories(dir / "kitti" / "velodyne");
    expectIoError([&] { Sequence::open(dir / "kitti"); }, dir / "kitti" / "velodyne",
                  "holds no .bin scans");
}

TEST(SequenceBadInput, CountsAndMalformedFiles) {
    const fs::path base = scratchDir();
    {
        const fs::path dir =
            makeKittiSequence(base / "a", {"0", "1", "2"}, false, true, true, false);
        writeBytes(dir / "poses.txt", poseLine(0) + poseLine(1));
        expectIoError([&] { Sequence::open(dir); }, dir / "poses.txt",
                      "holds 2 poses but the sequence has 3 scans");
    }
    {
        const fs::path dir = makeKittiSequence(base / "b", {"0", "1"}, false, false, false, true);
        writeBytes(dir / "times.txt", "0\n0.1\n0.2\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "times.txt", "holds 3 times");
    }
    {
        const fs::path dir = makeKittiSequence(base / "c", {"0", "1"}, false, true, true, false);
        writeBytes(dir / "poses.txt", poseLine(0) + "1 2 3\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "poses.txt", "line 2");
    }
    {
        const fs::path dir = makeKittiSequence(base / "d", {"0", "1"}, false, true, true, false);
        writeBytes(dir / "calib.txt", "P0: 1 0 0 0 0 1 0 0 0 0 1 0\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "calib.txt", "no 'Tr:' entry");
    }
    {
        const fs::path dir = makeKittiSequence(base / "e", {"0", "1"}, true, false, false, false);
        fs::remove(dir / "labels" / "1.label");
        expectIoError([&] { Sequence::open(dir); }, dir / "labels" / "1.label",
                      "label file missing");
    }
    {
        const fs::path dir = makeKittiSequence(base / "f", {"0", "1"}, true, false, false, false);
        io::writeLabelFile(dir / "labels" / "1.label", {1, 2});
        const Sequence seq = Sequence::open(dir);  // opening reads no scans
        expectIoError([&] { seq.loadScan(1); }, dir / "labels" / "1.label", "holds 2 labels");
        writeBytes(dir / "velodyne" / "0.bin", std::string(20, '\0'));
        expectIoError([&] { seq.loadScan(0); }, dir / "velodyne" / "0.bin", "multiple of 16");
    }
}

TEST(SequenceBadInput, NonRigidPosesAndTrNameTheirFile) {
    const fs::path base = scratchDir();
    {
        const fs::path dir = makeKittiSequence(base / "a", {"0", "1"}, false, true, false, false);
        writeBytes(dir / "poses.txt", poseLine(0) + "1 0 0 1e300 0 1 0 0 0 0 1 0\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "poses.txt",
                      "line 2: translation beyond 1000 km");
    }
    {
        const fs::path dir = makeKittiSequence(base / "b", {"0", "1"}, false, true, false, false);
        writeBytes(dir / "poses.txt", poseLine(0) + "2 0 0 0 0 2 0 0 0 0 2 0\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "poses.txt",
                      "line 2: the 3x3 part is not a rotation");
    }
    {
        const fs::path dir = makeKittiSequence(base / "c", {"0", "1"}, false, true, true, false);
        writeBytes(dir / "calib.txt", "Tr: 0 0 0 0 0 0 0 0 0 0 0 0\n");
        expectIoError([&] { Sequence::open(dir); }, dir / "calib.txt", "Tr: the 3x3 part");
    }
}

}  // namespace
}  // namespace lidistill::test
