// SPDX-License-Identifier: MIT
// How often LiDiff's nearest-encoder-voxel lookup ties, and how much it matters which tied row
// wins (issue 13). LiDiff's KeOps argKmin breaks ties in an undefined order; ours takes the
// lowest row. On a real scan this prints, for the denoiser's five strides and three noise
// levels, the share of voxels whose nearest encoder voxel is not unique, then the change of the
// model's noise prediction and of a whole completion when ties go to the highest row instead.
// Usage: bench_ml_ties MODEL SCAN [full]   (full: also the tie counts at LiDiff's full scale,
// which depend only on the coordinates, so fresh weights serve)
#include "core/io/CloudFile.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/Completion.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/diffusion/DpmSolver.h"
#include "core/ml/engine/SparseOps.h"

#include <cstdio>
#include <string>

using namespace lidistill;
using namespace lidistill::ml;

namespace {

// Shares of query voxels (per stride) whose minimum squared distance to the encoder's voxels
// (ME units, one batch element) is reached by more than one encoder voxel.
void printTies(const LidiffModel& model, const torch::Tensor& xt, const PointCloud& partial,
               const char* label) {
    auto& impl = model.impl();
    torch::NoGradGuard guard;
    const auto cond = impl.encoder(impl.field(partial, "partial").voxels);
    const auto enc = cond.meCoords().slice(1, 1, 4).to(torch::kLong);
    const auto field = impl.voxelize(xt);
    std::printf("%-28s", label);
    for (std::int64_t s = 1; s <= 16; s *= 2) {
        const auto q = field.voxels.manager->coords(s).slice(1, 1, 4).to(torch::kLong) * s;
        std::int64_t tied = 0;
        for (std::int64_t i = 0; i < q.size(0); i += 2048) {
            const auto chunk = q.slice(0, i, std::min(i + 2048, q.size(0)));
            const auto d = (chunk.unsqueeze(1) - enc.unsqueeze(0)).pow(2).sum(2);
            const auto best = std::get<0>(d.min(1)).unsqueeze(1);
            tied += d.eq(best).sum(1).gt(1).sum().item().toLong();
        }
        std::printf("  s%-2lld %5.1f %%", static_cast<long long>(s),
                    100.0 * double(tied) / double(q.size(0)));
    }
    std::printf("   (%lld encoder voxels)\n", static_cast<long long>(enc.size(0)));
}

torch::Tensor noisy(const torch::Tensor& x0, int t, std::uint64_t seed) {
    diffusion::NoiseSchedule schedule;
    auto gen = at::detail::createCPUGenerator(seed);
    return x0 + schedule.sigma(t) * torch::randn(x0.sizes(), gen, torch::kFloat);
}

double relativeChange(const std::vector<Vec3f>& a, const std::vector<Vec3f>& b) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (int c = 0; c < 3; ++c) {
            num += double(a[i][c] - b[i][c]) * double(a[i][c] - b[i][c]);
            den += double(a[i][c]) * double(a[i][c]);
        }
    }
    return std::sqrt(num / den);
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines as they come, also into a log
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_ml_ties MODEL SCAN [full]\n");
        return 2;
    }
    const auto model = LidiffModel::load(argv[1]);
    const PointCloud scan = io::readCloud(argv[2]);
    auto options = completionOptionsFor(model.config());
    std::printf("model %s (%s scale, width %.3g, %.2f m voxels), scan %s\n", argv[1],
                model.config().scale.name.c_str(), model.config().width,
                model.config().voxelSize, argv[2]);

    sparse::setNearestTieRule(sparse::NearestTieRule::Lowest);
    const auto lowest = completeScan(model, scan, options);
    sparse::setNearestTieRule(sparse::NearestTieRule::Highest);
    const auto highest = completeScan(model, scan, options);
    sparse::setNearestTieRule(sparse::NearestTieRule::Lowest);

    std::printf("\nvoxels whose nearest encoder voxel ties, per denoiser stride:\n");
    const auto x0 = ml::detail::xyzTensor(lowest.diffused, "diffused");
    for (int t : {999, 500, 100}) {
        const std::string label = "x0 + sigma_" + std::to_string(t) + " eps";
        printTies(model, noisy(x0, t, 1), lowest.partial, label.c_str());
    }
    std::printf("\nnoise prediction, ties to the highest row vs the lowest (relative L2):\n");
    for (int t : {999, 500, 100}) {
        const PointCloud xt = ml::detail::cloudOf(noisy(x0, t, 2));
        sparse::setNearestTieRule(sparse::NearestTieRule::Lowest);
        const auto a = model.denoise(xt, lowest.partial, t);
        sparse::setNearestTieRule(sparse::NearestTieRule::Highest);
        const auto b = model.denoise(xt, lowest.partial, t);
        sparse::setNearestTieRule(sparse::NearestTieRule::Lowest);
        std::printf("  t %3d: %.4f\n", t, relativeChange(a, b));
    }
    const auto& la = lowest.refined.empty() ? lowest.diffused : lowest.refined;
    const auto& ha = highest.refined.empty() ? highest.diffused : highest.refined;
    std::printf("\nwhole completion (%d steps, w %.1f, seed 0), highest vs lowest:\n",
                options.steps, options.guidance);
    std::printf("  points %zu vs %zu; Chamfer distance between them %.4f m (diffused %.4f m)\n",
                ha.size(), la.size(), metrics::chamferDistance(ha, la).chamfer,
                metrics::chamferDistance(highest.diffused, lowest.diffused).chamfer);
    // For scale: the same rule, another noise seed.
    auto other = options;
    other.seed = 1;
    const auto seed1 = completeScan(model, scan, other);
    const auto& sa = seed1.refined.empty() ? seed1.diffused : seed1.refined;
    std::printf("  for scale, lowest rule with seed 1 vs seed 0: %.4f m (diffused %.4f m)\n",
                metrics::chamferDistance(sa, la).chamfer,
                metrics::chamferDistance(seed1.diffused, lowest.diffused).chamfer);

    if (argc > 3 && std::string(argv[3]) == "full") {
        // LiDiff's full scale: its x_init (18 000 samples x 10) noised as the sampler meets it.
        ModelConfig c;
        const LidiffModel full(c, 0);
        auto fo = completionOptionsFor(c);
        fo.steps = 1;
        fo.refine = false;
        const auto start = completeScan(full, scan, fo);
        const auto xinit = ml::detail::xyzTensor(start.partial, "partial").repeat({fo.tile, 1});
        std::printf("\nLiDiff's full scale (0.05 m voxels, x_init = 18k x 10):\n");
        for (int t : {999, 500, 100}) {
            const std::string label = "x_init + sigma_" + std::to_string(t) + " eps";
            printTies(full, noisy(xinit, t, 1), start.partial, label.c_str());
        }
    }
    return 0;
}
