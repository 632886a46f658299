// SPDX-License-Identifier: MIT
// Prints the realism table (Markdown): real SemanticKITTI scans next to synthetic HDL-64E
// scans of each preset. Usage: synth_realism_report REAL_SEQUENCE_DIR [SEEDS]
#include "core/dataset/Sequence.h"
#include "core/synth/Realism.h"
#include "core/synth/Simulator.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

using namespace lidistill;
using namespace lidistill::synth;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: synth_realism_report REAL_SEQUENCE_DIR [SEEDS]\n");
        return 2;
    }
    try {
        const int seeds = argc > 2 ? std::atoi(argv[2]) : 4;
        const Sequence seq = Sequence::open(argv[1]);
        std::vector<ScanStats> real;
        for (std::size_t i = 0; i < seq.size(); ++i)
            real.push_back(computeScanStats(seq.loadScan(i)));
        std::vector<std::string> names{"real KITTI 00 (" + std::to_string(seq.size()) + " scans)"};
        std::vector<ScanStats> cols{averageStats(real)};
        for (Preset p : {Preset::Urban, Preset::Suburban, Preset::Rural}) {
            std::vector<ScanStats> s;
            for (int seed = 1; seed <= seeds; ++seed) {
                WorldConfig wc;
                wc.seed = static_cast<std::uint64_t>(seed);
                wc.preset = p;
                wc.duration = 1.1;
                const World w = World::generate(wc);
                LidarSimulator sim(w, LidarConfig::hdl64(), static_cast<std::uint64_t>(seed));
                for (std::size_t f = 0; f < 10; f += 3) s.push_back(computeScanStats(sim.scan(f)));
            }
            names.push_back(std::string("synthetic ") + presetName(p) + " (" +
                            std::to_string(s.size()) + ")");
            cols.push_back(averageStats(s));
        }
        std::cout << formatStatsTable(names, cols);
        std::cout << "\nJensen-Shannon divergence to the real scans (0 = same, ln 2 = disjoint):\n";
        for (std::size_t i = 1; i < cols.size(); ++i) {
            std::printf("  %-28s range %.4f  height %.4f\n", names[i].c_str(),
                        jensenShannon(cols[i].rangeHistogram, cols[0].rangeHistogram),
                        jensenShannon(cols[i].heightHistogram, cols[0].heightHistogram));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "synth_realism_report: %s\n", e.what());
        return 1;
    }
    return 0;
}
