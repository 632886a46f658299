#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

/// Readers and writers of the raw KITTI / SemanticKITTI / nuScenes binary formats.
/// Every function is thread-safe for distinct files; every fault is an IoError whose message
/// starts with the offending file.
namespace lidistill::io {

/// How readers treat points with NaN or infinite coordinates.
struct ReadOptions {
    /// false: drop them (every field stays aligned) and log one warning with the count;
    /// true: throw IoError naming the file and the first bad record.
    bool strict = false;
};

/// Reads a whole file in one system call (what makes a 2 MB scan load in milliseconds).
/// @throws IoError naming the file if it is missing, not a regular file, unreadable, empty, or
///         larger than the memory budget (core/base/MemoryBudget.h). Thread-safe.
std::vector<char> readFileBytes(const std::filesystem::path& file);

/// Applies the ReadOptions policy to a freshly read cloud: drops the points whose x, y or z is
/// NaN or infinite from every field (one log warning naming `file` and the count), or, when
/// `options.strict`, throws IoError naming `file` and the index of the first bad point.
/// Shared by every reader here. @return the number of points dropped.
std::size_t dropNonFinite(PointCloud& cloud, const std::filesystem::path& file,
                          const ReadOptions& options);

/// Reads a KITTI / SemanticKITTI velodyne `.bin`: little-endian float32 x, y, z, remission.
/// @throws IoError if the file is missing, empty, its size is not a multiple of 16 bytes,
///         or (strict) it holds non-finite coordinates.
PointCloud readKittiBin(const std::filesystem::path& file, const ReadOptions& options = {});

/// Reads a `.bin` and, if given, its `.label` file together, so that dropping non-finite
/// points keeps labels aligned. @throws IoError if the label count differs from the scan's.
PointCloud readKittiScan(const std::filesystem::path& binFile,
                         const std::optional<std::filesystem::path>& labelFile,
                         const ReadOptions& options = {});

/// Reads a SemanticKITTI `.label` file (uint32 per point).
/// @throws IoError if missing, empty, or its size is not a multiple of 4 bytes.
std::vector<std::uint32_t> readLabelFile(const std::filesystem::path& file);

/// Writes x, y, z, intensity (0 where the cloud has none) as float32; atomic (temp + rename):
/// on failure the old file is untouched and no temporary is left.
/// @throws InvalidArgument if the cloud is empty (readers reject empty files) or its fields are
///         inconsistent; IoError naming the file if it cannot be written.
void writeKittiBin(const std::filesystem::path& file, const PointCloud& cloud);
/// Writes uint32 labels; atomic. @throws InvalidArgument if `labels` is empty; IoError as above.
void writeLabelFile(const std::filesystem::path& file, const std::vector<std::uint32_t>& labels);

/// Axis convention for nuScenes LIDAR_TOP sweeps, which store x right, y forward, z up.
enum class NuscenesAxes {
    AsStored,    ///< keep the file's axes
    KittiFrame,  ///< rotate by -90 degrees about z: x forward, y left, z up (as KITTI)
};

/// Reads a nuScenes `.pcd.bin` sweep: 5 float32 a point (x, y, z, intensity 0-255, ring).
/// @throws IoError as readKittiBin, with a record size of 20 bytes.
PointCloud readNuscenesBin(const std::filesystem::path& file,
                           NuscenesAxes axes = NuscenesAxes::AsStored,
                           const ReadOptions& options = {});

}  // namespace lidistill::io
