// SPDX-License-Identifier: MIT
#include "core/ml/nn/Networks.h"

#include "core/base/Error.h"

#include <cmath>

namespace lidistill::ml::nets {

std::array<std::int64_t, 9> channelPlan(double width) {
    if (!(width > 0.0) || width > 8.0) {
        throw InvalidArgument("width multiplier must be in (0, 8]");
    }
    constexpr std::array<std::int64_t, 9> base{32, 32, 64, 128, 256, 256, 128, 96, 96};
    std::array<std::int64_t, 9> cs{};
    for (std::size_t i = 0; i < base.size(); ++i) {
        cs[i] = static_cast<std::int64_t>(width * static_cast<double>(base[i]));
        if (cs[i] < 2) throw InvalidArgument("width multiplier too small");
    }
    return cs;
}

MeConvImpl::MeConvImpl(std::int64_t inC, std::int64_t outC, int kernelSize, bool transposed)
    : m_kernelSize(kernelSize), m_transposed(transposed) {
    const std::int64_t kVol = std::int64_t{kernelSize} * kernelSize * kernelSize;
    kernel = register_parameter(
        "kernel", kernelSize == 1 ? torch::empty({inC, outC}) : torch::empty({kVol, inC, outC}));
    // MinkowskiEngine's reset_parameters: U(+-1/sqrt(n)), n = fan (C_out for transposed) * K.
    const double stdv = 1.0 / std::sqrt(static_cast<double>((transposed ? outC : inC) * kVol));
    torch::NoGradGuard guard;
    kernel.uniform_(-stdv, stdv);
}

SparseTensor MeConvImpl::forward(const SparseTensor& x) {
    if (m_kernelSize == 1) return sparse::pointwiseConv(x, kernel);
    if (m_kernelSize == 2) {
        return m_transposed ? sparse::upsampleConv(x, kernel) : sparse::downsampleConv(x, kernel);
    }
    return sparse::submanifoldConv(x, kernel);
}

MeBatchNormImpl::MeBatchNormImpl(std::int64_t channels) {
    bn = register_module("bn", torch::nn::BatchNorm1d(
                                   torch::nn::BatchNormOptions(channels).eps(1e-5).momentum(0.1)));
}

SparseTensor MeBatchNormImpl::forward(const SparseTensor& x) {
    return x.withFeats(bn(x.feats));
}

BasicBlockImpl::BasicBlockImpl(std::int64_t inC, std::int64_t outC, bool transposed) {
    auto net = register_module("net", Indexed());
    m_conv = net->add(0, MeConv(inC, outC, 2, transposed));
    m_bn = net->add(1, MeBatchNorm(outC));
}

SparseTensor BasicBlockImpl::forward(const SparseTensor& x) {
    return sparse::relu(m_bn(m_conv(x)));
}

ResidualBlockImpl::ResidualBlockImpl(std::int64_t inC, std::int64_t outC) {
    auto net = register_module("net", Indexed());
    m_conv1 = net->add(0, MeConv(inC, outC, 3));
    m_bn1 = net->add(1, MeBatchNorm(outC));
    m_conv2 = net->add(3, MeConv(outC, outC, 3));
    m_bn2 = net->add(4, MeBatchNorm(outC));
    if (inC != outC) {
        auto ds = register_module("downsample", Indexed());
        m_down = ds->add(0, MeConv(inC, outC, 1));
        m_downBn = ds->add(1, MeBatchNorm(outC));
    }
}

SparseTensor ResidualBlockImpl::forward(const SparseTensor& x) {
    auto y = m_bn2(m_conv2(sparse::relu(m_bn1(m_conv1(x)))));
    auto shortcut = m_down ? m_downBn(m_down(x)).feats : x.feats;
    return y.withFeats(torch::relu(y.feats + shortcut));
}

MlpImpl::MlpImpl(std::int64_t inC, std::int64_t hidden, std::int64_t outC) {
    m_a = register_module("0", torch::nn::Linear(inC, hidden));
    m_b = register_module("2", torch::nn::Linear(hidden, outC));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    return m_b(torch::leaky_relu(m_a(x), 0.1));
}

void Encoder::build(torch::nn::Module& owner, const std::array<std::int64_t, 9>& cs,
                    std::int64_t inC) {
    auto stemSeq = owner.register_module("stem", Indexed());
    stem0 = stemSeq->add(0, MeConv(inC, cs[0], 3));
    stem1 = stemSeq->add(1, MeBatchNorm(cs[0]));
    stem3 = stemSeq->add(3, MeConv(cs[0], cs[0], 3));
    stem4 = stemSeq->add(4, MeBatchNorm(cs[0]));
    for (int i = 0; i < 4; ++i) {
        auto seq = owner.register_module("stage" + std::to_string(i + 1), Indexed());
        down.push_back(seq->add(0, BasicBlock(cs[i], cs[i], false)));
        res.push_back(seq->add(1, ResidualBlock(cs[i], cs[i + 1])));
        res.push_back(seq->add(2, ResidualBlock(cs[i + 1], cs[i + 1])));
    }
}

SparseTensor Encoder::stem(const SparseTensor& x) {
    auto h = sparse::relu(stem1(stem0(x)));
    return sparse::relu(stem4(stem3(h)));
}

SparseTensor Encoder::stage(int i, const SparseTensor& x) {
    return res[2 * i + 1](res[2 * i](down[i](x)));
}

void Decoder::build(torch::nn::Module& owner, const std::array<std::int64_t, 9>& cs) {
    // up_i: cs[4 + i] -> cs[5 + i], concatenated with the skip of cs[3 - i] channels.
    for (int i = 0; i < 4; ++i) {
        auto list = owner.register_module("up" + std::to_string(i + 1), Indexed());
        up.push_back(list->add(0, BasicBlock(cs[4 + i], cs[5 + i], true)));
        auto seq = list->add(1, Indexed());
        res.push_back(seq->add(0, ResidualBlock(cs[5 + i] + cs[3 - i], cs[5 + i])));
        res.push_back(seq->add(1, ResidualBlock(cs[5 + i], cs[5 + i])));
    }
}

SparseTensor Decoder::stage(int i, const SparseTensor& x, const SparseTensor& skip) {
    auto y = sparse::concat(up[i](x), skip);
    return res[2 * i + 1](res[2 * i](y));
}

MinkGlobalEncImpl::MinkGlobalEncImpl(double width, std::int64_t inChannels) {
    m_enc.build(*this, channelPlan(width), inChannels);
}

SparseTensor MinkGlobalEncImpl::forward(const SparseTensor& voxels) {
    auto x = m_enc.stem(voxels);
    for (int i = 0; i < 4; ++i) x = m_enc.stage(i, x);
    return x;
}

MinkUNetDiffImpl::MinkUNetDiffImpl(double width, std::int64_t inChannels) {
    const auto cs = channelPlan(width);
    m_embedDim = cs[8];
    m_enc.build(*this, cs, inChannels);
    // Registration order follows LiDiff's __init__ (state-dict order), modules per level.
    static const char* kLevels[8] = {"stage1", "stage2", "stage3", "stage4",
                                     "up1",    "up2",    "up3",    "up4"};
    const std::array<std::int64_t, 8> hidden{cs[4], cs[4], cs[4], cs[4],
                                             cs[4], cs[5], cs[6], cs[7]};
    const std::array<std::int64_t, 8> gainC{cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7]};
    for (int l = 0; l < 8; ++l) {
        const std::string lv = kLevels[l];
        m_latent.push_back(register_module("latent_" + lv, Mlp(cs[4], cs[4], cs[4])));
        m_latemp.push_back(register_module("latemp_" + lv, Mlp(2 * cs[4], hidden[l], gainC[l])));
        m_temp.push_back(register_module(lv + "_temp", Mlp(m_embedDim, m_embedDim, cs[4])));
    }
    m_dec.build(*this, cs);
    m_last = register_module("last", Mlp(cs[8], 20, 3));
}

