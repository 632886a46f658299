// SPDX-License-Identifier: MIT
// `lidistill complete` in-process: outputs, reproducibility, and usage/input errors.
#include "core/base/ShippedModels.h"
#include "core/cli/Cli.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"
#include "core/base/Events.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>

namespace lidistill::ml {
namespace {

using test::CliResult;
const auto lidistill = test::runCli;

std::string bytesOf(const std::filesystem::path& f) {
    std::ifstream in(f, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// LiDiff publishes its refiner as a file of its own: --refiner attaches a refiner-only file,
// and completes exactly as the merged model does.
TEST(CompleteCli, ASeparateRefinerFileRefinesAsAMergedModelDoes) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto f = [&](const char* n) { return (dir / n).string(); };
    ASSERT_EQ(lidistill({"model", "init", f("diff.safetensors"), "--width", "0.25", "--seed", "1"})
                  .code,
              0);
    ASSERT_EQ(lidistill({"model", "init", f("other.safetensors"), "--width", "0.25", "--seed", "2",
                         "--refiner"})
                  .code,
              0);
    ASSERT_EQ(lidistill({"model", "merge", f("refiner.safetensors"), f("other.safetensors"),
                         "--networks", "refiner"})
                  .code,
              0);
    ASSERT_EQ(lidistill({"model", "merge", f("merged.safetensors"), f("diff.safetensors"),
                         f("refiner.safetensors")})
                  .code,
              0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const std::vector<std::string> common{"--steps", "1", "--points", "150", "--tile", "2"};
    auto complete = [&](std::vector<std::string> w) {
        w.insert(w.begin(), "complete");
        w.insert(w.end(), common.begin(), common.end());
        return lidistill(w);
    };
    auto r = complete({f("diff.safetensors"), scan, f("a.bin"), "--refiner",
                       f("refiner.safetensors"), "--diffused", f("a_diffused.bin")});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(complete({f("merged.safetensors"), scan, f("b.bin")}).code, 0);
    const auto diffused = io::readKittiBin(dir / "a_diffused.bin");
    EXPECT_EQ(io::readKittiBin(dir / "a.bin").size(), 6 * diffused.size());
    EXPECT_EQ(bytesOf(dir / "a.bin"), bytesOf(dir / "b.bin"));
    // A file without a refiner, named.
    r = complete({f("diff.safetensors"), scan, f("c.bin"), "--refiner", f("diff.safetensors")});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("diff.safetensors: has no refiner"), std::string::npos) << r.err;
}

TEST(CompleteCli, WritesRefinedDiffusedAndPartialCloudsReproducibly) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25", "--refiner"}).code, 0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const std::vector<std::string> common{"--steps", "2",      "--points", "150",        "--tile",
                                          "2",       "--seed", "5",        "--guidance", "3.5"};
    auto words = std::vector<std::string>{"complete",
                                          model,
                                          scan,
                                          (dir / "out.bin").string(),
                                          "--diffused",
                                          (dir / "diffused.bin").string(),
                                          "--partial-out",
                                          (dir / "partial.bin").string()};
    words.insert(words.end(), common.begin(), common.end());
    const CliResult r = lidistill(words);
    ASSERT_EQ(r.code, 0) << r.err;

