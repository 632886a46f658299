// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/dataset/Sequence.h"
#include "core/io/PoseIo.h"
#include "core/map/SequenceMap.h"
#include "core/synth/SequenceWriter.h"
#include "tests/support/TestData.h"
#include "tests/synth/SynthTestSupport.h"

#include <gtest/gtest.h>
#include <sstream>

namespace lidistill::synth {
namespace {
namespace fs = std::filesystem;

std::vector<fs::path> filesUnder(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files.push_back(fs::relative(e.path(), dir));
    }
    std::sort(files.begin(), files.end());
    return files;
}

TEST(SequenceWriter, SameSeedGivesByteIdenticalFilesOtherSeedsDiffer) {
    const fs::path root = test::scratchDir();
    SynthOptions o;
    o.seed = 42;
    o.frames = 4;
    o.sequence = "a";
    writeSyntheticSequence(root, o);
    o.sequence = "b";
    writeSyntheticSequence(root, o);
    o.seed = 43;
    o.sequence = "c";
    writeSyntheticSequence(root, o);
    const fs::path a = root / "sequences" / "a", b = root / "sequences" / "b",
                   c = root / "sequences" / "c";
    const auto files = filesUnder(a);
    ASSERT_EQ(files.size(), 4u * 2 + 3);  // bins, labels, poses, calib, times
    ASSERT_EQ(files, filesUnder(b));
    for (const auto& f : files) {
        EXPECT_EQ(test::fileBytes(a / f), test::fileBytes(b / f)) << f;
    }
    EXPECT_NE(test::fileBytes(a / "velodyne" / "000000.bin"),
              test::fileBytes(c / "velodyne" / "000000.bin"));
    EXPECT_NE(test::fileBytes(a / "poses.txt"), test::fileBytes(c / "poses.txt"));
}

// The world depends on the seed, not on the drive's length: a short sequence is a prefix of
// a long one of the same seed, file for file (poses and times line for line).
TEST(SequenceWriter, ShortSequenceIsAPrefixOfALongOne) {
    const fs::path root = test::scratchDir();
    for (Preset preset : {Preset::Urban, Preset::Suburban}) {
        SynthOptions o;
        o.seed = 77;
        o.preset = preset;
        o.frames = 3;
        o.sequence = "short";
        writeSyntheticSequence(root, o);
        o.frames = 30;
        o.sequence = "long";
        writeSyntheticSequence(root, o);
        const fs::path a = root / "sequences" / "short", b = root / "sequences" / "long";
        for (const char* f : {"velodyne/000000.bin", "velodyne/000002.bin", "labels/000000.label",
                              "labels/000002.label", "calib.txt"}) {
            EXPECT_EQ(test::fileBytes(a / f), test::fileBytes(b / f))
                << presetName(preset) << ' ' << f;
        }
        for (const char* f : {"poses.txt", "times.txt"}) {
            const auto shortBytes = test::fileBytes(a / f), longBytes = test::fileBytes(b / f);
            ASSERT_LT(shortBytes.size(), longBytes.size()) << f;
            EXPECT_TRUE(std::equal(shortBytes.begin(), shortBytes.end(), longBytes.begin()))
                << presetName(preset) << ' ' << f;
        }
        // A later frame of the long drive sees new ground, so the prefix is not trivial.
        EXPECT_NE(test::fileBytes(b / "velodyne/000000.bin"),
                  test::fileBytes(b / "velodyne/000029.bin"));
    }
}

TEST(SequenceWriter, RejectsBadOptions) {
    const fs::path root = test::scratchDir();
    SynthOptions o;
    o.frames = 0;
    EXPECT_THROW(writeSyntheticSequence(root, o), InvalidArgument);
    o.frames = 1;
    o.sequence = "../x";
    EXPECT_THROW(writeSyntheticSequence(root, o), InvalidArgument);
    o.sequence = "00";
    o.sensor = "ouster";
    EXPECT_THROW(writeSyntheticSequence(root, o), InvalidArgument);
}

// Posing each frame's static points with the written poses (through the real Sequence reader
// and calib Tr) must put them onto frame 0's points within the sensor noise; identity poses
// and the raw camera poses must not.
TEST(SequenceWriter, StaticPointsAlignWithTheWrittenPoses) {
    const fs::path root = test::scratchDir();
    SynthOptions o;
    o.seed = 7;
    o.frames = 8;
    writeSyntheticSequence(root, o);
    const Sequence seq = Sequence::open(root / "sequences" / "00");
    ASSERT_EQ(seq.size(), 8u);
    ASSERT_TRUE(seq.hasPoses() && seq.hasCalib() && seq.hasLabels());
    EXPECT_NEAR(*seq.time(5), 0.5, 1e-9);
    const auto camera = io::readPoses(root / "sequences" / "00" / "poses.txt");

    auto staticPoints = [&](std::size_t i, const Eigen::Matrix4d& T) {
        const PointCloud c = seq.loadScan(i);
        std::vector<Eigen::Vector3d> out;
        for (std::size_t k = 0; k < c.size(); ++k) {
            const auto s = semanticClass(c.label[k]);
            // Non-ground structure only: ground is translation-invariant along the road and
            // would hide a wrong pose.
            if (s < 2 || s >= 252 || s == 40 || s == 44 || s == 48 || s == 60 || s == 72) continue;
            const auto& p = c.xyz[k];
            out.push_back((T * Eigen::Vector4d(p[0], p[1], p[2], 1)).head<3>());
        }
        return out;
    };
    const auto ref = staticPoints(0, Eigen::Matrix4d::Identity());
    ASSERT_GT(ref.size(), 20000u);
    const std::size_t k = 7;
    const double moved = seq.pose(k).block<3, 1>(0, 3).norm();
    EXPECT_GT(moved, 4.0);  // about 0.8 m a frame
    const double posed =
        test::median(test::nearestDistances(ref, staticPoints(k, seq.pose(k)), 2.0));
    const double identity = test::median(
        test::nearestDistances(ref, staticPoints(k, Eigen::Matrix4d::Identity()), 2.0));
    const double rawCamera =
        test::median(test::nearestDistances(ref, staticPoints(k, camera[k]), 2.0));
    RecordProperty("median_nn_posed_m", std::to_string(posed));
    std::cout << "median NN distance, frame 7 to frame 0 (non-ground static): posed " << posed
              << " m, identity " << identity << " m, camera poses as LiDAR poses " << rawCamera
              << " m\n";
    // Different frames sample surfaces at different spots: a few centimetres of NN distance
    // remain even with exact poses (real KITTI: about 0.12 m).
    EXPECT_LT(posed, 0.08);
    EXPECT_GT(identity, 3 * posed);
    EXPECT_GT(rawCamera, 3 * posed);
}

TEST(SynthCommand, WritesASequenceAndRejectsBadUsage) {
    const fs::path root = test::scratchDir();
    const std::string out = root.string();
    {
        const char* argv[] = {"lidistill", "synth", "--seed",     "3",        "--frames",
                              "2",         "--out", out.c_str(),  "--preset", "suburban",
                              "--sensor",  "hdl32", "--sequence", "07"};
        std::ostringstream o, e;
        ASSERT_EQ(cli::run(14, argv, o, e), 0) << e.str();
        EXPECT_NE(o.str().find("wrote 2 frames"), std::string::npos) << o.str();
    }
    const Sequence seq = Sequence::open(root / "sequences" / "07");
    EXPECT_EQ(seq.size(), 2u);
    EXPECT_NEAR(*seq.time(1), 0.05, 1e-9);  // hdl32 spins at 20 Hz
    {
        // An existing sequence is replaced only with --force, and then wholly (1 frame, not 2).
        const char* argv[] = {"lidistill", "synth",      "--frames",   "1",  "--out",
                              out.c_str(), "--sequence", "07",         "--force"};
        std::ostringstream o, e;
        EXPECT_EQ(cli::run(8, argv, o, e), 2) << e.str();
        EXPECT_NE(e.str().find("pass --force"), std::string::npos) << e.str();
        EXPECT_EQ(Sequence::open(root / "sequences" / "07").size(), 2u);
        EXPECT_EQ(cli::run(9, argv, o, e), 0) << e.str();
        EXPECT_EQ(Sequence::open(root / "sequences" / "07").size(), 1u);
    }
    {
        const char* argv[] = {"lidistill", "synth",     "--frames", "2",
                              "--out",     out.c_str(), "--preset", "mars"};
        std::ostringstream o, e;
        EXPECT_EQ(cli::run(8, argv, o, e), 2);
        EXPECT_NE(e.str().find("mars"), std::string::npos);
    }
    {
        const char* argv[] = {"lidistill", "synth", "--frames", "2"};
        std::ostringstream o, e;
        EXPECT_EQ(cli::run(4, argv, o, e), 2);  // --out missing
    }
}

}  // namespace
}  // namespace lidistill::synth

