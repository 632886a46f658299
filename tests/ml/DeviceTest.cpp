// SPDX-License-Identifier: MIT
// The device checks (see DeviceTest.h): engine operations, kernel maps, quantisation, the
// nearest-encoder lookup and whole networks, forward and backward, target device vs CPU.
#include "tests/ml/DeviceTest.h"

#include "core/base/Error.h"
#include "core/ml/Model.h"
#include "core/ml/nn/Networks.h"
#include "tests/ml/DenseReference.h"

#include <limits>
#include <map>

namespace lidistill::ml::sparse::device {

using dense::randomCoords;
using dense::relErr;

void OnDevice::SetUp() {
    setPortablePath(false);
    if (dev().is_cuda()) {
        if (!torch::cuda::is_available()) {
            GTEST_SKIP() << "no usable CUDA device (libtorch " << TORCH_VERSION << ")";
        }
        // Ampere/Hopper default to TF32 in cuDNN (and in cuBLAS on some versions): ~1e-3 off.
        at::globalContext().setAllowTF32CuBLAS(false);
        at::globalContext().setAllowTF32CuDNN(false);
    }
}

namespace {

constexpr double kTol64 = 1e-9;

// float32 rule of DeviceTest.h: the target's error vs the float64 CPU result is at most
// 8x the CPU float32 error plus 1e-5 (a wrong result is off by O(1)).
constexpr double kFloat32Ratio = 8.0;
constexpr double kFloat32Floor = 1e-5;

void expectFloat32Close(const torch::Tensor& target32, const torch::Tensor& cpu32,
                        const torch::Tensor& ref64, const std::string& what) {
    const double cpuErr = relErr(cpu32, ref64), targetErr = relErr(target32, ref64);
    EXPECT_LE(targetErr, kFloat32Ratio * cpuErr + kFloat32Floor)
        << what << ": float32 target error " << targetErr << ", CPU float32 error " << cpuErr;
}

void expectOnDevice(const torch::Tensor& t, const torch::Device& d, const std::string& what) {
    EXPECT_EQ(t.device(), d) << what << " is on " << t.device() << ", not " << d;
}

void expectSameMap(const KernelMap& a, const KernelMap& b, const std::string& what) {
    EXPECT_EQ(a.offsets, b.offsets) << what;
    EXPECT_EQ(a.nIn, b.nIn) << what;
    EXPECT_EQ(a.nOut, b.nOut) << what;
    EXPECT_EQ(a.identityOffset, b.identityOffset) << what;
    EXPECT_TRUE(torch::equal(a.inIdx, b.inIdx.cpu())) << what << ": input rows differ";
    EXPECT_TRUE(torch::equal(a.outIdx, b.outIdx.cpu())) << what << ": output rows differ";
}

struct OpResult {
    torch::Tensor out, dx, dw;
};

// One operation, forward and backward of sum(out * r).
OpResult runOp(const std::string& kind, const CoordinateManagerPtr& mgr, std::int64_t stride,
               const torch::Tensor& feats, const torch::Tensor& weight, const torch::Tensor& r) {
    auto f = feats.clone().requires_grad_(true);
    auto w = weight.clone().requires_grad_(true);
    const SparseTensor x{f, mgr, stride};
    SparseTensor y;
    if (kind == "submanifold")
        y = submanifoldConv(x, w);
    else if (kind == "dilated")
        y = submanifoldConv(x, w, 2);
    else if (kind == "down")
        y = downsampleConv(x, w);
    else if (kind == "up")
        y = upsampleConv(x, w);
    else
        y = pointwiseConv(x, w);
    (y.feats * r).sum().backward();
    return {y.feats.detach(), f.grad(), w.grad()};
}

// Parameters, buffers and BN statistics copied exactly from `src` (the CPU reference) into
// `dst`, which then moves to `device` in `dtype` (converted first, so nothing is rounded).
void copyState(const torch::nn::Module& src, torch::nn::Module& dst, torch::Device device,
               torch::Dtype dtype) {
    torch::NoGradGuard guard;
    dst.to(dtype);
    const auto params = src.named_parameters(true);
    const auto buffers = src.named_buffers(true);
    for (auto& p : dst.named_parameters(true)) p.value().copy_(params[p.key()]);
    for (auto& b : dst.named_buffers(true)) b.value().copy_(buffers[b.key()]);
    dst.to(device, dtype);
}

// Non-trivial BN: affine parameters and running statistics away from 1 / 0.
void randomiseBatchNorm(torch::nn::Module& m) {
    torch::NoGradGuard guard;
    auto ends = [](const std::string& s, const std::string& e) {
        return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
    };
    for (auto& p : m.named_parameters(true)) {
        if (ends(p.key(), "bn.weight")) p.value().uniform_(0.5, 1.5);
        if (ends(p.key(), "bn.bias")) p.value().normal_(0.0, 0.1);
    }
    for (auto& b : m.named_buffers(true)) {
        if (ends(b.key(), "running_mean")) b.value().normal_(0.0, 0.1);
        if (ends(b.key(), "running_var")) b.value().uniform_(0.5, 1.5);
    }
}

// Per-parameter gradient error, relative to max(|reference grad|, 1e-3 * largest reference
// grad of the network), so that parameters with near-zero gradients do not turn rounding
// noise into a large relative error.
std::map<std::string, double> gradientErrors(const torch::nn::Module& target,
                                             const torch::nn::Module& reference) {
    const auto ref = reference.named_parameters(true);
    double global = 0;
    for (const auto& p : ref) {
        if (p.value().grad().defined()) {
            global = std::max(global, p.value().grad().abs().max().item<double>());
        }
    }
    std::map<std::string, double> out;
    for (const auto& p : target.named_parameters(true)) {
        const auto& g = p.value().grad();
        const auto& gr = ref[p.key()].grad();
        if (!g.defined() || !gr.defined()) {
            out[p.key()] = g.defined() == gr.defined() ? 0.0 : 1e300;
            continue;
        }
        const double scale = std::max(gr.abs().max().item<double>(), 1e-3 * global);
        out[p.key()] =
            (g.cpu().to(torch::kDouble) - gr.to(torch::kDouble)).abs().max().item<double>() /
            std::max(scale, 1e-300);
    }
    return out;
}

struct Inputs {
    torch::Tensor xyz, batch, partial, partialBatch, t, r;
};

Inputs makeInputs(torch::Dtype dtype) {
    torch::manual_seed(41);
    Inputs in;
    in.xyz = (torch::randn({400, 3}, torch::kDouble) * 2.0).to(dtype);
    in.batch = torch::cat({torch::zeros({250}, torch::kLong), torch::ones({150}, torch::kLong)});
    in.partial = (torch::randn({160, 3}, torch::kDouble) * 2.0).to(dtype);
    in.partialBatch =
        torch::cat({torch::zeros({90}, torch::kLong), torch::ones({70}, torch::kLong)});
    in.t = torch::tensor({120L, 830L});
    return in;
}

constexpr double kVoxel = 0.25;
constexpr double kWidth = 0.125;

}  // namespace

TEST_P(OnDevice, KernelMapsAndLevelsEqualTheCpuOnes) {
    const auto coords = randomCoords(3, 7, 400, 21);
    auto [cpuMgr, cpuOrder] = CoordinateManager::fromCoords(coords);
    auto [devMgr, devOrder] = onTarget([&] { return CoordinateManager::fromCoords(on(coords)); });
    EXPECT_EQ(devMgr->device(), dev());
    EXPECT_TRUE(torch::equal(devOrder.cpu(), cpuOrder));
    for (std::int64_t s : {1, 2, 4, 8}) {
        const std::string at = "stride " + std::to_string(s);
        expectOnDevice(devMgr->keys(s), dev(), "keys at " + at);
        ASSERT_TRUE(torch::equal(devMgr->coords(s).cpu(), cpuMgr->coords(s))) << at;
        for (auto [ks, dil] : {std::pair{3, 1}, std::pair{3, 2}, std::pair{5, 1}}) {
            const auto a = cpuMgr->submanifoldMap(s, ks, dil);
            const auto b = onTarget([&] { return devMgr->submanifoldMap(s, ks, dil); });
            expectOnDevice(b->inIdx, dev(), "submanifold map");
            expectSameMap(*a, *b,
                          "submanifold " + std::to_string(ks) + " dilation " + std::to_string(dil) +
                              " at " + at);
        }
        if (s < 8) {
            const auto b = onTarget([&] { return devMgr->downsampleMap(s); });
            expectOnDevice(b->outIdx, dev(), "stride-2 map");
            expectSameMap(*cpuMgr->downsampleMap(s), *b, "stride-2 map from " + at);
        }
    }
    EXPECT_EQ(devMgr->batchOffsets(2), cpuMgr->batchOffsets(2));
}

TEST_P(OnDevice, ConvolutionsMatchTheCpuForwardAndBackward) {
    const auto coords = randomCoords(2, 6, 300, 22);
    auto [cpuMgr, order] = CoordinateManager::fromCoords(coords);
    auto devMgr = onTarget([&] { return CoordinateManager::fromCoords(on(coords)).first; });
    struct Op {
        std::string kind;
        std::int64_t stride, kernel, outStride;
    };
    const Op ops[] = {{"submanifold", 1, 27, 1}, {"submanifold", 2, 27, 2}, {"dilated", 1, 27, 1},
                      {"down", 1, 8, 2},         {"down", 2, 8, 4},         {"up", 2, 8, 1},
                      {"up", 4, 8, 2},           {"pointwise", 2, 1, 2}};
    torch::manual_seed(23);
    for (const auto& op : ops) {
        const std::string what = op.kind + " at stride " + std::to_string(op.stride);
        const auto feats = torch::randn({cpuMgr->size(op.stride), 5}, torch::kDouble);
        const auto weight = op.kernel == 1 ? torch::randn({5, 6}, torch::kDouble)
                                           : torch::randn({op.kernel, 5, 6}, torch::kDouble);
        const auto r = torch::randn({cpuMgr->size(op.outStride), 6}, torch::kDouble);
        const auto ref = runOp(op.kind, cpuMgr, op.stride, feats, weight, r);
        const auto got = onTarget(
            [&] { return runOp(op.kind, devMgr, op.stride, on(feats), on(weight), on(r)); });
        expectOnDevice(got.out, dev(), what);
        EXPECT_LT(relErr(got.out, ref.out), kTol64) << what;
        EXPECT_LT(relErr(got.dx, ref.dx), kTol64) << what << " input gradient";
        EXPECT_LT(relErr(got.dw, ref.dw), kTol64) << what << " weight gradient";

        auto f32 = [](const torch::Tensor& t) { return t.to(torch::kFloat); };
        const auto cpu32 = runOp(op.kind, cpuMgr, op.stride, f32(feats), f32(weight), f32(r));
        const auto dev32 = onTarget([&] {
            return runOp(op.kind, devMgr, op.stride, on(f32(feats)), on(f32(weight)), on(f32(r)));
        });
        expectFloat32Close(dev32.out, cpu32.out, ref.out, what);
        expectFloat32Close(dev32.dx, cpu32.dx, ref.dx, what + " input gradient");
        expectFloat32Close(dev32.dw, cpu32.dw, ref.dw, what + " weight gradient");
    }
}

TEST_P(OnDevice, BatchNormActivationsAndConcatMatchTheCpu) {
    const auto coords = randomCoords(2, 5, 200, 24);
    auto [cpuMgr, order] = CoordinateManager::fromCoords(coords);
    auto devMgr = onTarget([&] { return CoordinateManager::fromCoords(on(coords)).first; });
    torch::manual_seed(25);
    const auto feats = torch::randn({200, 6}, torch::kDouble) * 3.0 + 1.0;
    const auto r = torch::randn({200, 12}, torch::kDouble);
    nets::MeBatchNorm cpuBn(6), devBn(6);
    cpuBn->to(torch::kDouble);
    randomiseBatchNorm(*cpuBn);
    copyState(*cpuBn, *devBn, dev(), torch::kDouble);
    auto run = [&](nets::MeBatchNorm& bn, const CoordinateManagerPtr& mgr, const torch::Tensor& f0,
                   const torch::Tensor& rr) {
        auto f = f0.clone().requires_grad_(true);
        auto y = bn(SparseTensor{f, mgr, 1});
        auto c = concat(relu(y), leakyRelu(y, 0.1));
        (c.feats * rr).sum().backward();
        return std::make_pair(c.feats.detach(), f.grad());
    };
    for (const bool training : {true, false}) {
        const std::string what = training ? "batch norm (training)" : "batch norm (eval)";
        cpuBn->train(training);
        devBn->train(training);
        const auto [ref, refGrad] = run(cpuBn, cpuMgr, feats, r);
        const auto [got, gotGrad] = onTarget([&] { return run(devBn, devMgr, on(feats), on(r)); });
        expectOnDevice(got, dev(), what);
        EXPECT_LT(relErr(got, ref), kTol64) << what;
        EXPECT_LT(relErr(gotGrad, refGrad), kTol64) << what << " input gradient";
        EXPECT_LT(relErr(devBn->bn->weight.grad(), cpuBn->bn->weight.grad()), kTol64) << what;
        EXPECT_LT(relErr(devBn->bn->running_mean, cpuBn->bn->running_mean), kTol64) << what;
        EXPECT_LT(relErr(devBn->bn->running_var, cpuBn->bn->running_var), kTol64) << what;
    }
}

TEST_P(OnDevice, PointsToVoxelsAndBackMatchTheCpu) {
    const auto in = makeInputs(torch::kDouble);
    torch::manual_seed(26);
    const auto extra = torch::randn({400, 2}, torch::kDouble);
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
        const std::string what = dtype == torch::kDouble ? "float64" : "float32";
        const auto xyz = in.xyz.to(dtype);
        const auto pf = torch::cat({xyz, extra.to(dtype)}, 1);
        const auto r = torch::randn({400, 5}, dtype);
        auto run = [&](const torch::Tensor& x, const torch::Tensor& b, const torch::Tensor& feats,
                       const torch::Tensor& rr) {
            auto f = feats.clone().requires_grad_(true);
            auto field = pointsToVoxels(x, b, f, kVoxel);
            auto back = voxelsToPoints(field.voxels, field);
            (back * rr).sum().backward();
            return std::make_tuple(field, back.detach(), f.grad());
        };
        const auto [refField, refBack, refGrad] = run(xyz, in.batch, pf, r);
        const auto [field, back, grad] =
            onTarget([&] { return run(on(xyz), on(in.batch), on(pf), on(r)); });
        expectOnDevice(field.voxels.feats, dev(), what + " voxel features");
        expectOnDevice(field.pointToVoxel, dev(), what + " point-to-voxel map");
        ASSERT_TRUE(torch::equal(field.voxels.coords().cpu(), refField.voxels.coords())) << what;
        EXPECT_TRUE(torch::equal(field.pointToVoxel.cpu(), refField.pointToVoxel)) << what;
        EXPECT_TRUE(torch::equal(field.voxelCounts.cpu(), refField.voxelCounts)) << what;
        // Means of a few values: float32 sums in another order stay within a few ulps.
        const double tol = dtype == torch::kDouble ? kTol64 : 1e-6;
        EXPECT_LT(relErr(field.voxels.feats, refField.voxels.feats), tol) << what;
        EXPECT_LT(relErr(back, refBack), tol) << what;
        EXPECT_LT(relErr(grad, refGrad), tol) << what << " gradient";
    }
}

