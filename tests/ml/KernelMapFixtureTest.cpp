// SPDX-License-Identifier: MIT
// The engine's kernel maps against an independent fixture (tests/ml/me_kernel_map.py), which
// follows MinkowskiEngine's rules as reference 4.2 states them, on a small cloud of two batch
// elements with negative coordinates, through stride 1 -> 2 -> 4 and the transposed way back:
// every (input, output, kernel index) triple must be the same. Published weights are laid out
// by these rules, so this is what makes them compute the same function here.
#include "core/ml/engine/SparseTensor.h"
#include "tests/ml/PythonSupport.h"
#include "tests/support/TestData.h"

#include <array>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

namespace lidistill::ml::sparse {
namespace {

using Triple = std::array<int, 9>;  // in b x y z, out b x y z, k (ME units)

// The map's pairs in ME units; `swap` reads it as the transposed convolution does.
std::set<Triple> triples(CoordinateManager& m, const KernelMap& map, std::int64_t inStride,
                         std::int64_t outStride, bool swap = false) {
    const auto ci = m.coords(inStride), co = m.coords(outStride);
    std::set<Triple> out;
    for (std::int64_t k = 0; k < map.kernelVolume; ++k) {
        const auto in = map.inOf(k), o = map.outOf(k);
        for (std::int64_t j = 0; j < in.size(0); ++j) {
            Triple t{};
            const auto a = ci[in[j].item<std::int64_t>()], b = co[o[j].item<std::int64_t>()];
            for (int c = 0; c < 4; ++c) {
                t[c] = a[c].item<int>() * (c ? static_cast<int>(inStride) : 1);
                t[4 + c] = b[c].item<int>() * (c ? static_cast<int>(outStride) : 1);
            }
            t[8] = static_cast<int>(k);
            if (swap) {
                for (int c = 0; c < 4; ++c) std::swap(t[c], t[4 + c]);
            }
            out.insert(t);
        }
    }
    return out;
}

std::set<Triple> fixture(const nlohmann::json& j) {
    std::set<Triple> out;
    for (const auto& t : j) out.insert(t.get<Triple>());
    return out;
}

TEST(KernelMapFixture, EngineMapsEqualMinkowskiEnginesRules) {
    const std::string python = LIDISTILL_ML_TEST_PYTHON;
    if (python.empty()) GTEST_SKIP() << "no python3";
    // 300 voxels in [-4, 4]^3 of two batch elements: dense enough for every offset to occur.
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> coord(-4, 4), batch(0, 1);
    std::set<std::array<int, 4>> unique;
    while (unique.size() < 300) unique.insert({batch(rng), coord(rng), coord(rng), coord(rng)});
    std::vector<int> flat;
    nlohmann::json in{{"coords", nlohmann::json::array()}};
    for (const auto& c : unique) {
        flat.insert(flat.end(), c.begin(), c.end());
        in["coords"].push_back(c);
    }
    const auto dir = test::scratchDir();
    std::ofstream(dir / "coords.json") << in.dump();
    const auto out = pytest::runCommand(python + " " +
                                        (pytest::sourceDir() / "tests/ml/me_kernel_map.py").string() +
                                        " < " + (dir / "coords.json").string());
    const auto me = nlohmann::json::parse(out);

    auto [m, order] = CoordinateManager::fromCoords(
        torch::tensor(flat, torch::kInt).view({static_cast<long>(unique.size()), 4}));
    (void)order;
    const auto sub1 = triples(*m, *m->submanifoldMap(1), 1, 1);
    const auto down1 = triples(*m, *m->downsampleMap(1), 1, 2);
    const auto up1 = triples(*m, *m->downsampleMap(1), 1, 2, true);
    const auto sub2 = triples(*m, *m->submanifoldMap(2), 2, 2);
    const auto down2 = triples(*m, *m->downsampleMap(2), 2, 4);
    EXPECT_EQ(sub1, fixture(me["sub1"]));
    EXPECT_EQ(down1, fixture(me["down1"]));
    EXPECT_EQ(up1, fixture(me["up1"]));
    EXPECT_EQ(sub2, fixture(me["sub2"]));
    EXPECT_EQ(down2, fixture(me["down2"]));
    // Not vacuous: every kernel offset occurs, and negatives floor (not truncate).
    std::set<int> ks;
    for (const auto& t : sub1) ks.insert(t[8]);
    EXPECT_EQ(ks.size(), 27u);
    ks.clear();
    for (const auto& t : down1) ks.insert(t[8]);
    EXPECT_EQ(ks.size(), 8u);
    bool negativeParent = false;
    for (const auto& t : down1) negativeParent |= (t[1] == -1 && t[5] == -2);
    EXPECT_TRUE(negativeParent) << "x = -1 must go to the parent at -2";
}

}  // namespace
}  // namespace lidistill::ml::sparse
