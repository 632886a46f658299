#pragma once
// SPDX-License-Identifier: MIT
//
// Internal to lidistill_ml (torch-free): the stored preference pairs a Distillation-DPO run
// trains on (`train-dpo --pairs`). The store is shared with people deciding pairs in the studio
// while the run goes, so its verdicts are read again at every refresh(); the clouds, which never
// change once stored, are read once and kept.

#include "core/base/PointCloud.h"
#include "core/pairs/PairStore.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lidistill::ml::training {

/// One stored pair as the trainer uses it; the clouds live in the feed.
struct StoredPairDraw {
    long long id = 0;
    bool human = false;  ///< the verdict is a person's (else the metric's)
    bool bWon = false;   ///< candidate B (the lambda-scaled or second-seed one) is the winner
    double cdWinner = 0, cdLoser = 0;  ///< stored Chamfer distances of the scored clouds
    const PointCloud* partial = nullptr;
    const PointCloud* winner = nullptr;  ///< the raw diffusion samples
    const PointCloud* loser = nullptr;
};

class StoredPairFeed {
public:
    /// @throws IoError naming the file for a missing or foreign store.
    explicit StoredPairFeed(const std::filesystem::path& store);

    /// Reads the verdicts again. A pair is usable when its effective verdict (Pair::effective)
    /// is A or B and it kept its condition. @throws IoError.
    void refresh();
    /// Usable pairs at the last refresh, and how many of them a person decided.
    long long usable() const noexcept { return static_cast<long long>(m_usable.size()); }
    long long humanDecided() const noexcept { return m_human; }
    /// One usable pair, drawn uniformly by `seed`. @throws InvalidArgument when none is
    /// usable; IoError naming the file for a cloud that cannot be read.
    StoredPairDraw draw(std::uint64_t seed);

    const std::filesystem::path& file() const noexcept { return m_store.file(); }

private:
    const PointCloud& cloud(const std::string& name);

    pairs::PairStore m_store;
    std::vector<pairs::Pair> m_usable;
    long long m_human = 0;
    std::map<std::string, PointCloud> m_clouds;
};

}  // namespace lidistill::ml::training
