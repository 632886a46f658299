// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/io/PoseIo.h"
#include "core/io/ScanIo.h"
#include "tests/core/io/IoTestUtil.h"
#include "tests/support/TestData.h"

#include <Eigen/Geometry>
#include <Eigen/LU>

#include <gtest/gtest.h>

namespace lidistill::test {
namespace {
namespace fs = std::filesystem;

TEST(PoseIoReal, ReadsCalibPosesTimes) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const io::Calibration calib = io::readCalib(dir / "calib.txt");
    EXPECT_EQ(calib.entries.size(), 5u);  // P0..P3, Tr
    ASSERT_TRUE(calib.tr().has_value());
    const Eigen::Matrix4d tr = *calib.tr();
    // Values copied from the file's Tr line.
    EXPECT_DOUBLE_EQ(tr(0, 0), 4.276802385584e-04);
    EXPECT_DOUBLE_EQ(tr(0, 1), -9.999672484946e-01);
    EXPECT_DOUBLE_EQ(tr(2, 3), -2.921968648686e-01);
    EXPECT_EQ(tr.row(3), Eigen::RowVector4d(0, 0, 0, 1));
    EXPECT_DOUBLE_EQ(calib.entries.at("P2")(1, 3), -1.130887000000e-01);

    const auto poses = io::readPoses(dir / "poses.txt");
    ASSERT_EQ(poses.size(), 10u);
    EXPECT_DOUBLE_EQ(poses[1](2, 3), 0.672716);
    EXPECT_DOUBLE_EQ(poses[1](0, 1), -0.00316351);
    const auto times = io::readTimes(dir / "times.txt");
    ASSERT_EQ(times.size(), 10u);
    EXPECT_DOUBLE_EQ(times[0], 0.0);
    EXPECT_DOUBLE_EQ(times[2], 2.073381e-01);
}

TEST(PoseIoReal, LidarPosesAlignScan9OnScan0) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const Eigen::Matrix4d tr = *io::readCalib(dir / "calib.txt").tr();
    const auto lidar = io::cameraToLidarPoses(io::readPoses(dir / "poses.txt"), tr);
    EXPECT_TRUE(lidar[0].isApprox(Eigen::Matrix4d::Identity(), 1e-6));
    // The car drives forward (LiDAR +x) about 0.7 m a frame.
    EXPECT_GT(lidar[9](0, 3), 5.0);
    EXPECT_LT(lidar[9](0, 3), 8.0);
    EXPECT_LT(std::abs(lidar[9](1, 3)), 0.5);

    auto staticPoints = [&](int frame, const Eigen::Matrix4d& pose) {
        const std::string name = (frame == 0 ? "000000" : "000009");
        PointCloud c = io::readKittiScan(dir / "velodyne" / (name + ".bin"),
                                         dir / "labels" / (name + ".label"));
        std::vector<bool> keep(c.size());
        for (std::size_t i = 0; i < c.size(); ++i) {
            const auto cls = semanticClass(c.label[i]);
            keep[i] = cls < 252;  // not moving
        }
        c.filter(keep);
        transformInPlace(c, pose);
        return c.xyz;
    };
    const auto ref = staticPoints(0, lidar[0]);
    const GridNN nn(ref, 1.0);
    auto medianDistance = [&](const std::vector<Vec3f>& q) {
        std::vector<double> d;
        d.reserve(q.size() / 4 + 1);
        for (std::size_t i = 0; i < q.size(); i += 4) d.push_back(nn.distance(q[i]));
        return median(d);
    };
    const double aligned = medianDistance(staticPoints(9, lidar[9]));
    const double identity = medianDistance(staticPoints(9, Eigen::Matrix4d::Identity()));
    // README of the shared data: about 0.12 m aligned, about 0.18 m with identity poses.
    // The shared data's README quotes about 0.12 m aligned against 0.18 m with identity poses;
    // exact nearest neighbours over all static points give 0.090 and 0.214 here, so the
    // bounds hold both figures and still separate the conventions clearly.
    EXPECT_GT(aligned, 0.06);
    EXPECT_LT(aligned, 0.13);
    EXPECT_GT(identity, 0.17);
    EXPECT_LT(identity, 0.25);
    EXPECT_LT(aligned, 0.6 * identity);
    // The other ways of mixing Tr in, and camera poses used raw, land far off.
    const Eigen::Matrix4d p9 = io::readPoses(dir / "poses.txt")[9];
    EXPECT_GT(medianDistance(staticPoints(9, tr * p9 * tr.inverse())), 0.5);
    EXPECT_GT(medianDistance(staticPoints(9, p9)), 0.5);
    EXPECT_GT(medianDistance(staticPoints(9, lidar[9].inverse())), 0.3);
}

