// SPDX-License-Identifier: MIT
// Drives `lidistill` in-process, as a user would type it, and checks outputs and exit codes.
#include "core/cli/Cli.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/map/StaticMap.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace fs = std::filesystem;
using namespace lidistill;

using test::runCli;

TEST(Cli, HelpAndUsageExitCodes) {
    EXPECT_EQ(runCli({}).code, 2);
    auto help = runCli({"--help"});
    EXPECT_EQ(help.code, 0);
    for (const char* cmd : {"info", "convert", "build-map", "gt", "eval"}) {
        EXPECT_NE(help.out.find(cmd), std::string::npos) << cmd;
        auto h = runCli({cmd, "--help"});
        EXPECT_EQ(h.code, 0) << cmd;
        EXPECT_NE(h.out.find("Usage: lidistill " + std::string(cmd)), std::string::npos);
    }
    EXPECT_EQ(runCli({"frobnicate"}).code, 2);
    EXPECT_EQ(runCli({"info"}).code, 2);  // missing argument
    EXPECT_EQ(runCli({"info", "a", "--no-such-option"}).code, 2);
    auto missing = runCli({"info", "/no/such/scan.bin"});
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("/no/such/scan.bin"), std::string::npos);
}

TEST(Cli, InfoDescribesRealSequenceAsJson) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    auto r = runCli({"info", test::semanticKittiSeq00().string(), "--json", "--frame", "3"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\"frames\": 10"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"name\": \"000003\""), std::string::npos);
    EXPECT_NE(r.out.find("\"labels\": true"), std::string::npos);
    EXPECT_EQ(runCli({"info", test::semanticKittiSeq00().string(), "--frame", "10"}).code, 2);
}

TEST(Cli, ConvertRoundTripKeepsPointsIntensityAndLabels) {
    LIDISTILL_REQUIRE_PCL();
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto seq = test::semanticKittiSeq00();
    const auto dir = test::scratchDir();
    const auto bin = (seq / "velodyne" / "000002.bin").string();
    const auto label = (seq / "labels" / "000002.label").string();
    for (const char* enc : {"ascii", "binary", "binary_compressed"}) {
        const auto pcd = (dir / (std::string(enc) + ".pcd")).string();
        auto r = runCli({"convert", bin, pcd, "--labels", label, "--encoding", enc});
        ASSERT_EQ(r.code, 0) << r.err;
        const auto back = (dir / (std::string(enc) + ".bin")).string();
        const auto backLabel = (dir / (std::string(enc) + ".label")).string();
        ASSERT_EQ(runCli({"convert", pcd, back, "--labels-out", backLabel}).code, 0);
        const PointCloud a = io::readKittiScan(bin, fs::path(label));
        const PointCloud b = io::readKittiScan(back, fs::path(backLabel));
        ASSERT_EQ(a.size(), b.size());
        EXPECT_EQ(a.label, b.label);
        double maxErr = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            for (int k = 0; k < 3; ++k)
                maxErr = std::max(maxErr, double(std::abs(a.xyz[i][k] - b.xyz[i][k])));
        }
        // ASCII PCD keeps about 8 significant digits; binary encodings are exact.
        EXPECT_LT(maxErr, std::string(enc) == "ascii" ? 1e-4 : 1e-12) << enc;
    }
    EXPECT_EQ(runCli({"convert", bin, (dir / "x.pcd").string(), "--encoding", "zip"}).code, 2);
}

// An input is never written over, an existing output only with --force.
TEST(Cli, ConvertNeverOverwritesAnInputNorAnOutputWithoutForce) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto original = test::semanticKittiSeq00() / "velodyne" / "000002.bin";
    const auto bin = dir / "scan.bin";
    fs::copy_file(original, bin);
    const auto size = fs::file_size(bin);
    const auto ply = (dir / "scan.ply").string();

    auto r = runCli({"convert", bin.string(), bin.string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("is an input"), std::string::npos) << r.err;
    // The same file by another name is still the input, --force or not.
    r = runCli({"convert", bin.string(), (dir / "." / "scan.bin").string(), "--force"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(fs::file_size(bin), size);

    ASSERT_EQ(runCli({"convert", bin.string(), ply}).code, 0);
    const auto written = fs::last_write_time(ply);
    r = runCli({"convert", bin.string(), ply});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("exists: pass --force"), std::string::npos) << r.err;
    EXPECT_EQ(fs::last_write_time(ply), written);
    EXPECT_EQ(runCli({"convert", bin.string(), ply, "--force"}).code, 0);
}

// Frame numbers are whole numbers or a usage error: "1e3" is not frame 1, "-1" not 2^64-1.
TEST(Cli, FrameNumbersMustBeWholeNumbers) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto seq = test::semanticKittiSeq00().string();
    const auto out = (test::scratchDir() / "x.ldmap").string();
    for (const char* frame : {"1e3", "0x1", "4.5", "-1", "", "9 "}) {
        const auto r = runCli({"gt", seq, frame});
        EXPECT_EQ(r.code, 2) << "'" << frame << "': " << r.err;
        EXPECT_NE(r.err.find("FRAME must be a frame index"), std::string::npos) << r.err;
    }
    EXPECT_EQ(runCli({"gt", seq, "10"}).code, 2);  // one past the last frame
    for (const char* range : {"0:5x", "1e3:5", "-1:5", "0:-1", "a:b"}) {
        const auto r = runCli({"build-map", seq, out, "--frames", range});
        EXPECT_EQ(r.code, 2) << range << ": " << r.err;
        EXPECT_NE(r.err.find("whole numbers"), std::string::npos) << range << ": " << r.err;
    }
    EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, BuildMapAndGroundTruthOnRealSequence) {
    LIDISTILL_REQUIRE_PCL();
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto seq = test::semanticKittiSeq00().string();
    const auto dir = test::scratchDir();
    const auto mapFile = (dir / "seq00.ldmap").string();
    auto r =
        runCli({"build-map", seq, mapFile, "--frames", "0:5", "--ply", (dir / "m.ply").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto m = map::StaticMap::load(mapFile);
    EXPECT_EQ(m.info().scanCount, 5u);
    EXPECT_EQ(io::readPly(dir / "m.ply").size(), m.size());
    // Progress goes to stderr as plain lines when not on a terminal.
    EXPECT_NE(r.err.find("build-map: 100%"), std::string::npos) << r.err;
    EXPECT_EQ(runCli({"build-map", seq, mapFile, "--frames", "5:3"}).code, 2);

    const auto gtFile = (dir / "gt4.ply").string();
    const auto cache = (dir / "cache.ldmap").string();
    r = runCli({"gt", seq, "4", "--out", gtFile, "--map", cache});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::exists(cache));
    const PointCloud gt = io::readPly(gtFile);
    ASSERT_GT(gt.size(), 100000u);
    for (const auto& p : gt.xyz) {
        ASSERT_GT(p[2], -4.f);
        ASSERT_LT(p[2], 4.4f);
        ASSERT_LT(std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]), 50.5f);
    }
    // The second run reads the cache: same result.
    const auto gtFile2 = (dir / "gt4b.ply").string();
    ASSERT_EQ(runCli({"gt", seq, "4", "--out", gtFile2, "--map", cache}).code, 0);
    EXPECT_EQ(io::readPly(gtFile2).size(), gt.size());
}
