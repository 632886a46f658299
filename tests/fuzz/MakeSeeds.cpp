// SPDX-License-Identifier: MIT
// `fuzz_replay --make-seeds DIR`: writes the hand-made seed corpus, one folder a target, with
// the project's own writers (so the seeds are files the tool really makes), plus the mode byte
// the target expects in front. tests/fuzz/seeds/ is this output, committed; the long-run
// script adds the heads of the real scans in ../shared/data.
#include "core/base/Base64.h"
#include "core/base/Events.h"
#include "core/base/RunFolder.h"
#include "core/base/XyzCodec.h"
#include "core/io/CloudFile.h"
#include "core/io/PoseIo.h"
#include "core/io/ScanIo.h"
#include "core/map/StaticMap.h"
#include "core/pairs/PairStore.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace lidistill::fuzz {
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

/// `text` as a JSON string literal (it holds no control characters or backslashes).
std::string quoted(const std::string& text) {
    std::string q = "\"";
    for (const char c : text) q += c == '"' ? std::string("\\\"") : std::string(1, c);
    return q + "\"";
}

std::string withMode(std::uint8_t mode, const std::string& bytes) {
    return std::string(1, static_cast<char>(mode)) + bytes;
}

PointCloud sampleCloud(bool fields) {
    PointCloud c;
    for (int i = 0; i < 6; ++i) {
        const float f = static_cast<float>(i);
        c.xyz.push_back({1.5f * f - 3.0f, 0.25f * f, -1.0f + 0.1f * f});
        if (fields) {
            c.intensity.push_back(0.1f * f);
            c.label.push_back(static_cast<std::uint32_t>(40 + i) | (3u << 16));
            c.ring.push_back(static_cast<std::uint16_t>(i));
        }
    }
    return c;
}

}  // namespace

int makeSeeds(const fs::path& root) {
    const fs::path tmp = root / ".tmp";
    fs::create_directories(tmp);
    const PointCloud cloud = sampleCloud(true);

    // KITTI .bin / .label, with one NaN point (dropped, or refused when strict).
    PointCloud withNan = cloud;
    withNan.xyz[2][1] = std::numeric_limits<float>::quiet_NaN();
    io::writeKittiBin(tmp / "a.bin", withNan);
    io::writeLabelFile(tmp / "a.label", cloud.label);
    const std::string bin = slurp(tmp / "a.bin"), label = slurp(tmp / "a.label");
    put(root / "kitti_scan", "bin", withMode(0, bin));
    put(root / "kitti_scan", "bin-strict", withMode(4, bin));
    put(root / "kitti_scan", "label", withMode(1, label));
    std::string both(4, '\0');
    const auto n = static_cast<std::uint32_t>(bin.size());
    std::memcpy(both.data(), &n, 4);
    put(root / "kitti_scan", "bin-and-label", withMode(2, both + bin + label));

    // nuScenes: 5 float32 a point, the ring a float.
    std::string sweep;
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        const float r[5] = {cloud.xyz[i][0], cloud.xyz[i][1], cloud.xyz[i][2], 12.0f * i,
                            static_cast<float>(i)};
        sweep.append(reinterpret_cast<const char*>(r), sizeof r);
    }
    put(root / "nuscenes_bin", "as-stored", withMode(0, sweep));
    put(root / "nuscenes_bin", "kitti-axes-strict", withMode(3, sweep));

    // KITTI text files.
    io::Calibration calib;
    Eigen::Matrix<double, 3, 4> m;
    m << 0, -1, 0, 0.1, 0, 0, -1, -0.07, 1, 0, 0, -0.27;
    calib.entries["Tr"] = m;
    calib.entries["P0"] = Eigen::Matrix<double, 3, 4>::Identity() * 718.856;
    io::writeCalib(tmp / "calib.txt", calib);
    put(root / "kitti_text", "calib", withMode(0, slurp(tmp / "calib.txt")));
    std::vector<Eigen::Matrix4d> poses(3, Eigen::Matrix4d::Identity());
    poses[1](0, 3) = 0.8;
    poses[2](2, 3) = -1.6e-3;
    io::writePoses(tmp / "poses.txt", poses);
    put(root / "kitti_text", "poses", withMode(1, slurp(tmp / "poses.txt")));
    io::writeTimes(tmp / "times.txt", {0.0, 0.103, 0.2069});
    put(root / "kitti_text", "times", withMode(2, slurp(tmp / "times.txt")));

#if LIDISTILL_WITH_PCL
    // PCD in every encoding (our writer, through PCL) and a hand-made one with an rgb field.
    const std::pair<io::PcdEncoding, const char*> pcds[] = {
        {io::PcdEncoding::Ascii, "ascii"},
        {io::PcdEncoding::Binary, "binary"},
        {io::PcdEncoding::BinaryCompressed, "binary_compressed"}};
    for (const auto& [enc, name] : pcds) {
        io::writePcd(tmp / "c.pcd", cloud, enc);
        put(root / "pcd", name, slurp(tmp / "c.pcd"));
    }
    io::writePcd(tmp / "c.pcd", sampleCloud(false), io::PcdEncoding::Binary);
    put(root / "pcd", "binary-xyz", slurp(tmp / "c.pcd"));
