// SPDX-License-Identifier: MIT
// Scans per second of the LiDAR simulator (target: >= 10 scans of ~120k points a second on
// 2 cores), for the scan alone and with the SemanticKITTI files written.
// Usage: bench_synth [FRAMES] [PRESET]
#include "core/synth/SequenceWriter.h"
#include "core/synth/Simulator.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <omp.h>
#include <string>

using namespace lidistill::synth;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
    const std::size_t frames = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 50;
    const std::string preset = argc > 2 ? argv[2] : "urban";
    // The machine may be shared: the load average says how much the wall-clock figures are
    // worth (the CPU-time figures are not affected).
    std::string load = "unknown";
    if (std::ifstream in("/proc/loadavg"); in) std::getline(in, load);
    std::printf("threads: %d, load average at start: %s\n", omp_get_max_threads(), load.c_str());
    for (const char* sensor : {"hdl64", "hdl32"}) {
        WorldConfig wc;
        wc.seed = 1;
        wc.preset = presetFromName(preset);
        const LidarConfig lidar = LidarConfig::byName(sensor);
        wc.duration = static_cast<double>(frames + 1) / lidar.rateHz;
        auto t = Clock::now();
        const World world = World::generate(wc);
        const double tWorld = since(t);
        t = Clock::now();
        LidarSimulator sim(world, lidar, 1);
        const double tBvh = since(t);
        t = Clock::now();
        const std::clock_t cpu0 = std::clock();
        std::size_t points = 0;
        for (std::size_t i = 0; i < frames; ++i) points += sim.scan(i).size();
        const double tScan = since(t);
        const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
        std::printf("%s %s: world %zu triangles, %zu movers, generated in %.3f s, BVH %.3f s\n",
                    sensor, preset.c_str(), world.staticMesh().triangleCount(),
                    world.movers().size(), tWorld, tBvh);
        std::printf("%s scan only: %zu scans, %.0f points a scan, %.1f scans/s wall-clock\n",
                    sensor, frames, double(points) / double(frames), double(frames) / tScan);
        // On a shared machine wall-clock depends on the neighbours; CPU time does not.
        std::printf("%s scan only: %.1f ms CPU a scan -> %.1f scans/s on 2 dedicated cores\n",
                    sensor, 1000.0 * cpu / double(frames), 2.0 * double(frames) / cpu);
    }
    const auto dir = std::filesystem::temp_directory_path() / "lidistill_bench_synth";
    std::filesystem::remove_all(dir);
    SynthOptions o;
    o.seed = 1;
    o.frames = frames;
    o.preset = presetFromName(preset);
    const SynthSummary s = writeSyntheticSequence(dir, o);
    std::printf(
        "hdl64 end to end (world + scans + files): %zu scans, %.0f points a scan, %.1f scans/s\n",
        s.frames, double(s.points) / double(s.frames), double(s.frames) / s.seconds);
    std::filesystem::remove_all(dir);
    return 0;
}