    const auto refined = io::readKittiBin(dir / "out.bin");
    const auto diffused = io::readKittiBin(dir / "diffused.bin");
    const auto partial = io::readKittiBin(dir / "partial.bin");
    EXPECT_EQ(partial.size(), 150u);
    ASSERT_GT(diffused.size(), 0u);
    EXPECT_LE(diffused.size(), 300u);
    EXPECT_EQ(refined.size(), 6 * diffused.size());
    // The summary names the same counts.
    const std::regex counts("partial (\\d+) points -> diffused (\\d+) points -> refined (\\d+)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, counts)) << r.out;
    EXPECT_EQ(std::stoul(m[2]), diffused.size());
    EXPECT_EQ(std::stoul(m[3]), refined.size());

    // Same seed, same bytes; --no-refine writes the diffusion result itself.
    auto again = std::vector<std::string>{"complete", model, scan, (dir / "again.bin").string(),
                                          "--no-refine"};
    again.insert(again.end(), common.begin(), common.end());
    ASSERT_EQ(lidistill(again).code, 0);
    EXPECT_EQ(bytesOf(dir / "again.bin"), bytesOf(dir / "diffused.bin"));
}

// --events -: stdout carries only events (started, progress, result, ended), the summary moves
// to stderr; a failure is an error event with a code and the file, never text to match.
TEST(CompleteCli, EventsStreamDescribesTheJob) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25"}).code, 0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const auto out = (dir / "out.ply").string();
    const CliResult r = lidistill({"--events", "-", "complete", model, scan, out, "--steps", "2",
                                   "--points", "150", "--tile", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::vector<events::Event> ev;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        const auto e = events::parse(line);
        ASSERT_TRUE(e) << "not an event on stdout: " << line;
        ev.push_back(*e);
    }
    ASSERT_GE(ev.size(), 4u);
    EXPECT_EQ(ev.front().type, "started");
    EXPECT_EQ(ev.front().command, "complete");
    EXPECT_EQ(ev.back().type, "ended");
    EXPECT_EQ(ev.back().status, "ok");
    const auto& result = ev[ev.size() - 2];
    EXPECT_EQ(result.type, "result");
    EXPECT_EQ(result.outputs, std::vector<std::string>{out});
    EXPECT_EQ(result.number("partial_points"), 150.0);
    int progress = 0;
    double last = 0;
    for (const auto& e : ev) {
        if (e.type != "progress") continue;
        ++progress;
        EXPECT_GE(e.fraction, last);
        last = e.fraction;
    }
    EXPECT_GE(progress, 3);
    EXPECT_NE(r.err.find("wrote " + out), std::string::npos) << r.err;  // the summary

    // A corrupt model: an io error naming the file, then ended/failed, in a file of events.
    std::ofstream(dir / "broken.safetensors") << "not a model";
    const auto file = dir / "events.jsonl";
    const CliResult bad = lidistill({"complete", (dir / "broken.safetensors").string(), scan,
                                     (dir / "x.ply").string(), "--events", file.string()});
    EXPECT_EQ(bad.code, 1);
    std::ifstream in(file);
    std::vector<events::Event> fev;
    for (std::string line; std::getline(in, line);) fev.push_back(*events::parse(line));
    ASSERT_EQ(fev.size(), 3u);
    EXPECT_EQ(fev[1].type, "error");
    EXPECT_EQ(fev[1].code, "io");
    EXPECT_EQ(fev[1].file, (dir / "broken.safetensors").string());
    EXPECT_EQ(fev[2].status, "failed");
    // A usage error has its own code.
    const CliResult usage = lidistill({"complete", model, scan, (dir / "y.ply").string(),
                                       "--steps", "0", "--events", file.string()});
    EXPECT_EQ(usage.code, 2);
    std::ifstream again(file);
    std::string line, lastError;
    while (std::getline(again, line)) {
        const auto e = events::parse(line);
        if (e && e->type == "error") lastError = e->code;
    }
    EXPECT_EQ(lastError, "usage");
}

TEST(CompleteCli, BadOptionsAndInputsFailBeforeAnyOutput) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25"}).code, 0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const auto out = (dir / "out.bin").string();

    EXPECT_EQ(lidistill({"complete", model, scan, out, "--steps", "0"}).code, 2);
    EXPECT_EQ(lidistill({"complete", model, scan, out, "--tile", "-1"}).code, 2);
    for (const char* scale : {"0", "-1.1", "nan", "inf"}) {
        const CliResult bad = lidistill({"complete", model, scan, out, "--noise-scale", scale});
        EXPECT_EQ(bad.code, 2) << scale;
        EXPECT_NE(bad.err.find("--noise-scale"), std::string::npos) << bad.err;
    }
    EXPECT_EQ(lidistill({"complete", model, scan}).code, 2);

    const CliResult badExt = lidistill({"complete", model, scan, (dir / "out.xyz").string()});
    EXPECT_EQ(badExt.code, 1);
    EXPECT_NE(badExt.err.find("out.xyz"), std::string::npos) << badExt.err;

    std::ofstream(dir / "broken.safetensors") << "not a model";
    const CliResult badModel =
        lidistill({"complete", (dir / "broken.safetensors").string(), scan, out, "--steps", "1"});
    EXPECT_EQ(badModel.code, 1);
    EXPECT_NE(badModel.err.find("broken.safetensors"), std::string::npos) << badModel.err;