TEST(PoseIo, ConversionsAreInverse) {
    Eigen::Matrix4d tr = Eigen::Matrix4d::Identity();
    tr.topLeftCorner<3, 3>() =
        Eigen::AngleAxisd(0.3, Eigen::Vector3d(0.2, -1, 0.4).normalized()).toRotationMatrix();
    tr.topRightCorner<3, 1>() = Eigen::Vector3d(0.1, -0.05, -0.3);
    std::vector<Eigen::Matrix4d> cam(3, Eigen::Matrix4d::Identity());
    cam[1].topRightCorner<3, 1>() = Eigen::Vector3d(0, 0, 1);  // camera z is forward
    cam[2].topLeftCorner<3, 3>() =
        Eigen::AngleAxisd(0.1, Eigen::Vector3d::UnitY()).toRotationMatrix();
    const auto lidar = io::cameraToLidarPoses(cam, tr);
    for (std::size_t i = 0; i < cam.size(); ++i) {
        EXPECT_TRUE(lidar[i].isApprox(tr.inverse() * cam[i] * tr, 1e-12));
    }
    // A pure camera translation along z maps to the LiDAR axis that Tr sends to camera z.
    const Eigen::Vector3d t = lidar[1].topRightCorner<3, 1>();
    EXPECT_TRUE(t.isApprox(tr.topLeftCorner<3, 3>().transpose() * Eigen::Vector3d(0, 0, 1), 1e-12));
    const auto back = io::lidarToCameraPoses(lidar, tr);
    for (std::size_t i = 0; i < cam.size(); ++i) {
        EXPECT_TRUE(back[i].isApprox(cam[i], 1e-12)) << i;
    }
}

TEST(PoseIo, WriteReadRoundTripIsExact) {
    const fs::path dir = scratchDir();
    std::vector<Eigen::Matrix4d> poses(2, Eigen::Matrix4d::Identity());
    poses[1].topRows<3>() << 0.1, 0.2 / 3, -1e-17, 123456.789, 1.0 / 3, 2, 3, 4, 5, 6, 7, -8.5;
    io::writePoses(dir / "poses.txt", poses);
    EXPECT_EQ(io::readPoses(dir / "poses.txt"), poses);

    io::Calibration calib;
    calib.entries["Tr"] = poses[1].topRows<3>();
    calib.entries["P0"] = Eigen::Matrix<double, 3, 4>::Constant(0.7);
    io::writeCalib(dir / "calib.txt", calib);
    const auto back = io::readCalib(dir / "calib.txt");
    EXPECT_EQ(back.entries, calib.entries);
    EXPECT_EQ(*back.tr(), poses[1]);

    const std::vector<double> times = {0.0, 0.1037359, 1.0 / 3};
    io::writeTimes(dir / "times.txt", times);
    EXPECT_EQ(io::readTimes(dir / "times.txt"), times);
    EXPECT_EQ(listNames(dir), (std::vector<std::string>{"calib.txt", "poses.txt", "times.txt"}));
}

