#pragma once
// SPDX-License-Identifier: MIT

#include <Eigen/Core>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

/// KITTI text files: calibration, poses, timestamps. Thread-safe for distinct files; readers
/// throw IoError naming the file and line; writers are atomic (temp + rename).
namespace lidistill::io {

/// KITTI `calib.txt`: lines `KEY: 12 floats` (3x4 row-major). Only `Tr` (velodyne to camera)
/// matters for poses; other keys (P0..P3) are kept for round-trips.
struct Calibration {
    std::map<std::string, Eigen::Matrix<double, 3, 4>> entries;
    /// The `Tr` entry completed to 4x4, if present.
    std::optional<Eigen::Matrix4d> tr() const;
};

/// @throws IoError naming the file and line number on a malformed line.
Calibration readCalib(const std::filesystem::path& file);
/// Atomic write, same format.
void writeCalib(const std::filesystem::path& file, const Calibration& calib);

/// Reads KITTI `poses.txt`: one 3x4 row-major camera pose a line, completed to 4x4.
/// @throws IoError naming the file and the line number if a line does not hold exactly 12
///         finite numbers, or if the file is empty.
std::vector<Eigen::Matrix4d> readPoses(const std::filesystem::path& file);
/// Atomic write, 12 numbers a line in full precision.
void writePoses(const std::filesystem::path& file, const std::vector<Eigen::Matrix4d>& poses);

/// Reads `times.txt` (one number of seconds a line). @throws IoError with the line number.
std::vector<double> readTimes(const std::filesystem::path& file);
void writeTimes(const std::filesystem::path& file, const std::vector<double>& seconds);

/// Camera-frame poses to LiDAR poses in the frame of LiDAR scan 0: inv(Tr) * P_i * Tr.
std::vector<Eigen::Matrix4d> cameraToLidarPoses(const std::vector<Eigen::Matrix4d>& cameraPoses,
                                                const Eigen::Matrix4d& tr);
/// The inverse mapping, for writers: Tr * T_i * inv(Tr).
std::vector<Eigen::Matrix4d> lidarToCameraPoses(const std::vector<Eigen::Matrix4d>& lidarPoses,
                                                const Eigen::Matrix4d& tr);

}  // namespace lidistill::io
