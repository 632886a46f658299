// SPDX-License-Identifier: MIT
// `lidistill model init / info / forward`, driven in-process through lidistill::cli::run.
// Parameter counts are checked against a closed-form count of LiDiff's architecture (itself
// checked against the published full-width counts); the forward output against an in-process
// LidiffModel call; bad input against exit codes and messages that name the file.
#include "core/cli/Cli.h"
#include "core/io/CloudFile.h"
#include "core/ml/Model.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <array>
#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>

namespace lidistill::ml {
namespace {

using test::CliResult;
using test::runCli;

// --- LiDiff's parameter count in closed form (lidiff-family.md 4) ---------------------------
using Plan = std::array<std::int64_t, 9>;

Plan plan(double width) {
    const Plan base{32, 32, 64, 128, 256, 256, 128, 96, 96};
    Plan cs{};
    for (std::size_t i = 0; i < 9; ++i) cs[i] = static_cast<std::int64_t>(width * base[i]);
    return cs;
}
std::int64_t bn(std::int64_t c) {
    return 2 * c;
}  // weight + bias (running stats are buffers)
std::int64_t residual(std::int64_t a, std::int64_t b) {
    return 27 * a * b + bn(b) + 27 * b * b + bn(b) + (a != b ? a * b + bn(b) : 0);
}
std::int64_t mlp(std::int64_t a, std::int64_t h, std::int64_t b) {
    return a * h + h + h * b + b;
}
std::int64_t encoder(const Plan& cs, std::int64_t in) {
    std::int64_t n = 27 * in * cs[0] + bn(cs[0]) + 27 * cs[0] * cs[0] + bn(cs[0]);
    for (int i = 0; i < 4; ++i) {
        n += 8 * cs[i] * cs[i] + bn(cs[i]) + residual(cs[i], cs[i + 1]) +
             residual(cs[i + 1], cs[i + 1]);
    }
    return n;
}
std::int64_t decoder(const Plan& cs) {
    std::int64_t n = 0;
    for (int i = 0; i < 4; ++i) {
        n += 8 * cs[4 + i] * cs[5 + i] + bn(cs[5 + i]) +
             residual(cs[5 + i] + cs[3 - i], cs[5 + i]) + residual(cs[5 + i], cs[5 + i]);
    }
    return n;
}
std::int64_t denoiser(const Plan& cs, std::int64_t in) {
    std::int64_t n = encoder(cs, in) + decoder(cs) + mlp(cs[8], 20, 3);
    const std::array<std::int64_t, 8> hidden{cs[4], cs[4], cs[4], cs[4],
                                             cs[4], cs[5], cs[6], cs[7]};
    const std::array<std::int64_t, 8> gain{cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7]};
    for (int l = 0; l < 8; ++l) {
        n += mlp(cs[4], cs[4], cs[4]) + mlp(2 * cs[4], hidden[l], gain[l]) +
             mlp(cs[8], cs[8], cs[4]);
    }
    return n;
}
std::int64_t refiner(const Plan& cs, std::int64_t in, std::int64_t out) {
    return encoder(cs, in) + decoder(cs) + mlp(cs[8], 20, out);
}

TEST(ModelCli, ClosedFormCountsEqualLiDiffsPublishedOnes) {
    EXPECT_EQ(encoder(plan(1.0), 3), 8497952);
    EXPECT_EQ(denoiser(plan(1.0), 3), 24174515);
    EXPECT_EQ(refiner(plan(1.0), 3, 18), 21722926);
}

TEST(ModelCli, InitThenInfoPrintsTheParameterCounts) {
    const auto dir = test::scratchDir();
    const auto file = (dir / "lite.safetensors").string();
    const auto init =
        runCli({"model", "init", file, "--width", "0.25", "--refiner", "--seed", "3"});
    ASSERT_EQ(init.code, 0) << init.err;
    EXPECT_NE(init.out.find(file), std::string::npos) << init.out;
    ASSERT_TRUE(std::filesystem::exists(file));

    const auto info = runCli({"model", "info", file});
    ASSERT_EQ(info.code, 0) << info.err;
    const auto cs = plan(0.25);
    const std::map<std::string, std::pair<std::string, std::int64_t>> expected{
        {"encoder", {"MinkGlobalEnc", encoder(cs, 3)}},
        {"denoiser", {"MinkUNetDiff", denoiser(cs, 3)}},
        {"refiner", {"MinkUNet", refiner(cs, 3, 18)}}};
    std::int64_t total = 0;
    for (const auto& [name, archCount] : expected) {
        const std::regex line("\\n\\s*" + name + "\\s+" + archCount.first +
                              "\\s+(\\d+) parameters");
        std::smatch m;
        ASSERT_TRUE(std::regex_search(info.out, m, line)) << name << " missing in:\n" << info.out;
        EXPECT_EQ(std::stoll(m[1]), archCount.second) << name;
        total += archCount.second;
    }
    EXPECT_NE(info.out.find("total " + std::to_string(total) + " parameters"), std::string::npos)
        << info.out;
    EXPECT_NE(info.out.find("width 0.25"), std::string::npos) << info.out;

    // Without --refiner there is no refiner line.
    const auto plain = (dir / "plain.safetensors").string();
    ASSERT_EQ(runCli({"model", "init", plain, "--width", "0.25"}).code, 0);
    const auto info2 = runCli({"model", "info", plain});
    ASSERT_EQ(info2.code, 0) << info2.err;
    EXPECT_EQ(info2.out.find("MinkUNet "), std::string::npos) << info2.out;
}

TEST(ModelCli, ForwardOnARealScanWritesOnePredictionPerPoint) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(runCli({"model", "init", model, "--width", "0.25", "--seed", "1"}).code, 0);
    const auto scan = (test::semanticKittiSeq00() / "velodyne" / "000000.bin").string();
    const auto full = io::readCloud(scan);
    ASSERT_GT(full.size(), 100000u);

