// SPDX-License-Identifier: MIT
// Prints timings of the static map pipeline. The 10 real frames are replayed `copies` times,
// each copy shifted 60 m along x, to emulate a longer drive (a copy adds a fresh area).
// Usage: bench_map SEQUENCE_DIR [copies]
#include "core/base/Error.h"
#include "core/dataset/Sequence.h"
#include "core/map/GroundTruth.h"
#include "core/map/MapFileReader.h"
#include "core/map/StaticMap.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

using namespace lidistill;
using Clock = std::chrono::steady_clock;

namespace {
double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SEQUENCE_DIR [copies]\n", argv[0]);
        return 2;
    }
    try {
        const Sequence seq = Sequence::open(argv[1]);
        const int copies = argc > 2 ? std::max(1, std::atoi(argv[2])) : 30;
        std::vector<PointCloud> scans;
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < seq.size(); ++i) scans.push_back(seq.loadScan(i));
        std::printf("load %zu scans: %.1f ms/scan\n", seq.size(), msSince(t0) / seq.size());

        std::vector<Eigen::Matrix4d> poses;
        map::MapBuilder builder;
        std::size_t inputPoints = 0;
        t0 = Clock::now();
        for (int c = 0; c < copies; ++c) {
            for (std::size_t i = 0; i < seq.size(); ++i) {
                Eigen::Matrix4d pose = seq.pose(i);
                pose(0, 3) += 60.0 * c;
                poses.push_back(pose);
                builder.addScan(scans[i], pose);
                inputPoints += scans[i].size();
            }
        }
        const double addMs = msSince(t0);
        std::printf("aggregate %zu scans (%zu points in): %.2f ms/scan, %.1f M points/s, map %zu\n",
                    poses.size(), inputPoints, addMs / poses.size(), inputPoints / addMs / 1e3,
                    builder.size());
        t0 = Clock::now();
        const map::StaticMap m = builder.finish();
        std::printf("tile: %.1f ms (%zu tiles)\n", msSince(t0), m.tiles().size());

        const auto file = std::filesystem::temp_directory_path() / "bench_map.ldmap";
        t0 = Clock::now();
        m.save(file);
        const double saveMs = msSince(t0);
        const double mb = std::filesystem::file_size(file) / 1e6;
        t0 = Clock::now();
        const map::StaticMap loaded = map::StaticMap::load(file);
        const double loadMs = msSince(t0);
        std::printf("save %.1f MB: %.1f ms (%.0f MB/s); load+verify: %.1f ms (%.0f MB/s)\n", mb,
                    saveMs, mb / saveMs * 1e3, loadMs, mb / loadMs * 1e3);

        const map::MapFileReader reader(file);
        double cropMs = 0, gtMs = 0, diskMs = 0, bruteMs = 0, maskMs = 0;
        std::size_t gtPoints = 0, tiles = 0;
        const std::size_t n = poses.size();
        for (std::size_t k = 0; k < n; ++k) {
            const Eigen::Vector3d c = poses[k].block<3, 1>(0, 3);
            t0 = Clock::now();
            const auto idx = loaded.indicesWithin(c, 50.0);
            cropMs += msSince(t0);
            const auto view = map::viewpointPoints(scans[k % seq.size()], 50.0);
            t0 = Clock::now();
            const map::ViewpointMask mask(view, 10.0);
            maskMs += msSince(t0);
            t0 = Clock::now();
            gtPoints += map::groundTruthFromMap(loaded, poses[k], view).size();
            gtMs += msSince(t0);
            std::size_t read = 0;
            t0 = Clock::now();
            (void)reader.readWithin(c, 50.0, &read);
            diskMs += msSince(t0);
            tiles += read;
            t0 = Clock::now();
            std::size_t brute = 0;
            for (const Vec3f& p : loaded.points()) {
                const double dx = p[0] - c.x(), dy = p[1] - c.y(), dz = p[2] - c.z();
                brute += dx * dx + dy * dy + dz * dz < 2500.0;
            }
            bruteMs += msSince(t0);
            if (brute != idx.size()) throw Error("tiled crop disagrees with brute force");
        }
        std::printf(
            "per scan: tiled 50 m crop %.2f ms (brute force over the map %.2f ms); "
            "full GT (crop, transform, z, viewpoint mask) %.2f ms, %zu points, of which building "
            "the mask %.2f ms; crop from disk %.2f ms, %.1f tiles\n",
            cropMs / n, bruteMs / n, gtMs / n, gtPoints / n, maskMs / n, diskMs / n,
            double(tiles) / n);
        std::filesystem::remove(file);
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
