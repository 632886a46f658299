// SPDX-License-Identifier: MIT
// Synthetic HDL-64E scans against the real SemanticKITTI 00 scans: same counts, rings,
// range and height distributions, ground share, within tolerant but meaningful bounds.
#include "core/io/ScanIo.h"
#include "core/synth/Realism.h"
#include "core/synth/Simulator.h"
#include "tests/support/TestData.h"

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <iostream>

namespace lidistill::synth {
namespace {

ScanStats realStats() {
    std::vector<ScanStats> s;
    const auto dir = test::semanticKittiSeq00();
    for (int i = 0; i < 10; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "%06d", i);
        s.push_back(
            computeScanStats(io::readKittiScan(dir / "velodyne" / (std::string(name) + ".bin"),
                                               dir / "labels" / (std::string(name) + ".label"))));
    }
    return averageStats(s);
}

ScanStats syntheticStats(Preset preset) {
    std::vector<ScanStats> s;
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        WorldConfig wc;
        wc.seed = seed;
        wc.preset = preset;
        wc.duration = 1.0;
        const World w = World::generate(wc);
        LidarSimulator sim(w, LidarConfig::hdl64(), seed);
        for (std::size_t f : {0u, 4u, 8u}) s.push_back(computeScanStats(sim.scan(f)));
    }
    return averageStats(s);
}

TEST(Realism, StatsOfAKnownScan) {
    // Two rings of four points each, in KITTI order (azimuth 0 -> 360), two on the ground.
    PointCloud c;
    for (int ring = 0; ring < 2; ++ring) {
        for (int k = 0; k < 300; ++k) {
            const double az = 2 * 3.141592653589793 * (k + 0.5) / 300.0;
            const double r = ring == 0 ? 20.0 : 4.0;
            c.xyz.push_back(
                {float(r * std::cos(az)), float(r * std::sin(az)), ring == 0 ? 1.0f : -1.7f});
            c.label.push_back(ring == 0 ? 50u : 40u);
            c.intensity.push_back(0.5f);
        }
    }
    const ScanStats s = computeScanStats(c);
    EXPECT_EQ(s.points, 600);
    ASSERT_EQ(s.rings, 2);
    EXPECT_EQ(s.pointsPerRing[0], 300);
    EXPECT_NEAR(s.groundFraction, 0.5, 1e-12);
    EXPECT_NEAR(s.rangeHistogram[0], 0.5, 1e-12);  // 0-5 m
    EXPECT_NEAR(s.rangeHistogram[4], 0.5, 1e-12);  // 20-30 m
    EXPECT_NEAR(s.meanIntensity, 0.5, 1e-6);
    EXPECT_NEAR(jensenShannon({1, 0}, {1, 0}), 0.0, 1e-12);
    EXPECT_NEAR(jensenShannon({1, 0}, {0, 1}), std::log(2.0), 1e-12);
}

TEST(Realism, SyntheticHdl64ScansResembleRealKittiScans) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const ScanStats real = realStats();
    const ScanStats urban = syntheticStats(Preset::Urban);
    const ScanStats suburban = syntheticStats(Preset::Suburban);
    std::cout << formatStatsTable(
        {"real KITTI 00 (10 scans)", "synthetic urban (9)", "synthetic suburban (9)"},
        {real, urban, suburban});
    for (const ScanStats* s : {&urban, &suburban}) {
        EXPECT_NEAR(s->points / real.points, 1.0, 0.30);
        EXPECT_NEAR(s->rings, 64.0, 0.5);
        EXPECT_NEAR(real.rings, 64.0, 0.5);
        // Ring structure: the middle rings are nearly full in both; upper rings lose sky,
        // lower rings lose the vehicle's own shadow.
        std::vector<double> ratio;
        for (std::size_t r = 0; r < 64; ++r)
            ratio.push_back(std::abs(s->pointsPerRing[r] / real.pointsPerRing[r] - 1.0));
        std::sort(ratio.begin(), ratio.end());
        EXPECT_LT(ratio[32], 0.10) << "median per-ring deviation";
        EXPECT_LT(ratio[57], 0.35) << "90th percentile per-ring deviation";
        EXPECT_NEAR(s->groundFraction, real.groundFraction, 0.15);
        const double jsRange = jensenShannon(s->rangeHistogram, real.rangeHistogram);
        const double jsHeight = jensenShannon(s->heightHistogram, real.heightHistogram);
        std::cout << "Jensen-Shannon range " << jsRange << ", height " << jsHeight << '\n';
        EXPECT_LT(jsRange, 0.03);
        // A level ego on a crowned road put 1-3 % of the points below z = -1.9 m (real: 13.6 %,
        // the far side of the road falling away from a car rolled with its own lane).
        EXPECT_LT(jsHeight, 0.015);
        const double below = s->heightHistogram[0] + s->heightHistogram[1];
        EXPECT_GT(below, 0.5 * (real.heightHistogram[0] + real.heightHistogram[1]));
        EXPECT_LT(below, 1.5 * (real.heightHistogram[0] + real.heightHistogram[1]));
        // Points within 5 m: the ground matches; parked cars abreast still give more points
        // than the real scans' (dark paint drop-outs at close range are not modelled).
        EXPECT_LT(s->rangeHistogram[0], 3.0 * real.rangeHistogram[0]);
        EXPECT_GT(s->rangeHistogram[0], 0.67 * real.rangeHistogram[0]);
        EXPECT_NEAR(s->medianRange / real.medianRange, 1.0, 0.4);
        EXPECT_NEAR(s->meanIntensity / real.meanIntensity, 1.0, 0.4);
    }
}

TEST(Realism, SyntheticHdl32ScansResembleTheNuscenesSweep) {
    const auto file = test::sharedData() / "nuscenes-sweep";
    if (!std::filesystem::exists(file)) GTEST_SKIP() << "no nuScenes sweep";
    std::filesystem::path sweep;
    for (const auto& e : std::filesystem::directory_iterator(file)) sweep = e.path();
    const PointCloud real = io::readNuscenesBin(sweep, io::NuscenesAxes::KittiFrame);
    WorldConfig wc;
    wc.seed = 5;
    wc.duration = 0.5;
    const World w = World::generate(wc);
    LidarSimulator sim(w, LidarConfig::hdl32(), 5);
    const PointCloud syn = sim.scan(2);
    EXPECT_NEAR(double(syn.size()) / double(real.size()), 1.0, 0.3);
    double maxReal = 0, maxSyn = 0;
    for (float v : real.intensity) maxReal = std::max(maxReal, double(v));
    for (float v : syn.intensity) maxSyn = std::max(maxSyn, double(v));
    EXPECT_GT(maxSyn, 0.3 * maxReal);  // both on the 0..255 scale
}

}  // namespace
}  // namespace lidistill::synth
