#pragma once
// SPDX-License-Identifier: MIT

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lidistill {

using Vec3f = std::array<float, 3>;

/// A LiDAR scan or any point set: positions in metres plus optional per-point fields.
///
/// Structure of arrays, so that positions are one contiguous float buffer (cheap hand-off to
/// VTK, torch and KD-trees). Optional fields are either empty or exactly size() long;
/// validate() checks that. Not thread-safe for concurrent mutation (plain value type).
struct PointCloud {
    std::vector<Vec3f> xyz;        ///< positions, metres, sensor or map frame
    std::vector<float> intensity;  ///< remission (KITTI 0-1) or intensity (nuScenes 0-255)
    std::vector<std::uint32_t>
        label;  ///< SemanticKITTI raw label: semantic low 16, instance high 16
    std::vector<std::uint16_t> ring;  ///< laser/beam index where the source has one

    std::size_t size() const noexcept { return xyz.size(); }
    bool empty() const noexcept { return xyz.empty(); }
    bool hasIntensity() const noexcept { return !intensity.empty(); }
    bool hasLabels() const noexcept { return !label.empty(); }
    bool hasRing() const noexcept { return !ring.empty(); }

    /// Throws InvalidArgument if an optional field is neither empty nor size() long.
    void validate() const;
    /// Keeps the points whose keep[i] is true, in order, in every field.
    /// @throws InvalidArgument if keep.size() != size().
    void filter(const std::vector<bool>& keep);
    /// Appends another cloud; fields present in only one of the two are dropped
    /// (a merged cloud never has a half-filled field).
    void append(const PointCloud& other);
};

/// SemanticKITTI semantic class of a raw label (low 16 bits).
inline std::uint16_t semanticClass(std::uint32_t label) noexcept {
    return static_cast<std::uint16_t>(label & 0xFFFFu);
}
/// SemanticKITTI instance id of a raw label (high 16 bits).
inline std::uint16_t instanceId(std::uint32_t label) noexcept {
    return static_cast<std::uint16_t>(label >> 16);
}

/// The xyz of the points with lo < |p| < hi (metres, from the sensor): LiDiff's range filter.
PointCloud withinRange(const PointCloud& cloud, double lo, double hi);

/// Applies a rigid 4x4 transform (row-major maths, column vectors: p' = T * [p; 1]) in place.
void transformInPlace(PointCloud& cloud, const Eigen::Matrix4d& transform);

}  // namespace lidistill