torch::Tensor MinkUNetDiffImpl::timeEmbedding(const torch::Tensor& t) const {
    const std::int64_t half = m_embedDim / 2;
    auto i = torch::arange(half, torch::kDouble);
    auto freq = torch::exp(i * (-std::log(10000.0) / static_cast<double>(half - 1)));
    auto arg =
        t.to(torch::kFloat).unsqueeze(1) * freq.to(torch::kFloat).to(t.device()).unsqueeze(0);
    auto emb = torch::cat({torch::sin(arg), torch::cos(arg)}, 1);
    if (m_embedDim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1}, 0);
    return emb;
}

torch::Tensor MinkUNetDiffImpl::gain(int level, const SparseTensor& h,
                                     const SparseTensor& condition, const torch::Tensor& emb,
                                     std::map<std::int64_t, torch::Tensor>& nearestByStride) {
    // LiDiff evaluates latent/latemp on every row of h after gathering E[nn]. Both MLPs are
    // row-wise and nn only selects encoder rows of the row's own batch element, so evaluating
    // them once per encoder row and gathering is exactly the same function at a fraction of
    // the cost (sparse-conv.md 1.5).
    // The decoder's levels sit on the encoder's coordinates (transposed convolutions land on
    // existing rows), so 8 gains need 5 lookups.
    auto& nn = nearestByStride[h.stride];
    if (!nn.defined()) nn = sparse::nearestEncoderRows(h, condition);
    auto p = m_latent[level](condition.feats);
    auto encBatch = condition.coords().select(1, 0).to(torch::kLong).to(p.device());
    auto tau = m_temp[level](emb).to(p.dtype()).index_select(0, encBatch);
    auto table = m_latemp[level](level == 4 ? torch::cat({tau, p}, 1) : torch::cat({p, tau}, 1));
    return table.index_select(0, nn);
}