TEST_P(OnDevice, NearestEncoderRowsEqualTheCpuOnes) {
    const auto qc = randomCoords(2, 40, 600, 27);
    const auto ec = randomCoords(2, 3, 30, 28) * torch::tensor({1, 16, 16, 16}, torch::kInt);
    auto [qm, qo] = CoordinateManager::fromCoords(qc);
    auto [em, eo] = CoordinateManager::fromCoords(ec);
    const auto ref = nearestEncoderRows(SparseTensor{torch::zeros({600, 1}), qm, 1},
                                        SparseTensor{torch::zeros({30, 1}), em, 16});
    const auto got = onTarget([&] {
        auto q = CoordinateManager::fromCoords(on(qc)).first;
        auto e = CoordinateManager::fromCoords(on(ec)).first;
        return nearestEncoderRows(SparseTensor{on(torch::zeros({600, 1})), q, 1},
                                  SparseTensor{on(torch::zeros({30, 1})), e, 16});
    });
    expectOnDevice(got, dev(), "nearest rows");
    EXPECT_TRUE(torch::equal(got.cpu(), ref));
}

// Brute-force reference: per query, the encoder row of its batch element with the smallest
// squared distance in ME units, ties to the lowest row; -1 where the batch element has none.
torch::Tensor bruteNearest(const torch::Tensor& qMe, const torch::Tensor& eMe) {
    const auto q = qMe.to(torch::kLong), e = eMe.to(torch::kLong);
    const auto diff = q.slice(1, 1, 4).unsqueeze(1) - e.slice(1, 1, 4).unsqueeze(0);
    const auto none = std::numeric_limits<std::int64_t>::max();
    auto d = (diff * diff)
                 .sum(2)
                 .masked_fill(q.select(1, 0).unsqueeze(1) != e.select(1, 0).unsqueeze(0), none);
    const auto dmin = std::get<0>(d.min(1));
    auto rows = torch::arange(e.size(0), torch::kLong).unsqueeze(0).expand_as(d);
    auto r = std::get<0>(rows.masked_fill(d != dmin.unsqueeze(1), none).min(1));
    return r.masked_fill(dmin == none, -1);
}

