#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/map/StaticMap.h"
#include "core/map/TileIndex.h"

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace lidistill::map {

/// Reads a static map file (StaticMap::save) tile by tile: a crop reads from disk only the
/// tiles its disc overlaps, so a training loader need not hold every sequence's map in RAM
/// (reference §1.5). Each tile read is checked against its checksum.
/// Thread-safety: const member functions may be called concurrently (positioned reads).
class MapFileReader {
public:
    /// Opens the file and verifies its size, header and tile table (not yet the points).
    /// @throws IoError naming the file and the fault.
    explicit MapFileReader(const std::filesystem::path& file);
    ~MapFileReader();
    MapFileReader(MapFileReader&& other) noexcept;
    MapFileReader& operator=(MapFileReader&& other) noexcept;
    MapFileReader(const MapFileReader&) = delete;
    MapFileReader& operator=(const MapFileReader&) = delete;

    const std::filesystem::path& file() const noexcept { return m_file; }
    const MapInfo& info() const noexcept { return m_info; }
    std::uint64_t size() const noexcept { return m_pointCount; }
    const std::vector<MapTile>& tiles() const noexcept { return m_tiles; }

    /// The points (sequence frame, with labels) whose 3D distance to `centre` is < `radius`,
    /// in map order. @param tilesRead if given, receives the number of tiles read from disk.
    /// @throws IoError on a read fault or a tile whose checksum does not match.
    PointCloud readWithin(const Eigen::Vector3d& centre, double radius,
                          std::size_t* tilesRead = nullptr) const;

private:
    std::filesystem::path m_file;
    int m_fd = -1;
    MapInfo m_info;
    std::uint64_t m_pointCount = 0;
    std::uint64_t m_pointsOffset = 0;
    std::vector<MapTile> m_tiles;
    std::vector<std::uint64_t> m_checksums;
    TileIndex m_index;
};

}  // namespace lidistill::map
