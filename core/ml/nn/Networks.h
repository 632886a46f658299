#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml: the LiDiff networks on our sparse engine, with
// MinkowskiEngine / LiDiff state-dict names (lidiff-family.md 4 and 9), so converted
// checkpoints load by name.
//
//   points --quantise(0.05 m, mean xyz)--> stem (2x conv3, 32) = x0       stride 1
//     x0 *g0 -> stage1: conv2/s2 + 2 res -> x1 (32)                      stride 2
//     x1 *g1 -> stage2                   -> x2 (64)                      stride 4
//     x2 *g2 -> stage3                   -> x3 (128)                     stride 8
//     x3 *g3 -> stage4                   -> x4 (256)                     stride 16
//     x4 *g4 -> up1: convT2 + cat x3 + 2 res -> y1 (256)                 stride 8
//     y1 *g5 -> up2: convT2 + cat x2 + 2 res -> y2 (128)                 stride 4
//     y2 *g6 -> up3: convT2 + cat x1 + 2 res -> y3 (96)                  stride 2
//     y3 *g7 -> up4: convT2 + cat x0 + 2 res -> y4 (96)                  stride 1
//   slice to points -> last: Linear(96,20) LeakyReLU(0.1) Linear(20,3)
// g_l = latemp_l(cat(latent_l(E[nn]), temp_l(emb(t)))) ([temp, latent] at up1), E = the
// partial-scan encoder output (MinkGlobalEnc = stem + stage1..4), nn = nearest encoder voxel.
// MinkUNet (refiner) is the same U-Net without any g_l and with a Tanh after `last`.
// Channel widths are int(width * {32, 32, 64, 128, 256, 256, 128, 96, 96}).

#include "core/ml/engine/SparseOps.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace lidistill::ml::nets {

using sparse::SparseTensor;
using sparse::TensorField;

/// Channel plan for a width multiplier (Python's int(cr * c), i.e. truncation).
std::array<std::int64_t, 9> channelPlan(double width);

/// nn.Sequential stand-in: children named "0", "1", ... with gaps where LiDiff has
/// parameter-free layers (ReLU), so that state-dict names match.
class IndexedImpl : public torch::nn::Module {
public:
    template <typename M>
    M add(int index, M module) {
        return register_module(std::to_string(index), module);
    }
};
TORCH_MODULE(Indexed);

/// ME convolution: parameter `kernel` [K, C_in, C_out] ([C_in, C_out] for ks = 1), no bias.
/// ks 3 stride 1 = submanifold; ks 2 stride 2 = down; transposed ks 2 stride 2 = up.
class MeConvImpl : public torch::nn::Module {
public:
    MeConvImpl(std::int64_t inC, std::int64_t outC, int kernelSize, bool transposed = false);
    SparseTensor forward(const SparseTensor& x);
    torch::Tensor kernel;

private:
    int m_kernelSize;
    bool m_transposed;
};
TORCH_MODULE(MeConv);

/// ME batch norm: a BatchNorm1d named `bn` over the rows.
class MeBatchNormImpl : public torch::nn::Module {
public:
    explicit MeBatchNormImpl(std::int64_t channels);
    SparseTensor forward(const SparseTensor& x);
    torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(MeBatchNorm);

/// conv(ks 2, s 2) or transposed conv, BN, ReLU: `net.0`, `net.1`.
class BasicBlockImpl : public torch::nn::Module {
public:
    BasicBlockImpl(std::int64_t inC, std::int64_t outC, bool transposed);
    SparseTensor forward(const SparseTensor& x);

private:
    MeConv m_conv{nullptr};
    MeBatchNorm m_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

/// ReLU(BN(conv3(ReLU(BN(conv3 x)))) + shortcut x); shortcut = BN(conv1 x) when channels change.
class ResidualBlockImpl : public torch::nn::Module {
public:
    ResidualBlockImpl(std::int64_t inC, std::int64_t outC);
    SparseTensor forward(const SparseTensor& x);

private:
    MeConv m_conv1{nullptr}, m_conv2{nullptr}, m_down{nullptr};
    MeBatchNorm m_bn1{nullptr}, m_bn2{nullptr}, m_downBn{nullptr};
};
TORCH_MODULE(ResidualBlock);

/// Linear, LeakyReLU(0.1), Linear: `.0` and `.2`.
class MlpImpl : public torch::nn::Module {
public:
    MlpImpl(std::int64_t inC, std::int64_t hidden, std::int64_t outC);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Linear m_a{nullptr}, m_b{nullptr};
};
TORCH_MODULE(Mlp);

/// stem + stage1..4, shared by the three networks (registered on the owner, so names are
/// top-level: stem.0.kernel, stage1.0.net.0.kernel, ...).
struct Encoder {
    MeConv stem0{nullptr}, stem3{nullptr};
    MeBatchNorm stem1{nullptr}, stem4{nullptr};
    std::vector<BasicBlock> down;
    std::vector<ResidualBlock> res;  // stage i: res[2 i], res[2 i + 1]