// Queries near the encoder (certified by a ring), far from it (the exact scan of the batch
// element), exact ties, and a batch element without encoder rows.
TEST_P(OnDevice, NearestEncoderRowsAreExactNearAndFar) {
    const auto ec = randomCoords(3, 4, 40, 29) * torch::tensor({1, 16, 16, 16}, torch::kInt);
    const auto qc = randomCoords(3, 300, 3000, 30);
    auto [em, eo] = CoordinateManager::fromCoords(ec);
    auto [qm, qo] = CoordinateManager::fromCoords(qc);
    const SparseTensor encCpu{torch::zeros({40, 1}), em, 16};
    const SparseTensor qCpu{torch::zeros({3000, 1}), qm, 1};
    const auto ref = bruteNearest(qCpu.meCoords(), encCpu.meCoords());
    ASSERT_TRUE((ref >= 0).all().item<bool>());
    // Sanity of the mix: some queries lie within 3 cells of their nearest row, some far beyond.
    const auto nearD = (qCpu.meCoords().slice(1, 1, 4).to(torch::kLong) -
                        encCpu.meCoords().index_select(0, ref).slice(1, 1, 4).to(torch::kLong))
                           .abs()
                           .amax(1);
    EXPECT_GT((nearD <= 32).sum().item<std::int64_t>(), 30);
    EXPECT_GT((nearD > 64).sum().item<std::int64_t>(), 1000);
    EXPECT_TRUE(torch::equal(nearestEncoderRows(qCpu, encCpu), ref)) << "CPU path";
    const auto got = onTarget([&] {
        auto q = CoordinateManager::fromCoords(on(qc)).first;
        auto e = CoordinateManager::fromCoords(on(ec)).first;
        return nearestEncoderRows(SparseTensor{on(torch::zeros({3000, 1})), q, 1},
                                  SparseTensor{on(torch::zeros({40, 1})), e, 16});
    });
    expectOnDevice(got, dev(), "nearest rows");
    EXPECT_TRUE(torch::equal(got.cpu(), ref));

    // Exact ties: (0, -32, 0, 0) and (0, 32, 0, 0) are rows 0 and 1 (key order); every query on
    // the plane x = 0 is equidistant and must get row 0, in the first ring and far out alike.
    const auto tieEnc = torch::tensor({0, 2, 0, 0, 0, -2, 0, 0}, torch::kInt).view({2, 4}) *
                        torch::tensor({1, 16, 16, 16}, torch::kInt);
    const auto tieQ =
        torch::tensor({0, 0, 0, 0, 0, 0, 5, -7, 0, 0, 40, 3, 0, 0, -900, 900}, torch::kInt)
            .view({4, 4});
    const auto ties = onTarget([&] {
        auto q = CoordinateManager::fromCoords(on(tieQ)).first;
        auto e = CoordinateManager::fromCoords(on(tieEnc)).first;
        return nearestEncoderRows(SparseTensor{on(torch::zeros({4, 1})), q, 1},
                                  SparseTensor{on(torch::zeros({2, 1})), e, 16});
    });
    EXPECT_TRUE(torch::equal(ties.cpu(), torch::zeros({4}, torch::kLong))) << ties;

    // Batch element 1 of the query has no encoder rows: an error, not a silent row.
    const auto lonely = torch::tensor({0, 1, 1, 1, 1, 2, 2, 2}, torch::kInt).view({2, 4});
    EXPECT_THROW(onTarget([&] {
                     auto q = CoordinateManager::fromCoords(on(lonely)).first;
                     auto e = CoordinateManager::fromCoords(on(tieEnc)).first;
                     return nearestEncoderRows(SparseTensor{on(torch::zeros({2, 1})), q, 1},
                                               SparseTensor{on(torch::zeros({2, 1})), e, 16});
                 }),
                 InvalidArgument);
}