TEST(PoseIoBadInput, MalformedPosesLineNamesTheLine) {
    const fs::path dir = scratchDir();
    const std::string good = "1 0 0 0 0 1 0 0 0 0 1 0\n";
    writeBytes(dir / "short.txt", good + good + "1 0 0 0 0 1 0 0 0 0 1\n" + good);
    expectIoError([&] { io::readPoses(dir / "short.txt"); }, dir / "short.txt",
                  "line 3: expected 12 numbers");
    writeBytes(dir / "word.txt", good + "1 0 0 0 0 1 0 x0 0 0 1 0\n");
    expectIoError([&] { io::readPoses(dir / "word.txt"); }, dir / "word.txt",
                  "line 2: 'x0' is not a number");
    writeBytes(dir / "nan.txt", "1 0 0 0 0 1 0 nan 0 0 1 0\n");
    expectIoError([&] { io::readPoses(dir / "nan.txt"); }, dir / "nan.txt",
                  "line 1: 'nan' is not a finite number");
    writeBytes(dir / "gap.txt", good + "\n" + good);
    expectIoError([&] { io::readPoses(dir / "gap.txt"); }, dir / "gap.txt", "line 2: blank line");
    // Trailing blank lines and CRLF endings are accepted.
    writeBytes(dir / "crlf.txt", "1 0 0 0 0 1 0 0 0 0 1 +2.5\r\n" + good + "\n\n");
    const auto ok = io::readPoses(dir / "crlf.txt");
    ASSERT_EQ(ok.size(), 2u);
    EXPECT_EQ(ok[0](2, 3), 2.5);
}

TEST(PoseIoBadInput, MalformedCalibAndTimes) {
    const fs::path dir = scratchDir();
    writeBytes(dir / "calib.txt", "P0: 1 2 3 4 5 6 7 8 9 10 11 12\nTr 1 2 3\n");
    expectIoError([&] { io::readCalib(dir / "calib.txt"); }, dir / "calib.txt",
                  "line 2: expected 'KEY: 12 numbers'");
    writeBytes(dir / "calib2.txt", "Tr: 1 2 3 4 5 6 7 8 9 10 11\n");
    expectIoError([&] { io::readCalib(dir / "calib2.txt"); }, dir / "calib2.txt",
                  "line 1: expected 12 numbers");
    writeBytes(dir / "times.txt", "0.0\n0.1 0.2\n");
    expectIoError([&] { io::readTimes(dir / "times.txt"); }, dir / "times.txt",
                  "line 2: expected one number");
}

TEST(PoseIoBadInput, EmptyAndMissing) {
    const fs::path dir = scratchDir();
    writeBytes(dir / "empty.txt", "");
    writeBytes(dir / "blank.txt", "\n  \n");
    expectIoError([&] { io::readPoses(dir / "empty.txt"); }, dir / "empty.txt", "file is empty");
    expectIoError([&] { io::readTimes(dir / "blank.txt"); }, dir / "blank.txt", "only blank lines");
    expectIoError([&] { io::readCalib(dir / "none.txt"); }, dir / "none.txt", "file not found");
}

TEST(PoseIoBadInput, FailedWriteKeepsOldFile) {
    const fs::path dir = scratchDir();
    const std::vector<Eigen::Matrix4d> one(1, Eigen::Matrix4d::Identity());
    io::writePoses(dir / "poses.txt", one);
    const std::string before = slurp(dir / "poses.txt");
    const std::vector<Eigen::Matrix4d> many(20000, Eigen::Matrix4d::Constant(1.0 / 3));
    {
        const FileSizeLimit limit(16 * 1024);
        EXPECT_THROW(io::writePoses(dir / "poses.txt", many), IoError);
    }
    EXPECT_EQ(slurp(dir / "poses.txt"), before);
    EXPECT_EQ(listNames(dir), std::vector<std::string>{"poses.txt"});
}

}  // namespace
}  // namespace lidistill::test