    void build(torch::nn::Module& owner, const std::array<std::int64_t, 9>& cs, std::int64_t inC);
    SparseTensor stem(const SparseTensor& x);
    SparseTensor stage(int i, const SparseTensor& x);  // i = 0..3
};

/// up_i: `up{i}.0` transposed block, `up{i}.1.{0,1}` residual blocks.
struct Decoder {
    std::vector<BasicBlock> up;
    std::vector<ResidualBlock> res;  // stage i: res[2 i], res[2 i + 1]

    void build(torch::nn::Module& owner, const std::array<std::int64_t, 9>& cs);
    /// convT, cat [decoded, skip], two residual blocks.
    SparseTensor stage(int i, const SparseTensor& x, const SparseTensor& skip);
};

/// Partial-scan condition encoder. Output: stride 16, cs[4] channels.
class MinkGlobalEncImpl : public torch::nn::Module {
public:
    explicit MinkGlobalEncImpl(double width = 1.0, std::int64_t inChannels = 3);
    SparseTensor forward(const SparseTensor& voxels);
    /// The stem alone (two conv3-BN-ReLU), for checks against independent references.
    SparseTensor stem(const SparseTensor& voxels) { return m_enc.stem(voxels); }

private:
    Encoder m_enc;
};
TORCH_MODULE(MinkGlobalEnc);

/// LiDiff denoiser. forward returns the per-point noise prediction [P, 3].
class MinkUNetDiffImpl : public torch::nn::Module {
public:
    explicit MinkUNetDiffImpl(double width = 1.0, std::int64_t inChannels = 3);
    /// @param field the noisy points quantised (features = mean xyz);
    /// @param condition MinkGlobalEnc output of the partial scans (same batch indices);
    /// @param t diffusion step per batch element, [B] (raw 0..999, as LiDiff).
    torch::Tensor forward(const TensorField& field, const SparseTensor& condition,
                          const torch::Tensor& t);
    /// LiDiff's sinusoidal embedding [B, embedDim]: [sin(t f), cos(t f)], f_i = 10000^(-i/(h-1)).
    torch::Tensor timeEmbedding(const torch::Tensor& t) const;

private:
    torch::Tensor gain(int level, const SparseTensor& h, const SparseTensor& condition,
                       const torch::Tensor& emb,
                       std::map<std::int64_t, torch::Tensor>& nearestByStride);
    std::int64_t m_embedDim;
    Encoder m_enc;
    Decoder m_dec;
    std::vector<Mlp> m_latent, m_temp, m_latemp;  // one per level, 8 each
    Mlp m_last{nullptr};
};
TORCH_MODULE(MinkUNetDiff);

/// LiDiff refinement U-Net; forward returns tanh(last(...)) per point, [P, outChannels].
class MinkUNetImpl : public torch::nn::Module {
public:
    explicit MinkUNetImpl(double width = 1.0, std::int64_t inChannels = 3,
                          std::int64_t outChannels = 18);
    torch::Tensor forward(const TensorField& field);

private:
    Encoder m_enc;
    Decoder m_dec;
    Mlp m_last{nullptr};
};
TORCH_MODULE(MinkUNet);

/// Number of trainable parameters (what the reference counts).
std::int64_t parameterCount(const torch::nn::Module& module);

}  // namespace lidistill::ml::nets
