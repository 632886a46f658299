#pragma once
// SPDX-License-Identifier: MIT
// A small pair store for the curation tests: pairs on the bundled sequence's frames, with
// candidate clouds whose point counts tell which candidate a view shows.

#include "core/io/CloudFile.h"
#include "core/pairs/PairStore.h"

#include <QString>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace lidistill::ui::test {

/// What one test pair is made of.
struct PairSpec {
    std::string frame;
    bool aShownLeft;
    double cdA, cdB;  ///< the metric is CD: the lower one is its verdict
};

/// Points of candidate A of the k-th pair (0-based); B has 100 more.
inline std::size_t pointsOfA(std::size_t k) {
    return 100 + k;
}

/// A flat patch of `n` points in front of the sensor, distinct per file.
inline PointCloud patch(std::size_t n, float z) {
    PointCloud c;
    for (std::size_t i = 0; i < n; ++i) {
        c.xyz.push_back({5.f + 0.05f * static_cast<float>(i % 40),
                         -1.f + 0.05f * static_cast<float>(i / 40), z});
    }
    return c;
}

/// Creates `file` with one pair per spec on `sequence` (absolute), ids 1, 2, ... in order.
inline std::vector<long long> makeStore(const std::filesystem::path& file, const QString& sequence,
                                        const std::vector<PairSpec>& specs) {
    auto store = pairs::PairStore::open(file, true);
    std::filesystem::create_directories(store.cloudDir());
    std::vector<long long> ids;
    for (std::size_t k = 0; k < specs.size(); ++k) {
        const PairSpec& s = specs[k];
        pairs::Pair p;
        p.recipe.sequence = sequence.toStdString();
        p.recipe.frame = s.frame;
        p.recipe.model = "test.safetensors";
        p.recipe.modelHash = "0123456789abcdef";
        p.recipe.seedA = k;
        p.recipe.seedB = k;
        p.recipe.lambda = 1.1;
        p.metric = "cd";
        p.a.cloud = "p" + std::to_string(k) + "_a.bin";
        p.b.cloud = "p" + std::to_string(k) + "_b.bin";
        io::writeCloud(store.cloudDir() / p.a.cloud, patch(pointsOfA(k), 0.f));
        io::writeCloud(store.cloudDir() / p.b.cloud, patch(pointsOfA(k) + 100, 0.5f));
        p.a.cd = s.cdA;
        p.b.cd = s.cdB;
        p.automatic = s.cdA < s.cdB   ? pairs::Verdict::A
                      : s.cdB < s.cdA ? pairs::Verdict::B
                                      : pairs::Verdict::Tie;
        p.margin = std::abs(s.cdA - s.cdB);
        p.aShownLeft = s.aShownLeft;
        ids.push_back(store.add(p));
    }
    return ids;
}

}  // namespace lidistill::ui::test
