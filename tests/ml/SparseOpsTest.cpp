// SPDX-License-Identifier: MIT
// Sparse engine vs dense references (torch conv3d / conv_transpose3d on the densified grid),
// in float64, with negative coordinates and several batch elements.
#include "core/base/Error.h"
#include "core/ml/engine/SparseOps.h"
#include "tests/ml/DenseReference.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <tuple>

namespace lidistill::ml::sparse {
namespace {

using namespace dense;

constexpr double kTol = 1e-9;

struct Case {
    CoordinateManagerPtr mgr;
    torch::Tensor feats;  // at stride 1, key order
    Grid grid;
};

Case makeCase(int batches, int extent, int count, std::int64_t channels, unsigned seed) {
    auto [mgr, order] = CoordinateManager::fromCoords(randomCoords(batches, extent, count, seed));
    (void)order;
    torch::manual_seed(seed);
    auto feats = torch::randn({count, channels}, torch::kDouble);
    const std::int64_t half = 16 * ((extent + 8 + 15) / 16);  // even at every level
    return {mgr, feats, Grid{-half, 2 * half, batches}};
}

TEST(SparseEngine, KeysAreExactAndFloorDivideNegatives) {
    const int lim = static_cast<int>(kCoordLimit);
    auto c = torch::tensor({0, -1, -2, -3, 1, 5, -7, 0, 3, -lim, lim, 1}, torch::kInt).view({3, 4});
    EXPECT_TRUE(torch::equal(unpackKeys(packKeys(c)), c));
    auto [mgr, order] = CoordinateManager::fromCoords(c);
    auto c2 = mgr->coords(2);
    // floor(-1/2) = -1, floor(-3/2) = -2, floor(5/2) = 2, floor(-7/2) = -4.
    std::set<std::vector<int>> got;
    for (int i = 0; i < c2.size(0); ++i) {
        got.insert({c2[i][0].item<int>(), c2[i][1].item<int>(), c2[i][2].item<int>(),
                    c2[i][3].item<int>()});
    }
    EXPECT_TRUE(got.count({0, -1, -1, -2}));
    EXPECT_TRUE(got.count({1, 2, -4, 0}));
    EXPECT_THROW(
        CoordinateManager::fromCoords(torch::tensor({0, lim + 1, 0, 0}, torch::kInt).view({1, 4})),
        InvalidArgument);
    EXPECT_THROW(CoordinateManager::fromCoords(
                     torch::tensor({0, 1, 2, 3, 0, 1, 2, 3}, torch::kInt).view({2, 4})),
                 InvalidArgument);
    // Neighbours across a field boundary must not alias: z = max and (y + 1, z = min) differ.
    auto edge = torch::tensor({0, 0, 0, lim, 0, 0, 1, -lim}, torch::kInt).view({2, 4});
    auto [m2, o2] = CoordinateManager::fromCoords(edge);
    EXPECT_EQ(m2->submanifoldMap(1)->pairs(), 2);  // only the two identity pairs
}

TEST(SparseEngine, MergeMapEqualsSearchsortedMap) {
    auto cs = makeCase(3, 6, 300, 1, 11);
    for (std::int64_t stride : {1, 2, 4}) {
        auto a = cs.mgr->submanifoldMap(stride, 3, 1, false);
        auto b = cs.mgr->submanifoldMap(stride, 3, 1, true);
        EXPECT_EQ(a->offsets, b->offsets);
        EXPECT_TRUE(torch::equal(a->inIdx, b->inIdx));
        EXPECT_TRUE(torch::equal(a->outIdx, b->outIdx));
    }
    EXPECT_EQ(cs.mgr->submanifoldMap(1).get(), cs.mgr->submanifoldMap(1).get());  // cached
}

void expectSameMap(const KernelMapPtr& a, const KernelMapPtr& b) {
    EXPECT_EQ(a->offsets, b->offsets);
    EXPECT_EQ(a->nIn, b->nIn);
    EXPECT_EQ(a->nOut, b->nOut);
    EXPECT_EQ(a->identityOffset, b->identityOffset);
    EXPECT_TRUE(torch::equal(a->inIdx, b->inIdx));
    EXPECT_TRUE(torch::equal(a->outIdx, b->outIdx));
}

TEST(SparseEngine, ReplicatedManagerEqualsOneBuiltFromRepeatedCoordinates) {
    // Two batch elements, three copies: copy c's element b must become batch 2c + b.
    const auto coords = randomCoords(2, 6, 250, 21);
    std::vector<torch::Tensor> copies;
    for (int c = 0; c < 3; ++c) {
        auto cc = coords.clone();
        cc.select(1, 0).add_(2 * c);
        copies.push_back(cc);
    }
    for (bool generic : {false, true}) {
        auto [src, o1] = CoordinateManager::fromCoords(coords);
        auto [whole, o2] = CoordinateManager::fromCoords(torch::cat(copies));
        auto rep = CoordinateManager::replicated(src, 3);
        EXPECT_EQ(rep->batchSize(), 6);
        // Half the levels and maps exist in the source before, half are built through it.
        src->submanifoldMap(2, 3, 1, generic);
        for (std::int64_t stride : {1, 2, 4, 8}) {
            EXPECT_TRUE(torch::equal(rep->keys(stride), whole->keys(stride)));
            EXPECT_TRUE(torch::equal(rep->coords(stride), whole->coords(stride)));
            EXPECT_EQ(rep->batchOffsets(stride), whole->batchOffsets(stride));
            expectSameMap(rep->submanifoldMap(stride, 3, 1, generic),
                          whole->submanifoldMap(stride, 3, 1, generic));
            expectSameMap(rep->submanifoldMap(stride, 5, 2, generic),
                          whole->submanifoldMap(stride, 5, 2, generic));
            expectSameMap(rep->downsampleMap(stride), whole->downsampleMap(stride));
        }
    }
    auto [src, o] = CoordinateManager::fromCoords(coords);
    EXPECT_THROW(CoordinateManager::replicated(src, 0), InvalidArgument);
    EXPECT_THROW(CoordinateManager::replicated(src, kMaxBatch), InvalidArgument);
}

TEST(SparseEngine, ReplicatedFieldEqualsTheFieldOfRepeatedPoints) {
    torch::manual_seed(4);
    const auto xyz = torch::randn({400, 3}, torch::kFloat) * 2.0;
    const auto zeros = torch::zeros({400}, torch::kLong);
    const auto rep = replicateField(pointsToVoxels(xyz, zeros, xyz, 0.3), 2);
    const auto xs = xyz.repeat({2, 1});
    const auto whole =
        pointsToVoxels(xs, torch::cat({zeros, torch::ones({400}, torch::kLong)}), xs, 0.3);
    EXPECT_TRUE(torch::equal(rep.voxels.feats, whole.voxels.feats));
    EXPECT_TRUE(torch::equal(rep.pointToVoxel, whole.pointToVoxel));
    EXPECT_TRUE(torch::equal(rep.voxelCounts, whole.voxelCounts));
    EXPECT_TRUE(torch::equal(rep.voxels.coords(), whole.voxels.coords()));
    // A network's output on it is the same, bit for bit (same rows, same order, same maps).
    torch::manual_seed(5);
    const auto w = torch::randn({27, 3, 4}, torch::kFloat);
    const auto w2 = torch::randn({8, 4, 2}, torch::kFloat);
    auto run = [&](const TensorField& f) {
        const auto y = downsampleConv(submanifoldConv(f.voxels, w), w2);
        return upsampleConv(y, torch::randn({8, 2, 3}, torch::TensorOptions().dtype(torch::kFloat)))
            .feats;
    };
    torch::manual_seed(6);
    const auto a = run(rep);
    torch::manual_seed(6);
    EXPECT_TRUE(torch::equal(a, run(whole)));
    EXPECT_THROW(replicateField(TensorField{rep.voxels.withFeats(rep.voxels.feats),
                                            rep.pointToVoxel, rep.voxelCounts},
                                0),
                 InvalidArgument);
}

TEST(SparseEngine, SubmanifoldConvMatchesDenseForwardAndBackward) {
    auto cs = makeCase(2, 5, 220, 4, 1);
    auto feats = cs.feats.clone().requires_grad_(true);
    auto weight = torch::randn({27, 4, 5}, torch::kDouble).requires_grad_(true);
    auto x = SparseTensor{feats, cs.mgr, 1};
    auto out = submanifoldConv(x, weight).feats;

    auto fd = cs.feats.clone().requires_grad_(true);
    auto wd = weight.detach().clone().requires_grad_(true);
    auto dense = torch::conv3d(densify(x.coords(), fd, cs.grid), toConvWeight(wd, 3), {}, 1, 1);
    auto ref = readDense(dense, x.coords(), cs.grid.origin);
    EXPECT_LT(relErr(out, ref), kTol);

    auto r = torch::randn_like(ref);
    (out * r).sum().backward();
    (ref * r).sum().backward();
    EXPECT_LT(relErr(feats.grad(), fd.grad()), kTol);
    EXPECT_LT(relErr(weight.grad(), wd.grad()), kTol);
}

TEST(SparseEngine, SubmanifoldConvAtCoarseStrideMatchesDense) {
    auto cs = makeCase(2, 8, 400, 3, 2);
    const std::int64_t stride = 2;
    auto coords = cs.mgr->coords(stride);
    auto feats = torch::randn({coords.size(0), 3}, torch::kDouble);
    auto weight = torch::randn({27, 3, 2}, torch::kDouble);
    auto out = submanifoldConv(SparseTensor{feats, cs.mgr, stride}, weight).feats;
    Grid g{-8, 16, 2};
    auto ref =
        readDense(torch::conv3d(densify(coords, feats, g), toConvWeight(weight, 3), {}, 1, 1),
                  coords, g.origin);
    EXPECT_LT(relErr(out, ref), kTol);
}

TEST(SparseEngine, DownAndTransposedConvMatchDense) {
    auto cs = makeCase(2, 6, 260, 3, 3);
    auto feats = cs.feats.clone().requires_grad_(true);
    auto wDown = torch::randn({8, 3, 4}, torch::kDouble).requires_grad_(true);
    auto wUp = torch::randn({8, 4, 2}, torch::kDouble).requires_grad_(true);
    auto x = SparseTensor{feats, cs.mgr, 1};
    auto down = downsampleConv(x, wDown);
    ASSERT_EQ(down.stride, 2);
    auto up = upsampleConv(down, wUp);
    ASSERT_EQ(up.stride, 1);
    ASSERT_EQ(up.rows(), x.rows());

    auto fd = cs.feats.clone().requires_grad_(true);
    auto wdd = wDown.detach().clone().requires_grad_(true);
    auto wud = wUp.detach().clone().requires_grad_(true);
    auto d1 = torch::conv3d(densify(x.coords(), fd, cs.grid), toConvWeight(wdd, 2), {}, 2);
    auto refDown = readDense(d1, down.coords(), cs.grid.origin / 2);
    EXPECT_LT(relErr(down.feats, refDown), kTol);
    // Mask the coarse grid to the active coarse sites, then transpose back onto the fine sites.
    Grid coarse{cs.grid.origin / 2, cs.grid.size / 2, cs.grid.batches};
    auto d1masked = densify(down.coords(), refDown, coarse);
    auto d2 = torch::conv_transpose3d(d1masked, toConvTWeight(wud, 2), {}, 2);
    auto refUp = readDense(d2, x.coords(), cs.grid.origin);
    EXPECT_LT(relErr(up.feats, refUp), kTol);

    auto r = torch::randn_like(refUp);
    (up.feats * r).sum().backward();
    (refUp * r).sum().backward();
    EXPECT_LT(relErr(feats.grad(), fd.grad()), kTol);
    EXPECT_LT(relErr(wDown.grad(), wdd.grad()), kTol);
    EXPECT_LT(relErr(wUp.grad(), wud.grad()), kTol);
}

TEST(SparseEngine, PointwiseConvBatchNormActivationsAndConcat) {
    auto cs = makeCase(2, 4, 120, 3, 4);
    auto x = SparseTensor{cs.feats, cs.mgr, 1};
    auto w = torch::randn({3, 5}, torch::kDouble);
    auto y = pointwiseConv(x, w);
    auto ref = readDense(
        torch::conv3d(densify(x.coords(), x.feats, cs.grid), w.t().reshape({5, 3, 1, 1, 1})),
        x.coords(), cs.grid.origin);
    EXPECT_LT(relErr(y.feats, ref), kTol);

    torch::nn::BatchNorm1d bn(torch::nn::BatchNormOptions(5));
    bn->to(torch::kDouble);
    auto z = bn(y.feats);
    auto mean = y.feats.mean(0), var = y.feats.var(0, false);  // biased, over active rows only
    EXPECT_LT(relErr(z, (y.feats - mean) / torch::sqrt(var + 1e-5)), kTol);

    auto c = concat(relu(y), leakyRelu(y, 0.1));
    EXPECT_EQ(c.channels(), 10);
    EXPECT_TRUE(torch::equal(c.feats.slice(1, 0, 5), y.feats.clamp_min(0)));
    EXPECT_TRUE(torch::allclose(c.feats.slice(1, 5, 10),
                                torch::where(y.feats > 0, y.feats, 0.1 * y.feats)));
    auto other = makeCase(2, 4, 120, 3, 5);
    EXPECT_THROW(concat(x, SparseTensor{other.feats, other.mgr, 1}), InvalidArgument);
}

// Central differences on a tiny input: the hand-written backward against the function itself.
TEST(SparseEngine, GradientsMatchFiniteDifferences) {
    auto cs = makeCase(1, 3, 30, 2, 6);
    auto weight = torch::randn({27, 2, 3}, torch::kDouble);
    auto wDown = torch::randn({8, 3, 2}, torch::kDouble);
    auto wUp = torch::randn({8, 2, 2}, torch::kDouble);
    auto r = torch::randn({30, 2}, torch::kDouble);
    auto f = [&](const torch::Tensor& feats, const torch::Tensor& w) {
        auto x = submanifoldConv(SparseTensor{feats, cs.mgr, 1}, w);
        auto u = upsampleConv(downsampleConv(x, wDown), wUp);
        return (u.feats * r).sum();
    };
    auto feats = cs.feats.clone().requires_grad_(true);
    auto w = weight.clone().requires_grad_(true);
    f(feats, w).backward();
    const double h = 1e-6;
    for (int i = 0; i < 30; i += 7) {
        for (int c = 0; c < 2; ++c) {
            auto fp = cs.feats.clone(), fm = cs.feats.clone();
            fp[i][c] += h;
            fm[i][c] -= h;
            const double num = (f(fp, weight) - f(fm, weight)).item<double>() / (2 * h);
            EXPECT_NEAR(feats.grad()[i][c].item<double>(), num, 1e-6 * (1 + std::abs(num)));
        }
    }
    for (int k : {0, 13, 26}) {
        auto wp = weight.clone(), wm = weight.clone();
        wp[k][1][2] += h;
        wm[k][1][2] -= h;
        const double num = (f(cs.feats, wp) - f(cs.feats, wm)).item<double>() / (2 * h);
        EXPECT_NEAR(w.grad()[k][1][2].item<double>(), num, 1e-6 * (1 + std::abs(num)));
    }
}

TEST(SparseEngine, InvariantToRowPermutationAndBatching) {
    auto coords = randomCoords(2, 5, 200, 7);
    auto feats = torch::randn({200, 3}, torch::kDouble);
    auto w3 = torch::randn({27, 3, 4}, torch::kDouble);
    auto w2 = torch::randn({8, 4, 4}, torch::kDouble);
    auto run = [&](const torch::Tensor& c, const torch::Tensor& f) {
        auto [mgr, order] = CoordinateManager::fromCoords(c);
        auto x = submanifoldConv(SparseTensor{f.index_select(0, order), mgr, 1}, w3);
        auto y = upsampleConv(downsampleConv(x, w2), w2.slice(2, 0, 4));
        return std::make_pair(y.feats, mgr->coords(1));
    };
    auto [base, baseCoords] = run(coords, feats);
    auto perm = torch::randperm(200, torch::kLong);
    auto [permuted, permCoords] = run(coords.index_select(0, perm), feats.index_select(0, perm));
    EXPECT_TRUE(torch::equal(baseCoords, permCoords));
    EXPECT_TRUE(torch::equal(base, permuted));

    // Each batch element alone (moved to batch 0) gives its rows of the batched result.
    auto b = coords.select(1, 0);
    std::int64_t row = 0;
    for (int s = 0; s < 2; ++s) {
        auto idx = torch::nonzero(b == s).view(-1);
        auto c = coords.index_select(0, idx).clone();
        c.select(1, 0).zero_();
        auto [alone, aloneCoords] = run(c, feats.index_select(0, idx));
        auto part = base.slice(0, row, row + alone.size(0));
        EXPECT_LT(relErr(part, alone), 1e-12);
        row += alone.size(0);
    }
    EXPECT_EQ(row, base.size(0));
}

TEST(SparseEngine, RepeatedRunsAreBitwiseIdentical) {
    auto cs = makeCase(2, 6, 300, 8, 8);
    auto w = torch::randn({27, 8, 8}, torch::kFloat);
    std::vector<torch::Tensor> outs, grads;
    for (int rep = 0; rep < 2; ++rep) {
        auto f = cs.feats.to(torch::kFloat).requires_grad_(true);
        auto wr = w.clone().requires_grad_(true);
        auto y = submanifoldConv(SparseTensor{f, cs.mgr, 1}, wr);
        y.feats.pow(2).sum().backward();
        outs.push_back(y.feats.detach());
        grads.push_back(wr.grad());
        grads.push_back(f.grad());
    }
    EXPECT_TRUE(torch::equal(outs[0], outs[1]));
    EXPECT_TRUE(torch::equal(grads[0], grads[2]));
    EXPECT_TRUE(torch::equal(grads[1], grads[3]));
}

TEST(SparseEngine, PointsToVoxelsRoundsHalfToEvenAndAverages) {
    auto xyz = torch::tensor({0.5f, 0.f, 0.f, 1.5f, 0.f, 0.f, 2.5f, 0.f, 0.f, -0.5f, 0.f, 0.f, 2.4f,
                              0.f, 0.f, 0.4f, 0.f, 0.f},
                             torch::kFloat)
                   .view({6, 3});
    auto batch = torch::tensor({0, 0, 0, 0, 0, 1}, torch::kLong);
    auto feats = xyz.clone().requires_grad_(true);
    auto field = pointsToVoxels(xyz, batch, feats, 1.0);
    // Batch 0: x in {0 (0.5, -0.5), 2 (1.5, 2.5, 2.4)}; batch 1: x = 0 (0.4).
    auto c = field.voxels.coords();
    ASSERT_EQ(c.size(0), 3);
    EXPECT_EQ(c[0][1].item<int>(), 0);
    EXPECT_EQ(c[1][1].item<int>(), 2);
    EXPECT_EQ(c[2][0].item<int>(), 1);
    EXPECT_NEAR(field.voxels.feats[0][0].item<float>(), 0.0, 1e-6);
    EXPECT_NEAR(field.voxels.feats[1][0].item<float>(), (1.5 + 2.5 + 2.4) / 3, 1e-6);
    auto back = voxelsToPoints(field.voxels, field);
    EXPECT_NEAR(back[4][0].item<float>(), (1.5 + 2.5 + 2.4) / 3, 1e-6);
    back.select(1, 0).sum().backward();  // each voxel's mean is read by its own points
    EXPECT_NEAR(feats.grad()[0][0].item<float>(), 1.0, 1e-6);  // 2 points read a 2-point mean
    EXPECT_NEAR(feats.grad()[5][0].item<float>(), 1.0, 1e-6);
    auto bad = xyz.clone();
    bad[2][1] = std::nanf("");
    EXPECT_THROW(pointsToVoxels(bad, batch, bad, 1.0), InvalidArgument);
}

TEST(SparseEngine, PointsToVoxelsAgreesWithLibtorchUnique) {
    // The sort-based unique against libtorch's own (hash-based on the CPU): voxels, each
    // point's voxel and the counts, over two batch elements with many repeated voxels.
    torch::manual_seed(9);
    const auto xyz = torch::randn({5000, 3}, torch::kFloat);
    const auto batch = torch::randint(0, 2, {5000}, torch::kLong);
    const auto field = pointsToVoxels(xyz, batch, xyz, 0.5);
    const auto coords =
        torch::cat({batch.unsqueeze(1), torch::round(xyz / 0.5).to(torch::kLong)}, 1);
    const auto [uniq, inverse, counts] = at::_unique2(packKeys(coords), true, true, true);
    ASSERT_LT(uniq.size(0), 3000);  // repeats happen
    EXPECT_TRUE(torch::equal(field.voxels.manager->keys(1), uniq));
    EXPECT_TRUE(torch::equal(field.pointToVoxel, inverse));
    EXPECT_TRUE(torch::equal(field.voxelCounts, counts));
    // Coarser levels: the unique parents of the stride-1 voxels, in key order.
    const auto parents =
        torch::cat({unpackKeys(uniq).slice(1, 0, 1).to(torch::kLong),
                    torch::div(unpackKeys(uniq).slice(1, 1, 4).to(torch::kLong), 2, "floor")},
                   1);
    EXPECT_TRUE(torch::equal(field.voxels.manager->keys(2),
                             std::get<0>(at::_unique2(packKeys(parents), true, false, false))));
}

TEST(SparseEngine, NearestEncoderRowsIsExact) {
    auto qc = randomCoords(2, 40, 500, 9);
    auto ec = randomCoords(2, 3, 25, 10);  // stride-16 encoder: compact coordinates
    auto [qm, qo] = CoordinateManager::fromCoords(qc);
    auto [em, eo] = CoordinateManager::fromCoords(ec * torch::tensor({1, 16, 16, 16}, torch::kInt));
    SparseTensor query{torch::zeros({500, 1}), qm, 1};
    SparseTensor enc{torch::zeros({25, 1}), em, 16};
    auto got = nearestEncoderRows(query, enc);
    auto q = query.meCoords().to(torch::kLong), e = enc.meCoords().to(torch::kLong);
    for (int i = 0; i < 500; ++i) {
        std::int64_t best = -1, bestD = 0;
        for (int j = 0; j < 25; ++j) {
            if (e[j][0].item<std::int64_t>() != q[i][0].item<std::int64_t>()) continue;
            auto d = (e[j].slice(0, 1) - q[i].slice(0, 1)).pow(2).sum().item<std::int64_t>();
            if (best < 0 || d < bestD) {
                best = j;
                bestD = d;
            }
        }
        ASSERT_EQ(got[i].item<std::int64_t>(), best) << "query row " << i;
    }
    // One far-away encoder voxel (LiDiff's unconditional pass): brute-force fallback.
    auto [one, o1] = CoordinateManager::fromCoords(
        torch::tensor({0, 16000, -16000, 48}, torch::kInt).view({1, 4}));
    auto [q0, o2] = CoordinateManager::fromCoords(randomCoords(1, 40, 50, 12));
    auto r = nearestEncoderRows(SparseTensor{torch::zeros({50, 1}), q0, 1},
                                SparseTensor{torch::zeros({1, 1}), one, 16});
    EXPECT_TRUE(torch::equal(r, torch::zeros({50}, torch::kLong)));
    EXPECT_THROW(nearestEncoderRows(query, SparseTensor{torch::zeros({1, 1}), one, 16}),
                 InvalidArgument);
}

// Ties: a query voxel halfway between two encoder voxels goes to the lower row, or, with the
// measurement setting of bench_ml_ties, to the higher one; nothing else changes.
TEST(SparseEngine, NearestEncoderRowsBreaksTiesByTheRule) {
    auto [em, eo] = CoordinateManager::fromCoords(
        torch::tensor({0, 0, 0, 0, 0, 32, 0, 0, 0, 0, 64, 0}, torch::kInt).view({3, 4}));
    auto [qm, qo] = CoordinateManager::fromCoords(
        torch::tensor({0, 16, 0, 0, 0, 1, 0, 0, 0, 16, 48, 0}, torch::kInt).view({3, 4}));
    const SparseTensor enc{torch::zeros({3, 1}), em, 16}, query{torch::zeros({3, 1}), qm, 1};
    const auto q = query.meCoords();  // rows in key order: (1,0,0), (16,0,0), (16,48,0)
    ASSERT_EQ(q[1][1].item<int>(), 16);
    ASSERT_EQ(q[1][2].item<int>(), 0);
    // Encoder rows: 0 = (0,0,0), 1 = (0,64,0), 2 = (32,0,0) (key order).
    EXPECT_EQ(nearestTieRule(), NearestTieRule::Lowest);
    auto low = nearestEncoderRows(query, enc);
    setNearestTieRule(NearestTieRule::Highest);
    auto high = nearestEncoderRows(query, enc);
    setNearestTieRule(NearestTieRule::Lowest);
    EXPECT_TRUE(torch::equal(low, torch::tensor({0, 0, 1}, torch::kLong))) << low;
    EXPECT_TRUE(torch::equal(high, torch::tensor({0, 2, 1}, torch::kLong))) << high;
}

}  // namespace
}  // namespace lidistill::ml::sparse
