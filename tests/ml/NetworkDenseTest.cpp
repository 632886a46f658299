// SPDX-License-Identifier: MIT
// Whole-network check of the wiring: MinkUNet (the refiner) and MinkUNetDiff (the denoiser, with
// its conditioning path) at a small width on a tiny random cloud with negative coordinates
// equal a dense re-implementation written from LiDiff's
// architecture with torch conv3d / conv_transpose3d, the active-site masks (built here by max
// pooling, independently of the engine's coordinate manager) and the same named weights;
// float64, forward and every parameter gradient, with BN in training and in eval mode.
#include "core/ml/nn/Networks.h"
#include "tests/ml/DenseReference.h"

#include <array>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <map>

namespace lidistill::ml::nets {
namespace {

using sparse::dense::relErr;
using sparse::dense::toConvTWeight;
using sparse::dense::toConvWeight;

constexpr double kVoxel = 1.0;
// Dense grid: voxel coordinates -16..15 in x and y (both signs: floor division across zero),
// -16..-1 in z (keeps the grid small); origins divisible by 2^4 align all five levels.
constexpr std::int64_t kOrigin = -16;
constexpr std::array<std::int64_t, 3> kSize{32, 32, 16};
constexpr std::int64_t kBatches = 2;

class DenseMinkUNet {
public:
    /// The denoiser's conditioning: given a gain level (0-3 before stage1-4, 4-7 before
    /// up1-4), the dense features and their grid level, the features to go on with.
    using Modulation = std::function<torch::Tensor(int gainLevel, const torch::Tensor& x,
                                                   const torch::Tensor& mask, int gridLevel)>;

    DenseMinkUNet(std::map<std::string, torch::Tensor> tensors, bool training,
                  Modulation modulate = {}, bool tanhOut = true)
        : m_t(std::move(tensors)),
          m_training(training),
          m_modulate(std::move(modulate)),
          m_tanh(tanhOut) {}

    /// xyz [P, 3] float64 metres, batch [P]: the per-point output [P, outChannels].
    torch::Tensor forward(const torch::Tensor& xyz, const torch::Tensor& batch) {
        // Quantise (round half to even, as LiDiff) and average xyz per voxel, densely.
        const auto vc = torch::round(xyz / kVoxel).to(torch::kLong) - kOrigin;
        const auto cell =
            ((batch * kSize[0] + vc.select(1, 0)) * kSize[1] + vc.select(1, 1)) * kSize[2] +
            vc.select(1, 2);
        auto sum = torch::zeros({kBatches, kSize[0], kSize[1], kSize[2], 3}, xyz.options());
        auto count = torch::zeros({kBatches, kSize[0], kSize[1], kSize[2], 1}, xyz.options());
        sum.view({-1, 3}).index_add_(0, cell, xyz);
        count.view({-1, 1}).index_add_(0, cell, torch::ones({xyz.size(0), 1}, xyz.options()));
        m_masks.assign(1, (count > 0).to(xyz.dtype()).permute({0, 4, 1, 2, 3}));
        for (int l = 1; l <= 4; ++l) m_masks.push_back(torch::max_pool3d(m_masks.back(), 2, 2));
        const auto voxels = (sum / count.clamp_min(1)).permute({0, 4, 1, 2, 3});

        std::array<torch::Tensor, 5> x;
        auto h = torch::relu(bn(conv3(voxels, "stem.0.kernel", 0), "stem.1.bn.", 0));
        x[0] = torch::relu(bn(conv3(h, "stem.3.kernel", 0), "stem.4.bn.", 0));
        for (int i = 0; i < 4; ++i) {
            const std::string s = "stage" + std::to_string(i + 1) + ".";
            // The gain feeds the stage only: the skip connection keeps the unmodulated x[i].
            const auto in = m_modulate ? m_modulate(i, x[i], m_masks[i], i) : x[i];
            auto d = torch::conv3d(in, toConvWeight(m_t.at(s + "0.net.0.kernel"), 2), {}, 2);
            d = torch::relu(bn(d * m_masks[i + 1], s + "0.net.1.bn.", i + 1));
            x[i + 1] = residual(residual(d, s + "1.", i + 1), s + "2.", i + 1);
        }
        auto y = x[4];
        for (int i = 0; i < 4; ++i) {
            const std::string s = "up" + std::to_string(i + 1) + ".";
            const int level = 3 - i;
            if (m_modulate) y = m_modulate(4 + i, y, m_masks[level + 1], level + 1);
            auto u =
                torch::conv_transpose3d(y, toConvTWeight(m_t.at(s + "0.net.0.kernel"), 2), {}, 2);
            u = torch::relu(bn(u * m_masks[level], s + "0.net.1.bn.", level));
            y = torch::cat({u, x[level]}, 1);  // [decoded, skip]
            y = residual(residual(y, s + "1.0.", level), s + "1.1.", level);
        }
        // Slice back to the points, then last = Linear, LeakyReLU(0.1), Linear; Tanh.
        auto perPoint = y.permute({0, 2, 3, 4, 1})
                            .index({batch, vc.select(1, 0), vc.select(1, 1), vc.select(1, 2)});
        auto a = torch::leaky_relu(
            torch::linear(perPoint, m_t.at("last.0.weight"), m_t.at("last.0.bias")), 0.1);
        const auto out = torch::linear(a, m_t.at("last.2.weight"), m_t.at("last.2.bias"));
        return m_tanh ? torch::tanh(out) : out;
    }

