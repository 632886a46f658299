// SPDX-License-Identifier: MIT
#include "core/synth/SequenceWriter.h"

#include "core/base/Error.h"
#include "core/base/Log.h"
#include "core/io/PoseIo.h"
#include "core/io/ScanIo.h"
#include "core/synth/Random.h"
#include "core/synth/Simulator.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <vector>

namespace lidistill::synth {
namespace fs = std::filesystem;

Eigen::Matrix4d kittiVelodyneToCamera() {
    Eigen::Matrix4d tr;
    tr << 4.276802385584e-04, -9.999672484946e-01, -8.084491683471e-03, -1.198459927713e-02,
        -7.210626507497e-03, 8.081198471645e-03, -9.999413164504e-01, -5.403984729748e-02,
        9.999738645903e-01, 4.859485810390e-04, -7.206933692422e-03, -2.921968648686e-01, 0, 0, 0,
        1;
    return tr;
}

namespace {
io::Calibration kittiCalibration() {
    // The projection matrices of KITTI odometry 00-02, so camera tools find what they expect.
    io::Calibration calib;
    auto p = [](double fx, double cx, double fy, double cy, double tx, double ty, double tz) {
        Eigen::Matrix<double, 3, 4> m;
        m << fx, 0, cx, tx, 0, fy, cy, ty, 0, 0, 1, tz;
        return m;
    };
    calib.entries["P0"] = p(718.856, 607.1928, 718.856, 185.2157, 0, 0, 0);
    calib.entries["P1"] = p(718.856, 607.1928, 718.856, 185.2157, -386.1448, 0, 0);
    calib.entries["P2"] =
        p(718.856, 607.1928, 718.856, 185.2157, 45.38225, -0.1130887, 0.003779761);
    calib.entries["P3"] = p(718.856, 607.1928, 718.856, 185.2157, -337.2877, 2.369057, 0.004915215);
    calib.entries["Tr"] = kittiVelodyneToCamera().topRows<3>();
    return calib;
}

bool validSequenceName(const std::string& s) {
    if (s.empty() || s.size() > 16) return false;
    for (char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
}
}  // namespace

SynthSummary writeSyntheticSequence(const fs::path& root, const SynthOptions& options,
                                    ProgressSink* progress) {
    const auto start = std::chrono::steady_clock::now();
    if (options.frames == 0 || options.frames > 36000) {
        throw InvalidArgument("synth: frames must be in 1..36000");
    }
    if (!validSequenceName(options.sequence)) {
        throw InvalidArgument("synth: sequence name '" + options.sequence +
                              "' must be 1-16 letters, digits, '-' or '_'");
    }
    const LidarConfig lidar = LidarConfig::byName(options.sensor);
    WorldConfig wc;
    wc.seed = options.seed;
    wc.preset = options.preset;
    wc.egoSpeed = options.egoSpeed;
    // One extra frame of route so frame N-1 is inside the world whatever the rounding.
    wc.duration = static_cast<double>(options.frames + 1) / lidar.rateHz;
    checkpoint(progress, 0.0, "world");
    const World world = World::generate(wc);
    LidarSimulator sim(world, lidar, hashKeys(options.seed, 0x5E7508));
    log::debug("synth: world of ", world.staticMesh().triangleCount(), " triangles, ",
               world.movers().size(), " movers");

    SynthSummary summary;
    summary.directory = root / "sequences" / options.sequence;
    const fs::path dir = summary.directory;
    std::error_code ec;
    fs::create_directories(dir / "velodyne", ec);
    if (!ec) fs::create_directories(dir / "labels", ec);
    if (ec) throw IoError(dir, "cannot create the sequence folders: " + ec.message());

    std::vector<Eigen::Matrix4d> lidarPoses;
    std::vector<double> times;
    const Eigen::Matrix4d first = sim.sensorPose(0);
    const Eigen::Matrix4d firstInv = first.inverse();
    // Files of frame i are written on a second thread while frame i+1 is simulated.
    std::future<void> pending;
    for (std::size_t i = 0; i < options.frames; ++i) {
        checkpoint(progress, static_cast<double>(i) / static_cast<double>(options.frames), "scans");
        auto scan = std::make_shared<const PointCloud>(sim.scan(i));
        lidarPoses.push_back(firstInv * sim.sensorPose(i));
        times.push_back(sim.frameTime(i));
        summary.points += scan->size();
        if (pending.valid()) pending.get();  // rethrows a write failure
        char name[32];
        std::snprintf(name, sizeof name, "%06zu", i);
        const std::string stem(name);
        pending = std::async(std::launch::async, [dir, stem, scan] {
            io::writeKittiBin(dir / "velodyne" / (stem + ".bin"), *scan);
            io::writeLabelFile(dir / "labels" / (stem + ".label"), scan->label);
        });
    }
    if (pending.valid()) pending.get();
    const Eigen::Matrix4d tr = kittiVelodyneToCamera();
    io::writePoses(dir / "poses.txt", io::lidarToCameraPoses(lidarPoses, tr));
    io::writeCalib(dir / "calib.txt", kittiCalibration());
    io::writeTimes(dir / "times.txt", times);
    checkpoint(progress, 1.0, "done");
    summary.frames = options.frames;
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

}  // namespace lidistill::synth
