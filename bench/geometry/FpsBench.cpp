// SPDX-License-Identifier: MIT
// Farthest point sampling as LiDiff runs it: each SemanticKITTI 00 scan range-filtered to
// 3.5 < |p| < 50 m, then 18 000 picks. Ours beside the plain O(picks x points) loop Open3D
// runs (in C++ here, same arithmetic) and beside Open3D itself through Debian's python3.
//
// Usage: bench_geometry [--data SHARED_DATA] [--script open3d_fps_time.py] [--reps N]
//                       [--python PYTHON]

#include "core/geometry/FarthestPointSampling.h"
#include "core/io/ScanIo.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace lidistill;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kPicks = 18000;

double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

PointCloud lidiffScan(const fs::path& file) {
    PointCloud cloud = io::readKittiBin(file);
    std::vector<bool> keep(cloud.size());
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        const auto& p = cloud.xyz[i];
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        keep[i] = r > 3.5 && r < 50.0;
    }
    cloud.filter(keep);
    return cloud;
}

// Open3D 0.16's loop: every pick updates every point.
std::vector<std::size_t> plainLoop(const std::vector<Vec3f>& xyz, std::size_t count) {
    std::vector<double> x(xyz.size()), y(xyz.size()), z(xyz.size());
    for (std::size_t j = 0; j < xyz.size(); ++j) {
        x[j] = xyz[j][0];
        y[j] = xyz[j][1];
        z[j] = xyz[j][2];
    }
    std::vector<double> dist(xyz.size(), std::numeric_limits<double>::infinity());
    std::vector<std::size_t> picks;
    std::size_t farthest = 0;
    for (std::size_t i = 0; i < count; ++i) {
        picks.push_back(farthest);
        const double sx = x[farthest], sy = y[farthest], sz = z[farthest];
        double best = 0;
        for (std::size_t j = 0; j < xyz.size(); ++j) {
            const double dx = x[j] - sx, dy = y[j] - sy, dz = z[j] - sz;
            dist[j] = std::min(dist[j], (dx * dx + dy * dy) + dz * dz);
            if (dist[j] > best) {
                best = dist[j];
                farthest = j;
            }
        }
    }
    return picks;
}

}  // namespace

int main(int argc, char** argv) {
    fs::path data = "../shared/data";
    fs::path script = "bench/geometry/open3d_fps_time.py";
    std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    int reps = 3;
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
        std::printf(
            "Farthest point sampling, %zu picks from SemanticKITTI 00 scans filtered to\n"
            "3.5 < |p| < 50 m (LiDiff); best of %d runs, single thread\n\n",
            kPicks, reps);
        std::printf("%-12s %8s %10s\n", "scan", "points", "ours ms");
        std::vector<double> all;
        PointCloud first;
        for (int f = 0; f < 10; ++f) {
            char name[16];
            std::snprintf(name, sizeof name, "%06d.bin", f);
            if (!fs::exists(velo / name)) {
                continue;
            }
            const PointCloud scan = lidiffScan(velo / name);
            if (first.empty()) {
                first = scan;
            }
            double best = 1e300;
            for (int r = 0; r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                geometry::farthestPointIndices(scan.xyz, kPicks);
                best = std::min(best, msSince(t0));
            }
            all.push_back(best);
            std::printf("%-12s %8zu %10.1f\n", name, scan.size(), best);
        }
        if (first.empty()) {
            std::cerr << "bench_geometry: no scans under " << velo << "\n";
            return 1;
        }
        std::sort(all.begin(), all.end());
        std::printf("median over %zu scans: %.1f ms\n\n", all.size(), all[all.size() / 2]);

        const auto t0 = std::chrono::steady_clock::now();
        const auto plain = plainLoop(first.xyz, kPicks);
        const double plainMs = msSince(t0);
        const bool same = plain == geometry::farthestPointIndices(first.xyz, kPicks);
        std::printf("plain loop (Open3D's algorithm in C++), first scan: %.1f ms, %s picks\n",
                    plainMs, same ? "identical" : "DIFFERENT");

        const fs::path dir = fs::temp_directory_path() / "lidistill_bench_geometry";
        fs::create_directories(dir);
        io::writeKittiBin(dir / "scan.bin", first);
        const std::string cmd = "'" + python + "' '" + script.string() + "' '" +
                                (dir / "scan.bin").string() + "' " + std::to_string(kPicks) + " " +
                                std::to_string(reps);
        double o3dBest = 1e300;
        std::fflush(stdout);  // Open3D's import warnings go to the same terminal
        if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
            char buf[256];
            while (std::fgets(buf, sizeof buf, pipe)) {
                std::istringstream ls(buf);
                std::string key;
                double s = 0.0;
                if (ls >> key >> s && key == "fps_s") {
                    o3dBest = std::min(o3dBest, s * 1e3);
                }
            }
            ::pclose(pipe);
        }
        if (o3dBest < 1e300) {
            std::printf("Open3D 0.16 farthest_point_down_sample, first scan: %.1f ms\n", o3dBest);
        } else {
            std::printf("Open3D: the Python side failed; command: %s\n", cmd.c_str());
        }
        return same ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "bench_geometry: " << e.what() << "\n";
        return 1;
    }
}