namespace lidistill::synth {
namespace {

// The bundled sample must be exactly what the command in its README produces, so the README
// stays true and the generator's output does not drift unnoticed.
TEST(SequenceWriter, BundledSampleMatchesItsReadmeCommand) {
    const std::filesystem::path sample =
        test::sourceDir() / "datasets" / "synthetic" / "sequences" / "00";
    if (!std::filesystem::exists(sample)) GTEST_SKIP() << "no bundled sample at " << sample;
    const std::filesystem::path root = test::scratchDir();
    SynthOptions o;
    o.seed = 2024;
    o.frames = 5;
    o.preset = Preset::Urban;
    o.sensor = "hdl64";
    o.sequence = "00";
    writeSyntheticSequence(root, o);
    const auto files = filesUnder(sample);
    ASSERT_EQ(files, filesUnder(root / "sequences" / "00"));
    for (const auto& f : files) {
        EXPECT_EQ(test::fileBytes(sample / f), test::fileBytes(root / "sequences" / "00" / f)) << f;
    }
}

}  // namespace
}  // namespace lidistill::synth

namespace lidistill::synth {
namespace {

// The real map builder reads a synthetic sequence like a real one: static points of the
// scans are in the map (posed with the written poses), moving objects are not.
TEST(SequenceWriter, MapBuilderKeepsStaticAndDropsMovingPoints) {
    const std::filesystem::path root = test::scratchDir();
    SynthOptions o;
    o.seed = 11;
    o.frames = 6;
    writeSyntheticSequence(root, o);
    const Sequence seq = Sequence::open(root / "sequences" / "00");
    const map::StaticMap m = map::buildStaticMap(seq);
    ASSERT_GT(m.size(), 50000u);
    std::vector<Eigen::Vector3d> mapPts;
    for (const auto& p : m.points()) mapPts.emplace_back(p[0], p[1], p[2]);
    const PointCloud last = seq.loadScan(5);
    const Eigen::Matrix4d T = seq.pose(5);
    std::vector<Eigen::Vector3d> moving, still;
    for (std::size_t i = 0; i < last.size(); ++i) {
        const auto& p = last.xyz[i];
        const Eigen::Vector3d q = (T * Eigen::Vector4d(p[0], p[1], p[2], 1)).head<3>();
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        if (r < 5.0 || r > 40.0) continue;
        (semanticClass(last.label[i]) >= 252 ? moving : still).push_back(q);
    }
    ASSERT_GT(moving.size(), 100u);
    // Every static point has a map point in its 0.1 m voxel neighbourhood...
    const auto dStill = test::nearestDistances(mapPts, still, 0.5);
    const double stillNear =
        double(std::count_if(dStill.begin(), dStill.end(), [](double d) { return d < 0.2; }));
    EXPECT_GT(stillNear / double(still.size()), 0.97);
    // ...while moving points are absent (only the odd static surface within 2 cm).
    const auto dMoving = test::nearestDistances(mapPts, moving, 0.5);
    const double movingNear =
        double(std::count_if(dMoving.begin(), dMoving.end(), [](double d) { return d < 0.02; }));
    EXPECT_LT(movingNear / double(moving.size()), 0.05);
}

}  // namespace
}  // namespace lidistill::synth