#endif
    put(root / "pcd", "ascii-rgb-hand",
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z rgb\n"
        "SIZE 4 4 4 4\nTYPE F F F U\nCOUNT 1 1 1 1\nWIDTH 3\nHEIGHT 1\n"
        "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS 3\nDATA ascii\n1 2 3 4278190335\n"
        "-1.5 0 2e-3 16711680\nnan 1 1 0\n");

    // PLY in every encoding (little endian through PCL, the others our writer), and a
    // hand-made one with a face element after the vertices.
    const std::pair<io::PlyEncoding, const char*> plys[] = {
        {io::PlyEncoding::Ascii, "ascii"},
        {io::PlyEncoding::BinaryLittleEndian, "binary_little_endian"},
        {io::PlyEncoding::BinaryBigEndian, "binary_big_endian"}};
    for (const auto& [enc, name] : plys) {
        io::writePly(tmp / "c.ply", cloud, enc);
        put(root / "ply", name, slurp(tmp / "c.ply"));
    }
    put(root / "ply", "ascii-face-hand",
        "ply\nformat ascii 1.0\ncomment hand-made\nelement vertex 3\nproperty float x\n"
        "property float y\nproperty float z\nproperty uchar red\nproperty uchar green\n"
        "property uchar blue\nproperty uchar alpha\nelement face 1\n"
        "property list uchar int vertex_indices\nend_header\n0 0 0 255 0 0 255\n"
        "1 0 0 0 255 0 255\n0 1 0 0 0 255 255\n3 0 1 2\n");

    // Static maps: three tiles; as written (mode 0) and with checksums repaired (mode 1).
    map::MapInfo info;
    info.build.tileSize = 2.0;
    info.scanCount = 2;
    map::StaticMap::fromPoints(cloud.xyz, cloud.label, info).save(tmp / "m.ldmap");
    put(root / "ldmap", "three-tiles", withMode(0, slurp(tmp / "m.ldmap")));
    put(root / "ldmap", "three-tiles-repair", withMode(1, slurp(tmp / "m.ldmap")));

    // Run folder: a checkpoint record with its previous entry; a metrics log cut by a crash.
    const fs::path run = tmp / "run";
    fs::create_directories(run);
    const run::Folder folder{run};
    run::writeCheckpointRecord(run, "teacher_latest.safetensors",
                               {{400, folder.state(400), 12.5}, {200, folder.state(200), 6.25}});
    put(root / "run_folder", "checkpoint", withMode(0, slurp(folder.checkpointRecord())));
    put(root / "run_folder", "metrics-step-3",
        withMode(1 | (3 << 1), "{\"step\":1,\"loss\":0.5,\"lr\":0.0001}\n"
                               "{\"step\":2,\"loss\":0.25}\n{\"step\":3,\"val_cd\":0.31}\n"
                               "{\"step\":4,\"loss\":0.1}\n{\"step\":5,\"lo"));

    // A pair store with two pairs, one decided against the metric.
    {
        const fs::path storeFile = tmp / "pairs.sqlite";
        auto store = pairs::PairStore::open(storeFile, true);
        for (int i = 0; i < 2; ++i) {
            pairs::Pair p;
            p.recipe = {"seq/00", "00000" + std::to_string(i), "m.safetensors", "ab12", 1, 2,
                        1.1, 8, 3.5};
            p.metric = "cd";
            p.partial = "p" + std::to_string(i) + ".ply";
            p.a = {"a" + std::to_string(i) + ".ply", 0.31, 0.2, 0.4, "ra.ply"};
            p.b = {"b" + std::to_string(i) + ".ply", 0.35, 0.21, 0.38, "rb.ply"};
            p.automatic = pairs::Verdict::A;
            p.margin = 0.04;
            const long long id = store.add(p);
            if (i == 1) store.decide(id, pairs::Verdict::B, "tester, \"quoted\"");
        }
    }
    put(root / "pair_store", "two-pairs", slurp(tmp / "pairs.sqlite"));

    // Worker protocol: a job's event stream as the worker writes it, clouds in base64.
    std::ostringstream os;
    {
        events::Stream s(os);
        s.setJob("j1");
        s.started("complete", {"--steps", "8"});
        s.progress(0.5, "denoising");
        s.metrics("{\"step\":3,\"loss\":0.2}");
        s.result({}, {{"points", 6}, {"seconds", 1.5}},
                 {{"partial", encodeXyz(cloud)}, {"refined", ""}});
        s.error(events::ErrorCode::Io, "x.ply: file not found", "x.ply");
        s.ended(1, "failed");
    }
    put(root / "worker_messages", "job", os.str());
    put(root / "worker_messages", "scan", encodeXyz(cloud));

    // safetensors: two tensors and the model metadata, as saveSafeTensors lays them out.
    {
        const std::string config =
            "{\"format\":\"lidistill-lidiff\",\"version\":1,\"width\":0.25,\"in_channels\":3,"
            "\"voxel_size\":0.1}";
        std::string json = "{\"__metadata__\":{\"lidistill.config\":" +
                           quoted(config) +
                           "},\"a.kernel\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":"
                           "[0,24]},\"b.count\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":"
                           "[24,32]}}";
        json.append((8 - json.size() % 8) % 8, ' ');
        std::string file(8, '\0');
        const std::uint64_t len = json.size();
        std::memcpy(file.data(), &len, 8);
        file += json;
        for (int i = 0; i < 6; ++i) {
            const float v = 0.5f * i;
            file.append(reinterpret_cast<const char*>(&v), 4);
        }
        const std::int64_t count = 7;
        file.append(reinterpret_cast<const char*>(&count), 8);
        put(root / "safetensors", "two-tensors", file);
    }
    fs::remove_all(tmp);
    return 0;
}

}  // namespace lidistill::fuzz
