// SPDX-License-Identifier: MIT
// Chamfer distance of two 180k-point clouds (real scans tiled and jittered), ours beside
// Open3D's compute_point_cloud_distance run by Debian's python3 on the same files; then the
// full evaluateScan and the opt-in EMD on the same pair.
//
// Usage: bench_metrics [--data SHARED_DATA] [--script open3d_chamfer.py] [--reps N]
//                      [--python PYTHON]

#include "core/io/ScanIo.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/CompletionMetrics.h"
#include "core/metrics/Emd.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <omp.h>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace lidistill;
namespace fs = std::filesystem;

namespace {

std::vector<Vec3f> readBin(const fs::path& file) {
    return io::readKittiBin(file).xyz;
}

void writeBin(const fs::path& file, const std::vector<Vec3f>& pts) {
    PointCloud cloud;
    cloud.xyz = pts;
    io::writeKittiBin(file, cloud);
}

// Tiles `src` with 5 cm jitter until `n` points: a completed scene is denser than the scan.
std::vector<Vec3f> tileTo(const std::vector<Vec3f>& src, std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> jitter(0.f, 0.05f);
    std::vector<Vec3f> out;
    out.reserve(n);
    for (std::size_t i = 0; out.size() < n; i = (i + 1) % src.size()) {
        const auto& p = src[i];
        out.push_back({p[0] + jitter(rng), p[1] + jitter(rng), p[2] + jitter(rng)});
    }
    return out;
}

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Process CPU time: on a shared, loaded machine wall time mostly measures the neighbours.
double cpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
    std::vector<double> wall;
    std::vector<double> cpu;
    void sort() {
        std::sort(wall.begin(), wall.end());
        std::sort(cpu.begin(), cpu.end());
    }
};

void printRow(const char* name, Timing& t, double cd) {
    t.sort();
    std::printf("%-40s %9.3f %9.3f %9.3f %14.9f\n", name, t.wall.front(), t.wall[t.wall.size() / 2],
                t.cpu[t.cpu.size() / 2], cd);
}

}  // namespace

int main(int argc, char** argv) {
    fs::path data = "../shared/data";
    fs::path script = "bench/metrics/open3d_chamfer.py";
    std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    int reps = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--data") {
            data = argv[i + 1];
        } else if (a == "--script") {
            script = argv[i + 1];
        } else if (a == "--reps") {
            reps = std::max(1, std::stoi(argv[i + 1]));
        } else if (a == "--python") {
            python = argv[i + 1];
        }
    }
    try {
        const auto velo = data / "semantickitti-mini" / "sequences" / "00" / "velodyne";
        constexpr std::size_t kPoints = 180000;
        const auto pred = tileTo(readBin(velo / "000003.bin"), kPoints, 1);
        const auto gt = tileTo(readBin(velo / "000000.bin"), kPoints, 2);
        const fs::path dir = fs::temp_directory_path() / "lidistill_bench_metrics";
        fs::create_directories(dir);
        writeBin(dir / "pred.bin", pred);
        writeBin(dir / "gt.bin", gt);

        Timing ours;
        Timing ours1;
        double cd = 0.0;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            const double c0 = cpuSeconds();
            cd = metrics::chamferDistance(pred, gt).chamfer;
            ours.cpu.push_back(cpuSeconds() - c0);
            ours.wall.push_back(seconds(t0));
        }
        omp_set_num_threads(1);
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            const double c0 = cpuSeconds();
            metrics::chamferDistance(pred, gt);
            ours1.cpu.push_back(cpuSeconds() - c0);
            ours1.wall.push_back(seconds(t0));
        }
        omp_set_num_threads(omp_get_num_procs());
        const auto t0 = std::chrono::steady_clock::now();
        const auto scan = metrics::evaluateScan(pred, gt);
        const double evalTime = seconds(t0);

        const std::string cmd = "'" + python + "' '" + script.string() + "' '" +
                                (dir / "pred.bin").string() + "' '" + (dir / "gt.bin").string() +
                                "' " + std::to_string(reps);
        Timing o3d;
        double o3dValue = 0.0;
        if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
            char buf[512];
            while (std::fgets(buf, sizeof buf, pipe)) {
                std::istringstream ls(buf);
                std::string key, cpuKey, valueKey;
                double t = 0.0;
                double c = 0.0;
                ls >> key >> t >> cpuKey >> c >> valueKey >> o3dValue;
                if (key == "cd_s") {
                    o3d.wall.push_back(t);
                    o3d.cpu.push_back(c);
                }
            }
            ::pclose(pipe);
        }
        std::printf(
            "Chamfer distance, two clouds of %zu points (SemanticKITTI 00 scans 3 and 0,\n"
            "tiled with 5 cm jitter), %d runs each, %d OpenMP threads; wall best/median,\n"
            "process CPU median (CPU time is what to compare on a loaded machine)\n\n",
            kPoints, reps, omp_get_num_procs());
        std::printf("%-40s %9s %9s %9s %14s\n", "implementation", "best s", "median s", "cpu s",
                    "CD m");
        printRow("lidistill (nanoflann, OpenMP)", ours, cd);
        printRow("lidistill (1 thread)", ours1, cd);
        if (o3d.wall.empty()) {
            std::printf("Open3D: the Python side failed; command: %s\n", cmd.c_str());
        } else {
            printRow("Open3D compute_point_cloud_distance x2", o3d, o3dValue);
        }
        std::printf("\nevaluateScan (CD, JSD BEV/3D, IoU x6, P/R/F; no EMD): %.3f s\n", evalTime);
        std::printf("  CD %.4f  JSD BEV %.4f  JSD 3D %.4f  IoU0.1 current %.4f old %.4f\n",
                    scan.chamfer, scan.jsdBev, scan.jsd3d, scan.voxelCurrent[2].iou(),
                    scan.voxelOld[2].iou());
        const auto e0 = std::chrono::steady_clock::now();
        const double ec0 = cpuSeconds();
        const auto emd = metrics::sinkhornEmd(pred, gt);
        std::printf(
            "\nEMD (Distillation-DPO settings, 0.5 m voxels): %s in %.3f s wall, %.3f s cpu\n",
            emd ? std::to_string(*emd).c_str() : "skipped (> 130000 voxels)", seconds(e0),
            cpuSeconds() - ec0);
        return o3d.wall.empty() ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_metrics: " << e.what() << "\n";
        return 1;
    }
}
