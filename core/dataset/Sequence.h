#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/io/ScanIo.h"

#include <Eigen/Core>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lidistill {

/// One LiDAR sequence on disk: an ordered list of frames with optional labels, poses, times.
///
/// Layouts recognised by open():
///  - SemanticKITTI / KITTI odometry: `DIR/velodyne/*.bin`, optional `DIR/labels/*.label`,
///    `DIR/poses.txt`, `DIR/calib.txt`, `DIR/times.txt`;
///  - a plain folder of scans (`*.bin`, `*.pcd.bin`, `*.pcd`, `*.ply`), no poses.
/// Frames are listed in natural order of file name. Opening reads only the small text files;
/// scans are read on demand. Immutable after open(): safe to share between threads.
class Sequence {
public:
    /// @throws IoError if the folder is missing, holds no scans, or poses/times/calib are
    ///         malformed or their line count differs from the number of scans.
    /// Without calib.txt the camera poses are used as LiDAR poses, with a warning.
    /// Labels are paired with scans by file stem (`labels/000042.label` for
    /// `velodyne/000042.bin`); once labels/ holds any `.label` file, a scan without one is an
    /// IoError naming the missing file. A calib.txt without a `Tr:` entry is an IoError when
    /// poses need it. Plain folders are read without poses, labels or times.
    static Sequence open(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const noexcept { return m_dir; }
    std::size_t size() const noexcept { return m_scans.size(); }
    /// File stem of frame i, e.g. "000042".
    std::string frameName(std::size_t i) const;
    const std::filesystem::path& scanFile(std::size_t i) const { return m_scans.at(i); }
    /// The label file of frame i, when the sequence has labels/.
    std::optional<std::filesystem::path> labelFile(std::size_t i) const;
    bool hasLabels() const noexcept { return !m_labels.empty(); }
    bool hasPoses() const noexcept { return !m_poses.empty(); }
    bool hasCalib() const noexcept { return m_hasCalib; }
    /// LiDAR pose of frame i in the frame of LiDAR scan 0 (identity if there are no poses).
    Eigen::Matrix4d pose(std::size_t i) const;
    /// Seconds since the start, if times.txt exists.
    std::optional<double> time(std::size_t i) const;

    /// Reads frame i with its labels (nuScenes sweeps in `nuscenesAxes`).
    /// @throws IoError on any fault in the files.
    PointCloud loadScan(std::size_t i, const io::ReadOptions& options = {},
                        io::NuscenesAxes nuscenesAxes = io::NuscenesAxes::AsStored) const;

private:
    std::filesystem::path m_dir;
    std::vector<std::filesystem::path> m_scans;
    std::vector<std::filesystem::path> m_labels;  // empty or one per scan
    std::vector<Eigen::Matrix4d> m_poses;         // LiDAR poses, empty or one per scan
    std::vector<double> m_times;                  // empty or one per scan
    bool m_hasCalib = false;
};

}  // namespace lidistill