    /// Number of active sites per level (a plausibility check of the test data itself).
    std::int64_t active(int level) const { return m_masks[level].sum().item<std::int64_t>(); }

private:
    torch::Tensor conv3(const torch::Tensor& x, const std::string& name, int level) const {
        return torch::conv3d(x, toConvWeight(m_t.at(name), 3), {}, 1, 1) * m_masks[level];
    }

    // BN over the active sites only: batch statistics (biased variance) in training, the
    // running statistics otherwise; inactive sites stay zero.
    torch::Tensor bn(const torch::Tensor& x, const std::string& p, int level) const {
        const auto& mask = m_masks[level];
        const auto shape = std::vector<std::int64_t>{1, x.size(1), 1, 1, 1};
        torch::Tensor mean, var;
        if (m_training) {
            const auto n = mask.sum();
            mean = (x * mask).sum({0, 2, 3, 4}) / n;
            var = ((x - mean.view(shape)).pow(2) * mask).sum({0, 2, 3, 4}) / n;
        } else {
            mean = m_t.at(p + "running_mean");
            var = m_t.at(p + "running_var");
        }
        auto y = (x - mean.view(shape)) / torch::sqrt(var.view(shape) + 1e-5);
        return (y * m_t.at(p + "weight").view(shape) + m_t.at(p + "bias").view(shape)) * mask;
    }

    torch::Tensor residual(const torch::Tensor& x, const std::string& p, int level) const {
        auto h = torch::relu(bn(conv3(x, p + "net.0.kernel", level), p + "net.1.bn.", level));
        h = bn(conv3(h, p + "net.3.kernel", level), p + "net.4.bn.", level);
        torch::Tensor shortcut = x;
        if (m_t.count(p + "downsample.0.kernel")) {
            const auto& w = m_t.at(p + "downsample.0.kernel");  // [C_in, C_out]
            auto c = torch::conv3d(x, w.t().reshape({w.size(1), w.size(0), 1, 1, 1}));
            shortcut = bn(c * m_masks[level], p + "downsample.1.bn.", level);
        }
        return torch::relu(h + shortcut);
    }

    std::map<std::string, torch::Tensor> m_t;
    bool m_training;
    Modulation m_modulate;
    bool m_tanh;
    std::vector<torch::Tensor> m_masks;
};

// LiDiff's conditioning, written from reference 4.4 for the dense grid: for every active voxel
// of a level, the nearest encoder voxel (squared distance in ME units, same batch element;
// ties to the lexicographically lowest (b, x, y, z), the engine's documented rule), p =
// latent(E[nn]), tau = temp(emb(t)) with emb = [sin(t f), cos(t f)], f_i = exp(-i ln(1e4) /
// (half - 1)) in float32 as LiDiff computes it, and the gain latemp([p, tau]) ([tau, p] at up1) multiplied onto the features.
struct DenseCondition {
    std::map<std::string, torch::Tensor>* t;
    torch::Tensor encCoords;  // [M, 4] ME units, sorted lexicographically
    torch::Tensor encFeats;   // [M, C4], the same order
    torch::Tensor steps;      // [B] diffusion steps
    std::int64_t embedDim;

    static torch::Tensor mlp(const std::map<std::string, torch::Tensor>& t, const std::string& n,
                             const torch::Tensor& x) {
        auto h = torch::leaky_relu(torch::linear(x, t.at(n + ".0.weight"), t.at(n + ".0.bias")),
                                   0.1);
        return torch::linear(h, t.at(n + ".2.weight"), t.at(n + ".2.bias"));
    }

