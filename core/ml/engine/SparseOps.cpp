// SPDX-License-Identifier: MIT
#include "core/ml/engine/SparseOps.h"

#include "core/base/Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace lidistill::ml::sparse {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out[rows[i]] += src[i]. Rows are unique within one kernel offset, so the CPU loop is
// conflict-free in parallel and deterministic; libtorch's index_add_ elsewhere.
void scatterAddRows(torch::Tensor& out, const torch::Tensor& rows, const torch::Tensor& src) {
    if (rows.size(0) == 0) return;
    if (!out.is_cpu() || portablePath() || !out.is_contiguous() || !src.is_contiguous()) {
        out.index_add_(0, rows, src);
        return;
    }
    const std::int64_t n = rows.size(0), c = src.size(1);
    const std::int64_t* r = rows.data_ptr<std::int64_t>();
    AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "scatterAddRows", [&] {
        scalar_t* o = out.data_ptr<scalar_t>();
        const scalar_t* s = src.data_ptr<scalar_t>();
        at::parallel_for(0, n, 2048 / std::max<std::int64_t>(c / 16, 1) + 1,
                         [&](std::int64_t b, std::int64_t e) {
                             for (std::int64_t i = b; i < e; ++i) {
                                 scalar_t* dst = o + r[i] * c;
                                 const scalar_t* sp = s + i * c;
                                 for (std::int64_t j = 0; j < c; ++j) dst[j] += sp[j];
                             }
                         });
    });
}

torch::Tensor gatherRows(const torch::Tensor& x, const torch::Tensor& rows) {
    return x.index_select(0, rows);
}

struct ConvFunction : public torch::autograd::Function<ConvFunction> {
    // Maps are passed as tensors and ints so that they can live in ctx->saved_data.
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& feats,
                                 const torch::Tensor& weight, const torch::Tensor& inIdx,
                                 const torch::Tensor& outIdx, std::vector<std::int64_t> offsets,
                                 std::int64_t nOut, std::int64_t identityOffset) {
        ctx->save_for_backward({feats, weight});
        ctx->saved_data["in"] = inIdx;
        ctx->saved_data["out"] = outIdx;
        ctx->saved_data["offsets"] = offsets;
        ctx->saved_data["identity"] = identityOffset;
        const auto x = feats.contiguous();
        auto out = torch::zeros({nOut, weight.size(2)}, feats.options());
        for (std::size_t k = 0; k + 1 < offsets.size(); ++k) {
            const std::int64_t b = offsets[k], e = offsets[k + 1];
            if (b == e) continue;
            const auto w = weight[static_cast<std::int64_t>(k)];
            if (static_cast<std::int64_t>(k) == identityOffset) {
                out.addmm_(x, w);
                continue;
            }
            auto prod = gatherRows(x, inIdx.slice(0, b, e)).mm(w);
            scatterAddRows(out, outIdx.slice(0, b, e), prod);
        }
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& feats = saved[0];
        const auto& weight = saved[1];
        const auto inIdx = ctx->saved_data["in"].toTensor();
        const auto outIdx = ctx->saved_data["out"].toTensor();
        const auto offsets = ctx->saved_data["offsets"].toIntVector();
        const auto identity = ctx->saved_data["identity"].toInt();
        const auto dy = grads[0].contiguous();
        const auto x = feats.contiguous();
        const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
        torch::Tensor dx = needX ? torch::zeros_like(x) : torch::Tensor();
        torch::Tensor dw = needW ? torch::zeros_like(weight) : torch::Tensor();
        for (std::size_t k = 0; k + 1 < offsets.size(); ++k) {
            const std::int64_t b = offsets[k], e = offsets[k + 1];
            if (b == e) continue;
            const auto ki = static_cast<std::int64_t>(k);
            const auto w = weight[ki];
            if (ki == identity) {
                if (needX) dx.addmm_(dy, w.t());
                if (needW) dw[ki].copy_(x.t().mm(dy));
                continue;
            }
            const auto in = inIdx.slice(0, b, e), out = outIdx.slice(0, b, e);
            auto dyk = gatherRows(dy, out);
            if (needX) scatterAddRows(dx, in, dyk.mm(w.t()).contiguous());
            if (needW) dw[ki].copy_(gatherRows(x, in).t().mm(dyk));
        }
        return {dx,
                dw,
                torch::Tensor(),
                torch::Tensor(),
                torch::Tensor(),
                torch::Tensor(),
                torch::Tensor()};
    }
};

}  // namespace

