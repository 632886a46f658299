// SPDX-License-Identifier: MIT
// Prints read/write times for frame 000000 of a SemanticKITTI sequence in every format.
// Usage: bench_io SEQUENCE_DIR [REPEATS]. Target: a 124k-point .bin reads in a few ms.
#include "core/base/Error.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using namespace lidistill;

/// Median wall time of `repeats` runs, in milliseconds.
double medianMs(int repeats, const std::function<void()>& fn) {
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
    return ms[ms.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SEQUENCE_DIR [REPEATS]\n", argv[0]);
        return 2;
    }
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
    try {
        const Sequence seq = Sequence::open(argv[1]);
        const fs::path bin = seq.scanFile(0);
        PointCloud cloud;
        std::printf("frame %s, %d repeats, median ms\n", bin.string().c_str(), repeats);
        std::printf("  read .bin              %8.2f\n",
                    medianMs(repeats, [&] { cloud = io::readKittiBin(bin); }));
        std::printf("  read .bin + .label     %8.2f  (%zu points)\n",
                    medianMs(repeats, [&] { cloud = seq.loadScan(0); }), cloud.size());
        const fs::path tmp = fs::temp_directory_path() / "lidistill_bench_io";
        fs::create_directories(tmp);
        struct Case {
            const char* name;
            fs::path file;
            std::function<void(const fs::path&)> write;
        };
        const std::vector<Case> cases = {
            {".bin", tmp / "c.bin", [&](const fs::path& f) { io::writeKittiBin(f, cloud); }},
            {"pcd ascii", tmp / "a.pcd",
             [&](const fs::path& f) { io::writePcd(f, cloud, io::PcdEncoding::Ascii); }},
            {"pcd binary", tmp / "b.pcd",
             [&](const fs::path& f) { io::writePcd(f, cloud, io::PcdEncoding::Binary); }},
            {"pcd binary_compressed", tmp / "c.pcd",
             [&](const fs::path& f) { io::writePcd(f, cloud, io::PcdEncoding::BinaryCompressed); }},
            {"ply ascii", tmp / "a.ply",
             [&](const fs::path& f) { io::writePly(f, cloud, io::PlyEncoding::Ascii); }},
            {"ply binary LE", tmp / "l.ply",
             [&](const fs::path& f) {
                 io::writePly(f, cloud, io::PlyEncoding::BinaryLittleEndian);
             }},
            {"ply binary BE", tmp / "b.ply",
             [&](const fs::path& f) { io::writePly(f, cloud, io::PlyEncoding::BinaryBigEndian); }},
        };
        const int slowRepeats = std::max(1, repeats / 5);
        for (const auto& c : cases) {
            const double w = medianMs(slowRepeats, [&] { c.write(c.file); });
            const double r = medianMs(slowRepeats, [&] { (void)io::readCloud(c.file); });
            std::printf("  %-22s write %8.2f  read %8.2f  (%.1f MB)\n", c.name, w, r,
                        static_cast<double>(fs::file_size(c.file)) / 1e6);
        }
        fs::remove_all(tmp);
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