    torch::Tensor operator()(int g, const torch::Tensor& x, const torch::Tensor& mask,
                             int gridLevel) const {
        static const char* kLevels[8] = {"stage1", "stage2", "stage3", "stage4",
                                         "up1",    "up2",    "up3",    "up4"};
        const std::string lv = kLevels[g];
        const auto active = mask.select(1, 0).nonzero();  // [n, 4]: b, i, j, k
        const std::int64_t stride = std::int64_t{1} << gridLevel;
        auto me = active.clone();
        me.slice(1, 1, 4).add_(kOrigin / stride).mul_(stride);
        // In float32, as LiDiff's get_timestep_embedding computes it, then widened.
        const std::int64_t half = embedDim / 2;
        const auto f = torch::exp(torch::arange(half, torch::kFloat) *
                                  static_cast<float>(-std::log(10000.0) / double(half - 1)));
        const auto arg = steps.to(torch::kFloat).unsqueeze(1) * f.unsqueeze(0);
        const auto emb = torch::cat({torch::sin(arg), torch::cos(arg)}, 1).to(torch::kDouble);
        const auto tau = mlp(*t, lv + "_temp", emb);  // [B, C4]
        auto gained = x.clone();
        for (std::int64_t r = 0; r < active.size(0); ++r) {
            const auto b = me[r][0].item<std::int64_t>();
            const auto same = encCoords.select(1, 0).eq(b);
            auto d = (encCoords.slice(1, 1, 4) - me[r].slice(0, 1, 4)).to(torch::kDouble).pow(2).sum(1);
            d = torch::where(same, d, torch::full_like(d, 1e30));
            const auto nn = torch::argmin(d).item<std::int64_t>();  // first of the minima
            const auto p = mlp(*t, "latent_" + lv, encFeats[nn].unsqueeze(0));
            const auto tb = tau[b].unsqueeze(0);
            const auto gain = mlp(*t, "latemp_" + lv, g == 4 ? torch::cat({tb, p}, 1)
                                                             : torch::cat({p, tb}, 1));
            const auto i = active[r][1].item<std::int64_t>(), j = active[r][2].item<std::int64_t>(),
                       k = active[r][3].item<std::int64_t>();
            gained.index_put_({b, torch::indexing::Slice(), i, j, k},
                              x.index({b, torch::indexing::Slice(), i, j, k}) * gain[0]);
        }
        return gained;
    }
};

// Every parameter's gradient in `net` equals the dense copy's, relative to the largest
// gradient of that tensor (or a thousandth of the largest overall).
void expectSameGradients(torch::nn::Module& net, const std::map<std::string, torch::Tensor>& copies,
                         const std::string& mode, double tolerance) {
    double global = 0;
    for (const auto& [name, t] : copies) {
        if (t.requires_grad()) global = std::max(global, t.grad().abs().max().item<double>());
    }
    ASSERT_GT(global, 0.0);
    for (const auto& p : net.named_parameters(true)) {
        const auto& g = copies.at(p.key()).grad();
        ASSERT_TRUE(g.defined() && p.value().grad().defined()) << p.key();
        const double scale = std::max(g.abs().max().item<double>(), 1e-3 * global);
        const double err = (p.value().grad() - g).abs().max().item<double>() / scale;
        EXPECT_LT(err, tolerance) << mode << ": gradient of " << p.key();
    }
}

TEST(NetworkDense, MinkUNetEqualsAMaskedDenseUNetWithTheSameWeights) {
    torch::manual_seed(17);
    MinkUNet net(0.125, 3, 18);
    net->to(torch::kDouble);
    {
        // Non-trivial BN parameters and statistics; kernels a bit larger than ME's init so
        // that the signal does not fade through the 30 layers.
        torch::NoGradGuard guard;
        for (auto& p : net->named_parameters(true)) {
            if (p.key().find(".bn.weight") != std::string::npos)
                p.value().uniform_(0.5, 1.5);
            else if (p.key().find(".bn.bias") != std::string::npos)
                p.value().normal_(0, 0.2);
            else if (p.key().find("kernel") != std::string::npos)
                p.value().mul_(2.0);
        }
        for (auto& b : net->named_buffers(true)) {
            if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.2);
            if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
        }
    }
    // Points (voxel 1 m) in x, y in [-11.4, 11.4], z in [-15.4, -0.6]: negative and positive
    // coordinates, several points per voxel in places, two batch elements.
    auto xyz = (torch::rand({300, 3}, torch::kDouble) * 2.0 - 1.0) * 11.4;
    xyz.select(1, 2).mul_(7.4 / 11.4).sub_(8.0);
    const auto batch =
        torch::cat({torch::zeros({170}, torch::kLong), torch::ones({130}, torch::kLong)});
    const auto r = torch::randn({300, 18}, torch::kDouble);