    // Nothing in range: an error that says so, and no output file.
    const CliResult empty = lidistill(
        {"complete", model, scan, out, "--steps", "1", "--min-range", "200", "--max-range", "300"});
    EXPECT_EQ(empty.code, 1);
    EXPECT_NE(empty.err.find("no point between"), std::string::npos) << empty.err;
    EXPECT_FALSE(std::filesystem::exists(out));
}

// A sequence folder: one model load, FRAME.EXT outputs that `eval --sequence` scores, seed + i
// per frame, resumable, and LiDiff's carried sampler state as an option.
TEST(CompleteCli, SequenceFolderIsCompletedFrameByFrameAndEvalScoresIt) {
    const auto seq = test::sourceDir() / "datasets" / "semantickitti-mini" / "sequences" / "00";
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25"}).code, 0);
    const std::vector<std::string> tiny{"--steps", "2", "--points", "150", "--tile", "2"};
    auto complete = [&](std::vector<std::string> words) {
        words.insert(words.begin(), "complete");
        words.insert(words.end(), tiny.begin(), tiny.end());
        return lidistill(words);
    };
    const auto out = dir / "out";
    const CliResult r = complete(
        {model, seq.string(), out.string(), "--frames", "1:3", "--format", "bin", "--seed", "10"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out / "000000.bin"));
    ASSERT_TRUE(std::filesystem::exists(out / "000001.bin"));
    ASSERT_TRUE(std::filesystem::exists(out / "000002.bin"));
    EXPECT_NE(r.out.find("completed 2 frame(s)"), std::string::npos) << r.out;

    // Frame i of a sequence run = that scan alone with seed + i.
    const auto alone = dir / "alone.bin";
    ASSERT_EQ(complete({model, (seq / "velodyne" / "000002.bin").string(), alone.string(), "--seed",
                        "12"})
                  .code,
              0);
    EXPECT_EQ(bytesOf(alone), bytesOf(out / "000002.bin"));

    // Resuming skips what is there and redoes what is missing, identically.
    const std::string frame2 = bytesOf(out / "000002.bin");
    std::filesystem::remove(out / "000002.bin");
    const CliResult resumed = complete({model, seq.string(), out.string(), "--frames", "1:3",
                                        "--format", "bin", "--seed", "10", "--skip-existing"});
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("1 already done"), std::string::npos) << resumed.out;
    EXPECT_EQ(bytesOf(out / "000002.bin"), frame2);

    // Existing outputs are replaced only with --force.
    const CliResult again = complete({model, seq.string(), out.string(), "--frames", "1:3",
                                      "--format", "bin", "--seed", "10"});
    EXPECT_EQ(again.code, 2);
    EXPECT_NE(again.err.find("000001.bin exists: pass --force"), std::string::npos) << again.err;
    // Never over the scans, --force or not: OUT_DIR = SEQ/velodyne with --format bin (a copy).
    const auto copy = dir / "copy";
    std::filesystem::copy(seq, copy, std::filesystem::copy_options::recursive);
    const std::string scan0 = bytesOf(copy / "velodyne" / "000000.bin");
    const CliResult over = complete({model, copy.string(), (copy / "velodyne").string(),
                                     "--frames", "0:1", "--format", "bin", "--force"});
    EXPECT_EQ(over.code, 2);
    EXPECT_NE(over.err.find("is an input"), std::string::npos) << over.err;
    EXPECT_EQ(bytesOf(copy / "velodyne" / "000000.bin"), scan0);
    const CliResult self = complete({model, (copy / "velodyne" / "000000.bin").string(),
                                     (copy / "velodyne" / "000000.bin").string(), "--force"});
    EXPECT_EQ(self.code, 2);
    EXPECT_EQ(bytesOf(copy / "velodyne" / "000000.bin"), scan0);

    // LiDiff's carried sampler state changes the second frame only.
    const auto carried = dir / "carried";
    ASSERT_EQ(complete({model, seq.string(), carried.string(), "--frames", "1:3", "--format", "bin",
                        "--seed", "10", "--lidiff-scheduler-state"})
                  .code,
              0);
    EXPECT_EQ(bytesOf(carried / "000001.bin"), bytesOf(out / "000001.bin"));
    EXPECT_NE(bytesOf(carried / "000002.bin"), frame2);

    // The folder is what eval expects.
    const CliResult scored = lidistill({"eval", out.string(), "--sequence", seq.string()});
    EXPECT_EQ(scored.code, 0) << scored.err;

    EXPECT_EQ(complete({model, (seq / "velodyne" / "000001.bin").string(), alone.string(),
                        "--frames", "0:1"})
                  .code,
              2);
    EXPECT_EQ(complete({model, seq.string(), out.string(), "--format", "xyz"}).code, 2);
}