    // A subset of the real scan as the condition keeps the test quick.
    PointCloud sub;
    sub.xyz.assign(full.xyz.begin(), full.xyz.begin() + 3000);
    const auto subFile = (dir / "sub.bin").string();
    io::writeCloud(subFile, sub);

    // 1. The real scan, 1500 random points of it, noise added: one prediction per point.
    const auto eps = (dir / "eps.bin").string();
    const auto r = runCli({"model", "forward", model, scan, "--partial", subFile, "--points",
                           "1500", "--noise", "0.05", "--t", "200", "--out", eps});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("1500 points"), std::string::npos) << r.out;
    const auto predicted = io::readCloud(eps);
    ASSERT_EQ(predicted.size(), 1500u);
    float maxAbs = 0;
    for (const auto& p : predicted.xyz) {
        for (float v : p) {
            ASSERT_TRUE(std::isfinite(v));
            maxAbs = std::max(maxAbs, std::abs(v));
        }
    }
    EXPECT_GT(maxAbs, 0.f);

    // 2. All points of the subset, no noise: exactly what the library computes in-process.
    const auto eps2 = (dir / "eps2.bin").string();
    const auto r2 = runCli({"model", "forward", model, subFile, "--t", "731", "--out", eps2});
    ASSERT_EQ(r2.code, 0) << r2.err;
    const auto got = io::readCloud(eps2);
    const auto want = LidiffModel::load(model).denoise(sub, sub, 731);
    ASSERT_EQ(got.size(), want.size());
    double err = 0, scale = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        for (int c = 0; c < 3; ++c) {
            err = std::max(err, std::abs(double(got.xyz[i][c]) - want[i][c]));
            scale = std::max(scale, std::abs(double(want[i][c])));
        }
    }
    EXPECT_GT(scale, 0.0);
    EXPECT_LE(err, 1e-6 * scale);
    // A different step is a different prediction (t reaches the network).
    EXPECT_NE(LidiffModel::load(model).denoise(sub, sub, 10), want);
}

TEST(ModelCli, BadInputFailsWithAMessageNamingTheFile) {
    const auto dir = test::scratchDir();
    const auto model = (dir / "lite.safetensors").string();
    ASSERT_EQ(runCli({"model", "init", model, "--width", "0.25"}).code, 0);
    PointCloud tiny;
    for (int i = 0; i < 200; ++i) tiny.xyz.push_back({0.1f * i, 0.05f * (i % 7), 0.02f * (i % 5)});
    const auto scan = (dir / "tiny.bin").string();
    io::writeCloud(scan, tiny);

    auto expectFailure = [](const CliResult& r, int code, const std::string& mention) {
        EXPECT_EQ(r.code, code) << r.out << r.err;
        EXPECT_NE(r.err.find(mention), std::string::npos)
            << "error does not mention '" << mention << "':\n"
            << r.err;
    };
    // Corrupt: random bytes; truncated: a real model cut short; a model file with no config.
    const auto corrupt = (dir / "corrupt.safetensors").string();
    std::ofstream(corrupt, std::ios::binary)
        << std::string("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":", 13) << std::string(40, '\x7f');
    std::ifstream in(model, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const auto truncated = (dir / "truncated.safetensors").string();
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    const auto missing = (dir / "missing.safetensors").string();

    expectFailure(runCli({"model", "info", corrupt}), 1, "corrupt.safetensors");
    expectFailure(runCli({"model", "info", truncated}), 1, "truncated.safetensors");
    expectFailure(runCli({"model", "forward", truncated, scan}), 1, "truncated.safetensors");
    expectFailure(runCli({"model", "info", missing}), 1, "missing.safetensors");
    expectFailure(runCli({"model", "forward", missing, scan}), 1, "missing.safetensors");
    expectFailure(runCli({"model", "forward", model, (dir / "nope.bin").string()}), 1, "nope.bin");
    expectFailure(
        runCli({"model", "forward", model, scan, "--partial", (dir / "gone.bin").string()}), 1,
        "gone.bin");
    // Bad options are usage errors (exit 2), reported before any file is read.
    expectFailure(runCli({"model", "forward", model, scan, "--t", "abc"}), 2, "--t");
    expectFailure(runCli({"model", "forward", model, scan, "--t", "1000"}), 2, "--t");
    expectFailure(runCli({"model", "forward", missing, scan, "--t", "-5"}), 2, "--t");
    expectFailure(runCli({"model", "forward", model, scan, "--points", "-3"}), 2, "--points");
    expectFailure(runCli({"model", "frobnicate", model}), 2, "info FILE");
    expectFailure(runCli({"model", "init", (dir / "w.safetensors").string(), "--width", "0"}), 1,
                  "width");
    EXPECT_FALSE(std::filesystem::exists(dir / "w.safetensors"));
    expectFailure(runCli({"model", "forward", model, scan, "--device", "bogus"}), 1, "bogus");
    const auto cuda = runCli({"model", "forward", model, scan, "--device", "cuda"});
    if (cuda.code != 0) expectFailure(cuda, 1, "'cuda'");  // a machine without CUDA
    // And the good model still works on the same scan.
    const auto ok = runCli({"model", "forward", model, scan, "--t", "0", "--device", "cpu"});
    EXPECT_EQ(ok.code, 0) << ok.err;
    EXPECT_NE(ok.out.find("on cpu: 200 points"), std::string::npos) << ok.out;
}

}  // namespace
}  // namespace lidistill::ml
