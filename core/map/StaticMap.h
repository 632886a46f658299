#pragma once
// SPDX-License-Identifier: MIT
// The dense static map of a sequence (LiDiff's map_clean.npy, reference §1.2), stored in 2D
// tiles so that one scan's ground truth touches only the tiles around it (§1.5).

#include "core/base/PointCloud.h"
#include "core/map/CellSet.h"
#include "core/map/TileIndex.h"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace lidistill::map {

/// How a static map is built. Defaults reproduce LiDiff's `map_from_scans.py`.
struct MapBuildOptions {
    /// Edge of the down-sampling voxel, metres; one original point is kept per floor(p/v) cell.
    double voxelSize = 0.1;
    /// Points with range <= minRange (sensor frame) are dropped as "flying artifacts".
    double minRange = 3.5;
    /// LiDiff quirk: the range is the norm of (x, y, z, remission), not of (x, y, z). A point
    /// without remission counts 0. Set false for the plain Euclidean range.
    bool rangeIncludesRemission = true;
    /// Semantic classes kept: classLow < (label & 0xFFFF) < classHigh, i.e. all static
    /// classes, without unlabeled (0), outlier (1) and moving objects (>= 252).
    std::uint32_t classLow = 1;
    std::uint32_t classHigh = 252;
    /// Scans without labels: false throws InvalidArgument; true keeps all their points
    /// (label 0). Not LiDiff behaviour; for plain KITTI folders.
    bool allowUnlabeled = false;
    /// Edge of the square x-y storage tiles, metres. Storage only: the points do not depend
    /// on it.
    double tileSize = 25.0;

    /// @throws InvalidArgument if a size is not positive and finite or classLow >= classHigh.
    void validate() const;
};

/// Build parameters and provenance stored with a map.
struct MapInfo {
    MapBuildOptions build;
    std::uint32_t scanCount = 0;  ///< scans aggregated
};

/// An immutable tiled static map: float32 points in the sequence frame (LiDAR frame of scan 0)
/// with their raw SemanticKITTI labels, grouped by tile (tiles ordered by (ty, tx); within a
/// tile, points keep the order in which they entered the map).
///
/// File format (little-endian), version 1 -- see MapFile.cpp for the exact layout:
///   header (magic "LDSTMAP\n", version, header size, build parameters, scan/point/tile
///   counts, checksums), tile table (tx, ty, begin, count, checksum per tile), then the points
///   as 16-byte records (float32 x, y, z, uint32 label) in tile order.
/// Thread-safety: const member functions may be called concurrently.
class StaticMap {
public:
    StaticMap() = default;

    /// Groups points into tiles. `labels` must be empty (stored as 0) or xyz.size() long.
    /// @throws InvalidArgument on a size mismatch, bad options or a non-finite point.
    static StaticMap fromPoints(std::vector<Vec3f> xyz, std::vector<std::uint32_t> labels,
                                const MapInfo& info);

    const MapInfo& info() const noexcept { return m_info; }
    std::size_t size() const noexcept { return m_xyz.size(); }
    bool empty() const noexcept { return m_xyz.empty(); }
    /// Positions in tile order (for export to PLY / KITTI .bin).
    const std::vector<Vec3f>& points() const noexcept { return m_xyz; }
    /// Raw labels aligned with points(); semanticClass() gives the class.
    const std::vector<std::uint32_t>& labels() const noexcept { return m_labels; }
    const std::vector<MapTile>& tiles() const noexcept { return m_tiles; }
    /// A copy as a PointCloud (xyz and label fields).
    PointCloud toCloud() const;
    /// The points with the given indices, as a PointCloud with labels.
    PointCloud select(const std::vector<std::size_t>& indices) const;

    /// Indices, ascending, of the points whose 3D distance to `centre` is < `radius`.
    /// Visits only the tiles whose square comes within `radius` of the centre in x-y.
    std::vector<std::size_t> indicesWithin(const Eigen::Vector3d& centre, double radius) const;
    /// Number of points held by the tiles indicesWithin() would visit (for diagnostics).
    std::size_t pointsInVisitedTiles(const Eigen::Vector3d& centre, double radius) const;

    /// Writes the map atomically (temp file + rename). @throws IoError on a file-system fault.
    void save(const std::filesystem::path& file) const;
    /// Reads and fully verifies a map (size, checksums, tile consistency).
    /// @throws IoError naming the file and the fault (truncated, corrupt, wrong version...).
    static StaticMap load(const std::filesystem::path& file);
    /// Reads only the header of a map file (cheap staleness checks). @throws IoError.
    static MapInfo readInfo(const std::filesystem::path& file);

private:
    void buildTileIndex() { m_index = TileIndex(m_tiles, m_info.build.tileSize); }

    MapInfo m_info;
    std::vector<Vec3f> m_xyz;
    std::vector<std::uint32_t> m_labels;
    std::vector<MapTile> m_tiles;
    TileIndex m_index;
};

/// Accumulates scans into a static map as LiDiff does: per scan, keep the static classes,
/// drop points within minRange of the sensor, transform by the LiDAR pose and keep each
/// point only if its voxel (floor(p / voxelSize) of the float32 transformed point) holds no
/// point yet. This equals LiDiff's re-quantising of the whole map after every scan when the
/// first point of a cell survives. Not thread-safe.
class MapBuilder {
public:
    /// @throws InvalidArgument if the options are invalid.
    explicit MapBuilder(const MapBuildOptions& options = {});

    /// Adds one scan given in its sensor frame with its raw labels and LiDAR pose (sensor to
    /// sequence frame). @return the number of points that entered the map.
    /// @throws InvalidArgument if the scan has no labels (unless allowUnlabeled), has
    ///         misaligned fields, or a point has no representable cell.
    std::size_t addScan(const PointCloud& scan, const Eigen::Matrix4d& lidarPose);

    std::size_t size() const noexcept { return m_xyz.size(); }
    std::uint32_t scanCount() const noexcept { return m_scanCount; }
    /// Points gathered so far, in insertion order.
    const std::vector<Vec3f>& points() const noexcept { return m_xyz; }

    /// Tiles the points into a StaticMap; the builder is left empty.
    StaticMap finish();

private:
    MapBuildOptions m_options;
    CellSet m_cells;
    std::vector<Vec3f> m_xyz;
    std::vector<std::uint32_t> m_labels;
    std::uint32_t m_scanCount = 0;
};

/// True when the map was built with these options (tileSize ignored: it does not change the
/// points). Compares doubles exactly, as they are stored bit-exact.
bool sameBuild(const MapBuildOptions& a, const MapBuildOptions& b);

}  // namespace lidistill::map