// Condition encoder + denoiser (training mode: BN batch statistics) and the refiner, forward
// and backward, every parameter gradient, in float64; then in float32 (eval mode).
TEST_P(OnDevice, NetworksForwardAndBackwardMatchTheCpu) {
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
        const bool training = dtype == torch::kDouble;
        const std::string what = training ? "float64, training" : "float32, eval";
        torch::manual_seed(29);
        nets::MinkGlobalEnc cpuEnc(kWidth), devEnc(kWidth);
        nets::MinkUNetDiff cpuNet(kWidth), devNet(kWidth);
        nets::MinkUNet cpuRefiner(kWidth, 3, 18), devRefiner(kWidth, 3, 18);
        std::vector<std::pair<torch::nn::Module*, torch::nn::Module*>> pairs{
            {cpuEnc.get(), devEnc.get()},
            {cpuNet.get(), devNet.get()},
            {cpuRefiner.get(), devRefiner.get()}};
        for (auto [c, d] : pairs) {
            c->to(torch::kDouble);
            randomiseBatchNorm(*c);
            c->to(dtype);
            copyState(*c, *d, dev(), dtype);
            c->train(training);
            d->train(training);
        }
        const auto in = makeInputs(dtype);
        torch::manual_seed(30);
        const auto r = torch::randn({400, 3}, dtype), r18 = torch::randn({400, 18}, dtype);
        auto run = [&](nets::MinkGlobalEnc& enc, nets::MinkUNetDiff& net, nets::MinkUNet& refiner,
                       const torch::Tensor& xyz, const torch::Tensor& b, const torch::Tensor& part,
                       const torch::Tensor& pb, const torch::Tensor& rr,
                       const torch::Tensor& rr18) {
            auto f = xyz.clone().requires_grad_(true);
            auto field = pointsToVoxels(xyz, b, f, kVoxel);
            auto cond = enc(pointsToVoxels(part, pb, part, kVoxel).voxels);
            auto eps = net(field, cond, in.t);  // t stays on the host: the net must move it
            auto y = refiner(pointsToVoxels(xyz, b, xyz, kVoxel));
            ((eps * rr).sum() + (y * rr18).sum()).backward();
            return std::make_tuple(eps.detach(), y.detach(), f.grad());
        };
        const auto [refEps, refY, refDx] =
            run(cpuEnc, cpuNet, cpuRefiner, in.xyz, in.batch, in.partial, in.partialBatch, r, r18);
        const auto [eps, y, dx] = onTarget([&] {
            return run(devEnc, devNet, devRefiner, on(in.xyz), on(in.batch), on(in.partial),
                       on(in.partialBatch), on(r), on(r18));
        });
        expectOnDevice(eps, dev(), "denoiser output");
        ASSERT_EQ(eps.sizes(), refEps.sizes());
        EXPECT_GT(refEps.abs().max().item<double>(), 1e-3);  // not a degenerate all-zero output
        if (training) {
            EXPECT_LT(relErr(eps, refEps), kTol64) << what << " denoiser";
            EXPECT_LT(relErr(y, refY), kTol64) << what << " refiner";
            EXPECT_LT(relErr(dx, refDx), kTol64) << what << " input gradient";
            for (auto [c, d] : pairs) {
                for (const auto& [name, err] : gradientErrors(*d, *c)) {
                    EXPECT_LT(err, kTol64) << what << " gradient of " << name;
                }
            }
            continue;
        }
        // float32: the same networks in float64 on the CPU are the reference.
        nets::MinkGlobalEnc e64(kWidth);
        nets::MinkUNetDiff n64(kWidth);
        nets::MinkUNet r64(kWidth, 3, 18);
        for (auto [m64, c] :
             {std::pair<torch::nn::Module*, torch::nn::Module*>{e64.get(), cpuEnc.get()},
              {n64.get(), cpuNet.get()},
              {r64.get(), cpuRefiner.get()}}) {
            copyState(*c, *m64, torch::kCPU, torch::kDouble);
            m64->train(false);
        }
        auto d64 = [](const torch::Tensor& t) { return t.to(torch::kDouble); };
        const auto [eps64, y64, dx64] = run(e64, n64, r64, d64(in.xyz), in.batch, d64(in.partial),
                                            in.partialBatch, d64(r), d64(r18));
        expectFloat32Close(eps, refEps, eps64, what + " denoiser");
        expectFloat32Close(y, refY, y64, what + " refiner");
        expectFloat32Close(dx, refDx, dx64, what + " input gradient");
        const std::vector<std::tuple<torch::nn::Module*, torch::nn::Module*, torch::nn::Module*>>
            triples{{cpuEnc.get(), devEnc.get(), e64.get()},
                    {cpuNet.get(), devNet.get(), n64.get()},
                    {cpuRefiner.get(), devRefiner.get(), r64.get()}};
        for (auto [c, d, m64] : triples) {
            const auto cpuErrs = gradientErrors(*c, *m64), devErrs = gradientErrors(*d, *m64);
            for (const auto& [name, err] : devErrs) {
                EXPECT_LE(err, kFloat32Ratio * cpuErrs.at(name) + kFloat32Floor)
                    << what << " gradient of " << name;
            }
        }
    }
}

