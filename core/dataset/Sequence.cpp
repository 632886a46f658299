// SPDX-License-Identifier: MIT
#include "core/dataset/Sequence.h"

#include "core/base/Error.h"
#include "core/base/Log.h"
#include "core/base/Strings.h"
#include "core/io/CloudFile.h"
#include "core/io/PoseIo.h"

#include <Eigen/LU>

#include <algorithm>
#include <string>
#include <system_error>

namespace lidistill {
namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The regular files of `dir` accepted by `accept` (given the lower-cased name), natural order.
template <typename Accept>
std::vector<fs::path> listFiles(const fs::path& dir, Accept accept) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code fileEc;
        if (it->is_regular_file(fileEc) && accept(toLower(it->path().filename().string()))) {
            files.push_back(it->path());
        }
    }
    if (ec) {
        throw IoError(dir, "cannot list the folder: " + ec.message());
    }
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return naturalLess(a.filename().string(), b.filename().string());
    });
    return files;
}

bool isScanName(const std::string& lowerName) {
    return endsWith(lowerName, ".bin") || endsWith(lowerName, ".pcd") ||
           endsWith(lowerName, ".ply");
}

/// "000042.bin" -> "000042"; "sweep.pcd.bin" -> "sweep".
std::string stemOf(const fs::path& file) {
    std::string name = file.filename().string();
    const std::string lower = toLower(name);
    for (const char* ext : {".pcd.bin", ".bin", ".pcd", ".ply"}) {
        if (endsWith(lower, ext)) {
            return name.substr(0, name.size() - std::string(ext).size());
        }
    }
    return file.stem().string();
}

void checkCount(const fs::path& file, std::size_t have, std::size_t scans, const char* what) {
    if (have != scans) {
        throw IoError(file, "holds " + std::to_string(have) + " " + what +
                                " but the sequence has " + std::to_string(scans) + " scans");
    }
}

/// Poses and Tr must be rigid motions within a plausible extent: anything else (a scaled or
/// singular rotation, a 1e300 m translation) would later surface as an obscure "no integer
/// cell" error far from the file at fault.
void checkRigid(const fs::path& file, const std::string& where, const Eigen::Matrix4d& m) {
    constexpr double kMaxTranslation = 1e6;  // metres; a drive longer than 1000 km is an error
    const Eigen::Matrix3d r = m.block<3, 3>(0, 0);
    const double orthoError =
        (r.transpose() * r - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
    if (!(orthoError < 1e-2) || !(r.determinant() > 0)) {
        throw IoError(file, where +
                                ": the 3x3 part is not a rotation (a rigid pose needs "
                                "orthonormal axes and determinant +1)");
    }
    if (!(m.block<3, 1>(0, 3).cwiseAbs().maxCoeff() < kMaxTranslation)) {
        throw IoError(file, where + ": translation beyond 1000 km");
    }
}

}  // namespace

Sequence Sequence::open(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        throw IoError(dir, "sequence folder not found");
    }
    if (!fs::is_directory(dir, ec)) {
        throw IoError(dir, "not a folder (a sequence is opened by its folder)");
    }

    Sequence seq;
    seq.m_dir = dir;
    const fs::path velodyne = dir / "velodyne";
    if (!fs::is_directory(velodyne, ec)) {
        seq.m_scans = listFiles(dir, isScanName);
        if (seq.m_scans.empty()) {
            throw IoError(dir,
                          "holds no scans (neither velodyne/*.bin nor *.bin, *.pcd.bin, "
                          "*.pcd, *.ply files)");
        }
        return seq;
    }

    seq.m_scans = listFiles(velodyne, [](const std::string& n) { return endsWith(n, ".bin"); });
    if (seq.m_scans.empty()) {
        throw IoError(velodyne, "holds no .bin scans");
    }
    const std::size_t n = seq.m_scans.size();

    const fs::path labels = dir / "labels";
    if (fs::is_directory(labels, ec) &&
        !listFiles(labels, [](const std::string& f) { return endsWith(f, ".label"); }).empty()) {
        // Pair by name, not by position, so a missing label file is reported rather than
        // silently shifting every later frame.
        seq.m_labels.reserve(n);
        for (const auto& scan : seq.m_scans) {
            fs::path label = labels / (stemOf(scan) + ".label");
            if (!fs::is_regular_file(label, ec)) {
                throw IoError(label, "label file missing for scan " + scan.string());
            }
            seq.m_labels.push_back(std::move(label));
        }
    }

    const fs::path posesFile = dir / "poses.txt";
    const fs::path calibFile = dir / "calib.txt";
    const fs::path timesFile = dir / "times.txt";
    if (fs::exists(posesFile, ec)) {
        std::vector<Eigen::Matrix4d> cameraPoses = io::readPoses(posesFile);
        checkCount(posesFile, cameraPoses.size(), n, "poses");
        for (std::size_t i = 0; i < cameraPoses.size(); ++i) {
            checkRigid(posesFile, "line " + std::to_string(i + 1), cameraPoses[i]);
        }
        if (fs::exists(calibFile, ec)) {
            const io::Calibration calib = io::readCalib(calibFile);
            const auto tr = calib.tr();
            if (!tr) {
                throw IoError(calibFile,
                              "has no 'Tr:' entry (velodyne to camera), which the "
                              "poses need");
            }
            checkRigid(calibFile, "Tr", *tr);
            seq.m_poses = io::cameraToLidarPoses(cameraPoses, *tr);
            seq.m_hasCalib = true;
        } else {
            log::warn(dir.string(),
                      ": no calib.txt, so the camera poses in poses.txt are used "
                      "as LiDAR poses (scans will not align exactly)");
            seq.m_poses = std::move(cameraPoses);
        }
    } else if (fs::exists(calibFile, ec)) {
        const auto tr = io::readCalib(calibFile).tr();  // validated even when unused
        seq.m_hasCalib = tr.has_value();
    }
    if (fs::exists(timesFile, ec)) {
        seq.m_times = io::readTimes(timesFile);
        checkCount(timesFile, seq.m_times.size(), n, "times");
    }
    return seq;
}

std::string Sequence::frameName(std::size_t i) const {
    return stemOf(m_scans.at(i));
}

std::optional<fs::path> Sequence::labelFile(std::size_t i) const {
    if (m_labels.empty()) {
        (void)m_scans.at(i);  // same out_of_range contract as scanFile()
        return std::nullopt;
    }
    return m_labels.at(i);
}

Eigen::Matrix4d Sequence::pose(std::size_t i) const {
    if (m_poses.empty()) {
        (void)m_scans.at(i);
        return Eigen::Matrix4d::Identity();
    }
    return m_poses.at(i);
}

std::optional<double> Sequence::time(std::size_t i) const {
    if (m_times.empty()) {
        (void)m_scans.at(i);
        return std::nullopt;
    }
    return m_times.at(i);
}

PointCloud Sequence::loadScan(std::size_t i, const io::ReadOptions& options,
                              io::NuscenesAxes nuscenesAxes) const {
    const fs::path& scan = m_scans.at(i);
    if (io::formatFromPath(scan) == io::CloudFormat::KittiBin) {
        return io::readKittiScan(scan, labelFile(i), options);
    }
    return io::readCloud(scan, options, nuscenesAxes);
}

}  // namespace lidistill