    for (const bool training : {true, false}) {
        const std::string mode = training ? "training" : "eval";
        net->train(training);
        net->zero_grad();
        std::map<std::string, torch::Tensor> copies;  // the dense net's own leaf tensors
        for (const auto& p : net->named_parameters(true)) {
            copies[p.key()] = p.value().detach().clone().requires_grad_(true);
        }
        for (const auto& b : net->named_buffers(true)) copies[b.key()] = b.value().detach().clone();

        DenseMinkUNet dense(copies, training);
        const auto ref = dense.forward(xyz, batch);
        ASSERT_GE(dense.active(4), 4) << "the test cloud should keep several coarse voxels";
        const auto out = net(sparse::pointsToVoxels(xyz, batch, xyz, kVoxel));
        ASSERT_EQ(out.sizes(), ref.sizes());
        EXPECT_GT(ref.std().item<double>(), 1e-2) << mode << ": degenerate reference output";
        EXPECT_LT(relErr(out, ref), 1e-9) << mode;

        (out * r).sum().backward();
        (ref * r).sum().backward();
        expectSameGradients(*net, copies, mode, 1e-9);
    }
}

// The denoiser: the same dense U-Net with the conditioning of reference 4.4 at all eight levels
// (nearest encoder voxel, latent and time MLPs, their concatenation, [tau, p] at up1, the raw
// gain), against MinkUNetDiff with the same weights and a real encoder output as condition.
TEST(NetworkDense, MinkUNetDiffEqualsADenseUNetWithLiDiffsConditioning) {
    constexpr double kEmbedTol = 1e-6;
    torch::manual_seed(23);
    const double width = 0.125;
    MinkUNetDiff net(width, 3);
    MinkGlobalEnc enc(width, 3);
    net->to(torch::kDouble);
    enc->to(torch::kDouble);
    {
        torch::NoGradGuard guard;
        for (auto& p : net->named_parameters(true)) {
            if (p.key().find(".bn.weight") != std::string::npos)
                p.value().uniform_(0.5, 1.5);
            else if (p.key().find(".bn.bias") != std::string::npos)
                p.value().normal_(0, 0.2);
            else if (p.key().find("kernel") != std::string::npos)
                p.value().mul_(2.0);
            else if (p.key().find("latemp") != std::string::npos && p.key().find(".2.bias") !=
                                                                        std::string::npos)
                p.value().add_(1.0);  // gains around 1: the signal survives eight of them
        }
    }
    auto xyz = (torch::rand({300, 3}, torch::kDouble) * 2.0 - 1.0) * 11.4;
    xyz.select(1, 2).mul_(7.4 / 11.4).sub_(8.0);
    const auto batch =
        torch::cat({torch::zeros({170}, torch::kLong), torch::ones({130}, torch::kLong)});
    // The condition: the encoder on another cloud of the same two elements.
    auto pxyz = (torch::rand({200, 3}, torch::kDouble) * 2.0 - 1.0) * 11.4;
    pxyz.select(1, 2).mul_(7.4 / 11.4).sub_(8.0);
    const auto pbatch =
        torch::cat({torch::zeros({100}, torch::kLong), torch::ones({100}, torch::kLong)});
    enc->eval();
    sparse::SparseTensor cond;
    {
        torch::NoGradGuard guard;
        cond = enc(sparse::pointsToVoxels(pxyz, pbatch, pxyz, kVoxel).voxels);
    }
    const auto steps = torch::tensor({37, 801}, torch::kLong);
    const auto r = torch::randn({300, 3}, torch::kDouble);

    for (const bool training : {true, false}) {
        const std::string mode = training ? "training" : "eval";
        net->train(training);
        net->zero_grad();
        std::map<std::string, torch::Tensor> copies;
        for (const auto& p : net->named_parameters(true)) {
            copies[p.key()] = p.value().detach().clone().requires_grad_(true);
        }
        for (const auto& b : net->named_buffers(true)) copies[b.key()] = b.value().detach().clone();
        // Encoder rows in lexicographic (b, x, y, z) order, for the tie rule.
        const auto me = cond.meCoords().to(torch::kLong);
        const auto key = ((me.select(1, 0) * 4096 + me.select(1, 1) + 2048) * 4096 +
                          me.select(1, 2) + 2048) * 4096 + me.select(1, 3) + 2048;
        const auto order = std::get<1>(key.sort());
        DenseCondition condition{&copies, me.index_select(0, order),
                                 cond.feats.detach().index_select(0, order), steps,
                                 net->timeEmbedding(steps).size(1)};
        DenseMinkUNet dense(copies, training, condition, false);
        const auto ref = dense.forward(xyz, batch);
        const auto out = net(sparse::pointsToVoxels(xyz, batch, xyz, kVoxel), cond, steps);
        ASSERT_EQ(out.sizes(), ref.sizes());
        EXPECT_GT(ref.std().item<double>(), 1e-2) << mode << ": degenerate reference output";
        // The time embedding is float32 on both sides (as in LiDiff); its last-bit rounding
        // leaves ~1e-8. A wiring error is of order 1e-2 or more (a modulated skip: 0.1).
        EXPECT_LT(relErr(out, ref), kEmbedTol) << mode;

        (out * r).sum().backward();
        (ref * r).sum().backward();
        expectSameGradients(*net, copies, mode, kEmbedTol);
    }
}

}  // namespace
}  // namespace lidistill::ml::nets