// nuScenes sweeps complete in the axes asked for: the KITTI-axes condition is the stored one
// turned by -90 degrees about z (x forward), point for point.
TEST(CompleteCli, NuscenesSweepsCompleteInTheAxesAskedFor) {
    const auto sweeps = test::sharedData() / "nuscenes-sweep";
    if (!std::filesystem::is_directory(sweeps)) GTEST_SKIP() << "no " << sweeps;
    std::filesystem::path sweep;
    for (const auto& e : std::filesystem::directory_iterator(sweeps)) {
        if (e.path().string().ends_with(".pcd.bin")) sweep = e.path();
    }
    ASSERT_FALSE(sweep.empty());
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25"}).code, 0);
    auto run = [&](const std::string& axes) {
        const auto partial = dir / (axes + "_partial.bin");
        const CliResult r =
            lidistill({"complete", model, sweep.string(), (dir / (axes + ".bin")).string(),
                       "--steps", "1", "--points", "300", "--tile", "1", "--partial-out",
                       partial.string(), "--nuscenes-axes", axes});
        EXPECT_EQ(r.code, 0) << r.err;
        return io::readKittiBin(partial);
    };
    const PointCloud stored = run("stored");
    const PointCloud kitti = run("kitti");
    ASSERT_EQ(stored.size(), 300u);
    ASSERT_EQ(kitti.size(), stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
        // (x, y) stored (x right, y forward) -> (y, -x) in KITTI axes.
        EXPECT_NEAR(kitti.xyz[i][0], stored.xyz[i][1], 1e-4) << i;
        EXPECT_NEAR(kitti.xyz[i][1], -stored.xyz[i][0], 1e-4) << i;
        EXPECT_NEAR(kitti.xyz[i][2], stored.xyz[i][2], 1e-4) << i;
    }
    EXPECT_EQ(lidistill({"complete", model, sweep.string(), (dir / "x.bin").string(),
                         "--nuscenes-axes", "up"})
                  .code,
              2);
}

// The studio follows a run through its stderr (LIDISTILL_PROGRESS=percent) and stops it with
// SIGTERM: the real binary must print a line per percent and stop cleanly, leaving no output.
TEST(CompleteCli, FollowedRunReportsEveryPercentAndStopsOnSigterm) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto exe = test::binaryDir() / "app" / "lidistill";
    if (!std::filesystem::exists(exe)) GTEST_SKIP() << "no " << exe;
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(lidistill({"model", "init", model, "--width", "0.25"}).code, 0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const auto errLog = dir / "err.txt";
    const auto out = dir / "out.bin";

    auto start = [&](const std::string& steps) {
        const pid_t pid = fork();
        if (pid == 0) {
            std::freopen(errLog.c_str(), "w", stderr);
            std::freopen("/dev/null", "w", stdout);
            setenv("LIDISTILL_PROGRESS", "percent", 1);
            execl(exe.c_str(), "lidistill", "complete", model.c_str(), scan.c_str(), out.c_str(),
                  "--steps", steps.c_str(), "--points", "300", "--tile", "2", nullptr);
            _exit(127);
        }
        return pid;
    };
    auto exitCode = [](pid_t pid) {
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };

    // A short run: one line per percent of the denoising loop (20 steps -> 0, 5, 9, ... %).
    ASSERT_EQ(exitCode(start("20")), 0) << bytesOf(errLog);
    const std::string log = bytesOf(errLog);
    std::size_t denoisingLines = 0;
    for (std::size_t pos = 0; (pos = log.find("% denoising", pos)) != std::string::npos; ++pos) {
        ++denoisingLines;
    }
    EXPECT_GE(denoisingLines, 19u) << log;
    ASSERT_TRUE(std::filesystem::exists(out));
    std::filesystem::remove(out);

    // A long run stopped by SIGTERM once it is denoising: "cancelled", exit 1, no output.
    std::filesystem::remove(errLog);  // or the wait below would see the first run's lines
    const pid_t pid = start("1000");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (bytesOf(errLog).find("denoising") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGTERM);
    EXPECT_EQ(exitCode(pid), 1);
    EXPECT_NE(bytesOf(errLog).find("cancelled"), std::string::npos) << bytesOf(errLog);
    EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace lidistill::ml

namespace lidistill::ml {
namespace {

TEST(CompleteCli, WithoutAModelTheShippedTeacherCompletesAtItsOwnScale) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    if (shippedModel(kShippedTeacher).empty()) GTEST_SKIP() << "no shipped models in this tree";
    const auto dir = test::scratchDir();
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const CliResult r = test::runCli({"complete", scan, (dir / "out.bin").string(), "--steps", "2",
                                      "--diffused", (dir / "diffused.bin").string(),
                                      "--partial-out", (dir / "partial.bin").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    // The lite scale from the file: 2000 partial points, 4 x 2000 diffused before the filter,
    // and 6 refined points for each diffused one.
    EXPECT_EQ(io::readCloud(dir / "partial.bin").size(), 2000u);
    const auto diffused = io::readCloud(dir / "diffused.bin").size();
    EXPECT_GT(diffused, 0u);
    EXPECT_LE(diffused, 8000u);
    EXPECT_EQ(io::readCloud(dir / "out.bin").size(), 6 * diffused);
    EXPECT_EQ(r.err.find("outside the model's"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lidistill::ml
