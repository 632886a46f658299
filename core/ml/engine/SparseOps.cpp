// SPDX-License-Identifier: MIT
#include "core/ml/engine/SparseOps.h"

#include "core/base/Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>

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

torch::Tensor nearestEncoderRows(const SparseTensor& query, const SparseTensor& encoder) {
    const auto q = query.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const auto e = encoder.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const std::int64_t nq = q.size(0), ne = e.size(0);
    const std::int64_t cell = encoder.stride;  // encoder rows sit on a grid of this spacing
    const std::int64_t* qp = q.data_ptr<std::int64_t>();
    const std::int64_t* ep = e.data_ptr<std::int64_t>();

    // Cell -> [first, last) range of encoder rows, and per batch element the row range.
    auto floorDiv = [](std::int64_t a, std::int64_t b) {
        return a >= 0 ? a / b : -((-a + b - 1) / b);
    };
    auto cellKey = [](std::int64_t b, std::int64_t x, std::int64_t y, std::int64_t z) {
        constexpr std::int64_t bias = std::int64_t{1} << 17;
        return (b << 54) | ((x + bias) << 36) | ((y + bias) << 18) | (z + bias);
    };
    std::vector<std::int64_t> order(ne);
    std::vector<std::int64_t> keyOf(ne);
    for (std::int64_t i = 0; i < ne; ++i) {
        order[i] = i;
        keyOf[i] = cellKey(ep[4 * i], floorDiv(ep[4 * i + 1], cell), floorDiv(ep[4 * i + 2], cell),
                           floorDiv(ep[4 * i + 3], cell));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return keyOf[a] < keyOf[b]; });
    std::unordered_map<std::int64_t, std::pair<std::int64_t, std::int64_t>> cells;
    cells.reserve(static_cast<std::size_t>(ne) * 2);
    std::map<std::int64_t, std::vector<std::int64_t>> rowsOfBatch;
    for (std::int64_t s = 0; s < ne;) {
        std::int64_t t = s;
        while (t < ne && keyOf[order[t]] == keyOf[order[s]]) ++t;
        cells[keyOf[order[s]]] = {s, t};
        s = t;
    }
    for (std::int64_t i = 0; i < ne; ++i) rowsOfBatch[ep[4 * i]].push_back(i);

    auto result = torch::empty({nq}, torch::kLong);
    std::int64_t* rp = result.data_ptr<std::int64_t>();
    std::atomic<std::int64_t> missingBatch{-1};
    at::parallel_for(0, nq, 256, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t b = qp[4 * i], x = qp[4 * i + 1], y = qp[4 * i + 2],
                               z = qp[4 * i + 3];
            auto itB = rowsOfBatch.find(b);
            if (itB == rowsOfBatch.end()) {
                missingBatch = b;
                rp[i] = -1;
                continue;
            }
            std::int64_t best = -1;
            std::int64_t bestD = std::numeric_limits<std::int64_t>::max();
            auto consider = [&](std::int64_t j) {
                const std::int64_t dx = ep[4 * j + 1] - x, dy = ep[4 * j + 2] - y,
                                   dz = ep[4 * j + 3] - z;
                const std::int64_t d = dx * dx + dy * dy + dz * dz;
                if (d < bestD || (d == bestD && j < best)) {
                    bestD = d;
                    best = j;
                }
            };
            const std::int64_t cx = floorDiv(x, cell), cy = floorDiv(y, cell),
                               cz = floorDiv(z, cell);
            const auto budget = static_cast<std::int64_t>(itB->second.size());
            std::int64_t visited = 0;
            bool certified = false;
            for (std::int64_t r = 0;; ++r) {
                // Every unvisited cell is at Chebyshev ring > r, hence strictly farther than r *
                // cell (integer coordinates), so equality certifies too and ties stay lowest-index.
                for (std::int64_t ix = -r; ix <= r; ++ix) {
                    for (std::int64_t iy = -r; iy <= r; ++iy) {
                        const bool edge = std::abs(ix) == r || std::abs(iy) == r;
                        for (std::int64_t iz = -r; iz <= r;
                             iz += (edge ? 1 : std::max<std::int64_t>(2 * r, 1))) {
                            ++visited;
                            auto it = cells.find(cellKey(b, cx + ix, cy + iy, cz + iz));
                            if (it == cells.end()) continue;
                            for (std::int64_t s = it->second.first; s < it->second.second; ++s) {
                                consider(order[s]);
                            }
                        }
                    }
                }
                const std::int64_t reach = r * cell;
                if (best >= 0 && bestD <= reach * reach) {
                    certified = true;
                    break;
                }
                if (visited > budget) break;
            }
            if (!certified) {
                for (const std::int64_t j : itB->second) consider(j);
            }
            rp[i] = best;
        }
    });
    if (missingBatch >= 0) {
        throw InvalidArgument("nearest-voxel lookup: batch element " +
                              std::to_string(missingBatch.load()) + " has no encoder voxels");
    }
    return result.to(query.feats.device());
}

}  // namespace lidistill::ml::sparse