// The public LidiffModel on the target (setDevice): host clouds in, host results out. float32
// only, so the bound is loose (1e-3 of the largest value): it checks the plumbing; the
// precision is checked above.
TEST_P(OnDevice, LidiffModelOnTheTargetMatchesTheCpu) {
    ModelConfig config;
    config.width = kWidth;
    config.hasRefiner = true;
    config.voxelSize = kVoxel;
    const LidiffModel cpu(config, 4);
    LidiffModel target(config, 4);
    target.setDevice(dev().str());
    EXPECT_EQ(target.device(), torch::Device(dev().str()).str());
    const auto in = makeInputs(torch::kFloat);
    PointCloud noisy, partial;
    for (int i = 0; i < 250; ++i) {
        noisy.xyz.push_back(
            {in.xyz[i][0].item<float>(), in.xyz[i][1].item<float>(), in.xyz[i][2].item<float>()});
    }
    for (int i = 0; i < 90; ++i) {
        partial.xyz.push_back({in.partial[i][0].item<float>(), in.partial[i][1].item<float>(),
                               in.partial[i][2].item<float>()});
    }
    auto flat = [](const std::vector<Vec3f>& v) {
        return torch::from_blob(const_cast<Vec3f*>(v.data()),
                                {static_cast<std::int64_t>(v.size()), 3})
            .clone();
    };
    const auto ref = cpu.denoise(noisy, partial, 321);
    const auto got = onTarget([&] { return target.denoise(noisy, partial, 321); });
    ASSERT_EQ(got.size(), ref.size());
    EXPECT_LT(relErr(flat(got), flat(ref)), 1e-3);
    const auto refRefined = cpu.refine(noisy);
    const auto gotRefined = onTarget([&] { return target.refine(noisy); });
    ASSERT_EQ(gotRefined.size(), refRefined.size());
    EXPECT_LT(relErr(torch::tensor(gotRefined), torch::tensor(refRefined)), 1e-3);
    EXPECT_THROW(target.setDevice("tpu:banana"), InvalidArgument);
}

}  // namespace lidistill::ml::sparse::device
