// SPDX-License-Identifier: MIT
#include "core/ml/training/StoredPairs.h"

#include "core/base/Error.h"
#include "core/io/CloudFile.h"

#include <random>

namespace lidistill::ml::training {

StoredPairFeed::StoredPairFeed(const std::filesystem::path& store)
    : m_store(pairs::PairStore::open(store)) {}

void StoredPairFeed::refresh() {
    m_usable.clear();
    m_human = 0;
    for (auto& p : m_store.list()) {
        const auto v = p.effective();
        if ((v != pairs::Verdict::A && v != pairs::Verdict::B) || p.partial.empty()) continue;
        if (p.human == pairs::Verdict::A || p.human == pairs::Verdict::B) ++m_human;
        m_usable.push_back(std::move(p));
    }
}

const PointCloud& StoredPairFeed::cloud(const std::string& name) {
    auto it = m_clouds.find(name);
    if (it == m_clouds.end()) {
        PointCloud c = io::readCloud(m_store.cloudDir() / name);
        if (c.empty()) throw IoError(m_store.cloudDir() / name, "stored pair cloud has no point");
        it = m_clouds.emplace(name, std::move(c)).first;
    }
    return it->second;
}

StoredPairDraw StoredPairFeed::draw(std::uint64_t seed) {
    if (m_usable.empty()) {
        throw InvalidArgument(m_store.file().string() +
                              ": no usable pair (every pair is pending with a metric tie, a tie, "
                              "skipped, or lacks its clouds)");
    }
    std::mt19937_64 rng(seed);
    const auto& p = m_usable[std::uniform_int_distribution<std::size_t>(0, m_usable.size() - 1)(rng)];
    StoredPairDraw d;
    d.id = p.id;
    d.human = p.human == pairs::Verdict::A || p.human == pairs::Verdict::B;
    d.bWon = p.effective() == pairs::Verdict::B;
    const auto& w = d.bWon ? p.b : p.a;
    const auto& l = d.bWon ? p.a : p.b;
    d.cdWinner = w.cd;
    d.cdLoser = l.cd;
    d.partial = &cloud(p.partial);
    d.winner = &cloud(w.raw.empty() ? w.cloud : w.raw);
    d.loser = &cloud(l.raw.empty() ? l.cloud : l.raw);
    return d;
}

}  // namespace lidistill::ml::training