torch::Tensor sparseConvolution(const torch::Tensor& feats, const torch::Tensor& weight,
                                const KernelMap& map, bool transposed) {
    const std::int64_t nIn = transposed ? map.nOut : map.nIn;
    const std::int64_t nOut = transposed ? map.nIn : map.nOut;
    if (feats.dim() != 2 || feats.size(0) != nIn) {
        throw InvalidArgument("sparse convolution: features have " +
                              std::to_string(feats.dim() == 2 ? feats.size(0) : -1) +
                              " rows, the kernel map expects " + std::to_string(nIn));
    }
    if (weight.dim() != 3 || weight.size(0) != map.kernelVolume ||
        weight.size(1) != feats.size(1)) {
        throw InvalidArgument("sparse convolution: weight must be [" +
                              std::to_string(map.kernelVolume) + ", " +
                              std::to_string(feats.size(1)) + ", C_out]");
    }
    if (weight.device() != feats.device() || map.inIdx.device() != feats.device()) {
        throw InvalidArgument("sparse convolution: features (" + feats.device().str() +
                              "), weight (" + weight.device().str() + ") and coordinates (" +
                              map.inIdx.device().str() + ") must be on one device");
    }
    const auto& in = transposed ? map.outIdx : map.inIdx;
    const auto& out = transposed ? map.inIdx : map.outIdx;
    return ConvFunction::apply(feats, weight, in, out, map.offsets, nOut, map.identityOffset);
}

SparseTensor submanifoldConv(const SparseTensor& x, const torch::Tensor& weight,
                             std::int64_t dilation) {
    std::int64_t ks = 1;
    while (ks * ks * ks < weight.size(0)) ++ks;
    auto map = x.manager->submanifoldMap(x.stride, ks, dilation);
    return x.withFeats(sparseConvolution(x.feats, weight, *map, false));
}

SparseTensor downsampleConv(const SparseTensor& x, const torch::Tensor& weight) {
    auto map = x.manager->downsampleMap(x.stride);
    return SparseTensor{sparseConvolution(x.feats, weight, *map, false), x.manager, x.stride * 2};
}

SparseTensor upsampleConv(const SparseTensor& x, const torch::Tensor& weight) {
    if (x.stride < 2) {
        throw InvalidArgument("transposed convolution needs a tensor stride of at least 2");
    }
    auto map = x.manager->downsampleMap(x.stride / 2);
    return SparseTensor{sparseConvolution(x.feats, weight, *map, true), x.manager, x.stride / 2};
}

SparseTensor pointwiseConv(const SparseTensor& x, const torch::Tensor& weight) {
    if (weight.dim() != 2 || weight.size(0) != x.channels()) {
        throw InvalidArgument("1x1 convolution weight must be [C_in, C_out]");
    }
    return x.withFeats(x.feats.mm(weight));
}

SparseTensor relu(const SparseTensor& x) {
    return x.withFeats(torch::relu(x.feats));
}

SparseTensor leakyRelu(const SparseTensor& x, double slope) {
    return x.withFeats(torch::leaky_relu(x.feats, slope));
}

SparseTensor concat(const SparseTensor& a, const SparseTensor& b) {
    if (a.manager != b.manager || a.stride != b.stride) {
        throw InvalidArgument("concat needs two tensors on the same coordinates");
    }
    return a.withFeats(torch::cat({a.feats, b.feats}, 1));
}

}  // namespace lidistill::ml::sparse
