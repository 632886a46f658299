// SPDX-License-Identifier: MIT
#include "core/pairs/PairMaker.h"

#include "core/base/Error.h"
#include "core/io/CloudFile.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/HistogramJsd.h"
#include "core/metrics/VoxelIoU.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>

namespace lidistill::pairs {
namespace fs = std::filesystem;

bool isPairMetric(const std::string& metric) {
    return metric == "cd" || metric == "jsd" || metric == "iou" || metric == "weighted";
}

double pairScore(const Candidate& c, const std::string& metric) {
    if (metric == "cd") return c.cd;
    if (metric == "jsd") return c.jsd;
    if (metric == "iou") return -c.iou;
    return c.cd + c.jsd - c.iou;
}

std::string modelFileHash(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw IoError(file, "cannot read");
    std::uint64_t h = 1469598103934665603ULL;
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ULL;
        }
    }
    if (in.bad()) throw IoError(file, "read error");
    std::ostringstream os;
    os << std::hex << std::setw(16) << std::setfill('0') << h;
    return os.str();
}

fs::path pairMapFile(const PairStore& store, const fs::path& sequenceDir,
                     const std::string& modelHash) {
    const fs::path dir = sequenceDir.filename().empty() ? sequenceDir.parent_path() : sequenceDir;
    return store.cloudDir() / (dir.filename().string() + "-" + modelHash + ".ldmap");
}

Recipe pairRecipe(const std::string& sequence, const std::string& frame, std::size_t index,
                  const std::string& model, const std::string& modelHash, std::uint64_t seed,
                  double lambda, bool independentSeeds, int steps, double guidance) {
    Recipe r;
    r.sequence = sequence;
    r.frame = frame;
    r.model = model;
    r.modelHash = modelHash;
    r.seedA = seed + index;
    r.seedB = independentSeeds ? r.seedA + 1000003 : r.seedA;
    r.lambda = independentSeeds ? 1.0 : lambda;
    r.steps = steps;
    r.guidance = guidance;
    return r;
}

long long storeCandidatePair(PairStore& store, const Recipe& r, std::size_t frameIndex,
                             const CandidateClouds& a, const CandidateClouds& b,
                             const PointCloud& truth, const std::string& metric, Pair* stored) {
    if (!isPairMetric(metric)) {
        throw InvalidArgument("a pair metric is cd, jsd, iou or weighted, not '" + metric + "'");
    }
    Pair pair;
    pair.recipe = r;
    pair.metric = metric;
    std::ostringstream name;
    name << r.frame << "_s" << r.seedA << "_" << r.seedB << "_l" << r.lambda << "_w" << r.guidance
         << "_n" << r.steps << "_" << r.modelHash.substr(0, 8);
    const std::string stem = name.str();
    const fs::path dir = store.cloudDir();
    fs::create_directories(dir);
    const CandidateClouds* made[2] = {&a, &b};
    Candidate* cands[2] = {&pair.a, &pair.b};
    for (int side = 0; side < 2; ++side) {
        const CandidateClouds& done = *made[side];
        const PointCloud& cloud = done.refined.empty() ? done.diffused : done.refined;
        Candidate& c = *cands[side];
        c.cloud = stem + (side == 0 ? "_a.bin" : "_b.bin");
        if (!done.refined.empty()) {
            c.raw = stem + (side == 0 ? "_a_raw.bin" : "_b_raw.bin");
            io::writeCloud(dir / c.raw, done.diffused);
        } else {
            c.raw = c.cloud;
        }
        if (side == 0) {
            pair.partial = stem + "_partial.bin";
            io::writeCloud(dir / pair.partial, done.partial);
        }
        io::writeCloud(dir / c.cloud, cloud);
        c.cd = metrics::chamferDistance(cloud, truth).chamfer;
        try {
            c.jsd = metrics::jensenShannonDistance(cloud.xyz, truth.xyz, true);
        } catch (const InvalidArgument&) {  // an empty cloud has no histogram
            c.jsd = std::numeric_limits<double>::quiet_NaN();
        }
        c.iou = metrics::voxelConfusion(cloud.xyz, truth.xyz, 0.5,
                                        metrics::VoxelIoUDefinition::Current)
                    .iou();
    }
    const double sa = pairScore(pair.a, metric), sb = pairScore(pair.b, metric);
    pair.margin = std::abs(sa - sb);
    pair.automatic = sa < sb ? Verdict::A : sb < sa ? Verdict::B : Verdict::Tie;
    // The side shown on the left, drawn once and stored (blind comparisons).
    pair.aShownLeft = std::mt19937_64(r.seedA * 7919 + frameIndex)() % 2 == 0;
    pair.id = store.add(pair);
    if (stored) *stored = pair;
    return pair.id;
}

}  // namespace lidistill::pairs
