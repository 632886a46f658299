#pragma once
// SPDX-License-Identifier: MIT

#include <Eigen/Core>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace lidistill::map {

/// One x-y tile of a static map: the points [begin, begin + count), all with
/// floor(x / tileSize) == tx and floor(y / tileSize) == ty.
struct MapTile {
    std::int32_t tx = 0;
    std::int32_t ty = 0;
    std::uint64_t begin = 0;
    std::uint64_t count = 0;
};

/// Finds the tiles a disc around a point can reach. Shared by the in-memory map and the
/// on-disk reader. Immutable after construction; thread-safe.
class TileIndex {
public:
    TileIndex() = default;
    /// @param tiles in strictly increasing (ty, tx) order; @param tileSize their edge, metres.
    TileIndex(const std::vector<MapTile>& tiles, double tileSize);

    /// Positions in `tiles`, ascending, of the tiles whose square comes within `radius` of
    /// `centre` in x-y (a superset of those holding a point within `radius` in 3D).
    /// @throws InvalidArgument if centre or radius is not finite.
    std::vector<std::uint32_t> near(const Eigen::Vector3d& centre, double radius) const;

private:
    std::vector<MapTile> m_tiles;
    double m_tileSize = 1.0;
    std::unordered_map<std::uint64_t, std::uint32_t> m_lookup;  // packed (tx, ty) -> position
};

}  // namespace lidistill::map
