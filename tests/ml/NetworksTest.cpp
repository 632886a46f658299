// SPDX-License-Identifier: MIT
#include "core/ml/nn/Networks.h"

#include <gtest/gtest.h>

namespace lidistill::ml::nets {
namespace {

std::map<std::string, std::vector<std::int64_t>> shapes(const torch::nn::Module& m) {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value().sizes().vec();
    for (const auto& b : m.named_buffers(true)) out[b.key()] = b.value().sizes().vec();
    return out;
}

TEST(Networks, ParameterCountsMatchLiDiffAtFullWidth) {
    EXPECT_EQ(parameterCount(*MinkGlobalEnc(1.0)), 8497952);
    EXPECT_EQ(parameterCount(*MinkUNetDiff(1.0)), 24174515);
    EXPECT_EQ(parameterCount(*MinkUNet(1.0, 3, 18)), 21722926);
}

TEST(Networks, StateDictNamesAndShapesFollowMinkowskiEngine) {
    auto s = shapes(*MinkUNetDiff(1.0));
    using V = std::vector<std::int64_t>;
    EXPECT_EQ(s.at("stem.0.kernel"), (V{27, 3, 32}));
    EXPECT_EQ(s.at("stem.1.bn.running_mean"), (V{32}));
    EXPECT_EQ(s.at("stem.4.bn.num_batches_tracked"), (V{}));
    EXPECT_EQ(s.at("stage1.0.net.0.kernel"), (V{8, 32, 32}));
    EXPECT_EQ(s.at("stage2.1.downsample.0.kernel"), (V{32, 64}));
    EXPECT_EQ(s.at("stage2.1.net.3.kernel"), (V{27, 64, 64}));
    EXPECT_EQ(s.at("up1.0.net.0.kernel"), (V{8, 256, 256}));
    EXPECT_EQ(s.at("up1.1.0.net.0.kernel"), (V{27, 384, 256}));
    EXPECT_EQ(s.at("up4.1.1.net.4.bn.weight"), (V{96}));
    EXPECT_EQ(s.at("latemp_up1.0.weight"), (V{256, 512}));
    EXPECT_EQ(s.at("latemp_up3.2.weight"), (V{128, 128}));
    EXPECT_EQ(s.at("up4_temp.0.weight"), (V{96, 96}));
    EXPECT_EQ(s.at("last.2.weight"), (V{3, 20}));
    EXPECT_EQ(s.count("stage1.1.downsample.0.kernel"), 0u);  // identity shortcut
    EXPECT_EQ(shapes(*MinkUNet(1.0, 3, 18)).at("last.2.weight"), (V{18, 20}));
}

TEST(Networks, WidthMultiplierTruncatesLikePython) {
    auto cs = channelPlan(0.3);  // int(0.3 * 96) = 28
    EXPECT_EQ(cs[0], 9);
    EXPECT_EQ(cs[8], 28);
    auto s = shapes(*MinkUNetDiff(0.3));
    EXPECT_EQ(s.at("stem.0.kernel")[2], 9);
}

TEST(Networks, TimeEmbeddingIsSinThenCos) {
    MinkUNetDiff net(1.0);
    auto e = net->timeEmbedding(torch::tensor({0L, 500L}));
    ASSERT_EQ(e.sizes().vec(), (std::vector<std::int64_t>{2, 96}));
    EXPECT_FLOAT_EQ(e[0][0].item<float>(), 0.f);
    EXPECT_FLOAT_EQ(e[0][48].item<float>(), 1.f);
    EXPECT_NEAR(e[1][0].item<float>(), std::sin(500.0), 1e-4);
    EXPECT_NEAR(e[1][47].item<float>(), std::sin(500.0 * 1e-4), 1e-6);  // f_47 = 10000^-1
}

// A small denoiser on two batch elements: finite output per point, and each element's output
// equals the one computed alone (conditioning and time embedding are per element).
TEST(Networks, DenoiserRunsPerBatchElement) {
    torch::manual_seed(3);
    MinkGlobalEnc enc(0.25);
    MinkUNetDiff net(0.25);
    enc->eval();
    net->eval();
    torch::NoGradGuard guard;
    auto pts = torch::randn({600, 3}) * 2.0;
    auto part = torch::randn({200, 3}) * 2.0;
    auto bPts = torch::cat({torch::zeros({300}, torch::kLong), torch::ones({300}, torch::kLong)});
    auto bPart = torch::cat({torch::zeros({100}, torch::kLong), torch::ones({100}, torch::kLong)});
    auto field = sparse::pointsToVoxels(pts, bPts, pts, 0.05);
    auto cond = enc(sparse::pointsToVoxels(part, bPart, part, 0.05).voxels);
    auto out = net(field, cond, torch::tensor({100L, 700L}));
    ASSERT_EQ(out.sizes().vec(), (std::vector<std::int64_t>{600, 3}));
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    for (int s = 0; s < 2; ++s) {
        auto p = pts.slice(0, 300 * s, 300 * (s + 1));
        auto q = part.slice(0, 100 * s, 100 * (s + 1));
        auto f1 = sparse::pointsToVoxels(p, torch::zeros({300}, torch::kLong), p, 0.05);
        auto c1 = enc(sparse::pointsToVoxels(q, torch::zeros({100}, torch::kLong), q, 0.05).voxels);
        auto o1 = net(f1, c1, torch::tensor({s == 0 ? 100L : 700L}));
        EXPECT_TRUE(torch::allclose(o1, out.slice(0, 300 * s, 300 * (s + 1)), 1e-4, 1e-5));
    }
}

}  // namespace
}  // namespace lidistill::ml::nets