torch::Tensor MinkUNetDiffImpl::forward(const TensorField& field, const SparseTensor& condition,
                                        const torch::Tensor& t) {
    if (t.dim() != 1 || t.size(0) < field.voxels.manager->batchSize()) {
        throw InvalidArgument("denoiser: need one diffusion step per batch element");
    }
    // t may come from the host (one step per element): the embedding follows the features.
    const auto& feats = field.voxels.feats;
    auto emb = timeEmbedding(t.to(feats.device())).to(feats.dtype());
    std::map<std::int64_t, torch::Tensor> nearest;
    std::array<SparseTensor, 5> x;
    x[0] = m_enc.stem(field.voxels);
    for (int i = 0; i < 4; ++i) {
        auto g = gain(i, x[i], condition, emb, nearest);
        x[i + 1] = m_enc.stage(i, x[i].withFeats(x[i].feats * g));
    }
    SparseTensor y = x[4];
    for (int i = 0; i < 4; ++i) {
        auto g = gain(4 + i, y, condition, emb, nearest);
        y = m_dec.stage(i, y.withFeats(y.feats * g), x[3 - i]);
    }
    return m_last(sparse::voxelsToPoints(y, field));
}

MinkUNetImpl::MinkUNetImpl(double width, std::int64_t inChannels, std::int64_t outChannels) {
    const auto cs = channelPlan(width);
    m_enc.build(*this, cs, inChannels);
    m_dec.build(*this, cs);
    m_last = register_module("last", Mlp(cs[8], 20, outChannels));
}

torch::Tensor MinkUNetImpl::forward(const TensorField& field) {
    std::array<SparseTensor, 5> x;
    x[0] = m_enc.stem(field.voxels);
    for (int i = 0; i < 4; ++i) x[i + 1] = m_enc.stage(i, x[i]);
    SparseTensor y = x[4];
    for (int i = 0; i < 4; ++i) y = m_dec.stage(i, y, x[3 - i]);
    return torch::tanh(m_last(sparse::voxelsToPoints(y, field)));
}

std::int64_t parameterCount(const torch::nn::Module& module) {
    std::int64_t n = 0;
    for (const auto& p : module.parameters()) n += p.numel();
    return n;
}

}  // namespace lidistill::ml::nets
