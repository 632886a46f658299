// SPDX-License-Identifier: MIT
#include "core/map/StaticMap.h"

#include "core/base/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace lidistill::map {
namespace {
std::uint64_t packTile(std::int32_t tx, std::int32_t ty) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tx)) << 32) |
           static_cast<std::uint32_t>(ty);
}

bool positiveFinite(double v) {
    return v > 0.0 && std::isfinite(v);
}
}  // namespace

void MapBuildOptions::validate() const {
    if (!positiveFinite(voxelSize)) {
        throw InvalidArgument("map voxel size must be positive, got " + std::to_string(voxelSize));
    }
    if (!positiveFinite(tileSize)) {
        throw InvalidArgument("map tile size must be positive, got " + std::to_string(tileSize));
    }
    if (!std::isfinite(minRange)) {
        throw InvalidArgument("map minimum range must be finite");
    }
    if (classLow >= classHigh) {
        throw InvalidArgument("map class bounds are empty: " + std::to_string(classLow) +
                              " < class < " + std::to_string(classHigh));
    }
}

bool sameBuild(const MapBuildOptions& a, const MapBuildOptions& b) {
    return a.voxelSize == b.voxelSize && a.minRange == b.minRange &&
           a.rangeIncludesRemission == b.rangeIncludesRemission && a.classLow == b.classLow &&
           a.classHigh == b.classHigh && a.allowUnlabeled == b.allowUnlabeled;
}

// ---------------------------------------------------------------------------------------------
// StaticMap

StaticMap StaticMap::fromPoints(std::vector<Vec3f> xyz, std::vector<std::uint32_t> labels,
                                const MapInfo& info) {
    info.build.validate();
    if (labels.empty()) {
        labels.assign(xyz.size(), 0u);
    }
    if (labels.size() != xyz.size()) {
        throw InvalidArgument("static map: " + std::to_string(labels.size()) + " labels for " +
                              std::to_string(xyz.size()) + " points");
    }
    const double ts = info.build.tileSize;
    const std::size_t n = xyz.size();

    // Counting sort by tile: stable, so points keep their insertion order within a tile.
    std::unordered_map<std::uint64_t, std::uint32_t> firstSeen;
    std::vector<MapTile> tiles;
    std::vector<std::uint32_t> tileOf(n);
    for (std::size_t i = 0; i < n; ++i) {
        const CellKey c = cellOf(xyz[i][0], xyz[i][1], 0.0, ts);
        const auto [it, added] =
            firstSeen.emplace(packTile(c.x, c.y), static_cast<std::uint32_t>(tiles.size()));
        if (added) {
            tiles.push_back({c.x, c.y, 0, 0});
        }
        tileOf[i] = it->second;
        ++tiles[it->second].count;
    }
    std::vector<std::uint32_t> order(tiles.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return tiles[a].ty != tiles[b].ty ? tiles[a].ty < tiles[b].ty : tiles[a].tx < tiles[b].tx;
    });
    std::vector<std::uint32_t> rank(tiles.size());
    std::vector<MapTile> sorted(tiles.size());
    std::uint64_t begin = 0;
    for (std::size_t r = 0; r < order.size(); ++r) {
        rank[order[r]] = static_cast<std::uint32_t>(r);
        sorted[r] = tiles[order[r]];
        sorted[r].begin = begin;
        begin += sorted[r].count;
    }
    std::vector<std::uint64_t> cursor(sorted.size());
    for (std::size_t r = 0; r < sorted.size(); ++r) {
        cursor[r] = sorted[r].begin;
    }

    StaticMap map;
    map.m_info = info;
    map.m_xyz.resize(n);
    map.m_labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t dst = cursor[rank[tileOf[i]]]++;
        map.m_xyz[dst] = xyz[i];
        map.m_labels[dst] = labels[i];
    }
    map.m_tiles = std::move(sorted);
    map.buildTileIndex();
    return map;
}

PointCloud StaticMap::toCloud() const {
    PointCloud c;
    c.xyz = m_xyz;
    c.label = m_labels;
    return c;
}

std::vector<std::size_t> StaticMap::indicesWithin(const Eigen::Vector3d& centre,
                                                  double radius) const {
    std::vector<std::size_t> out;
    const double r2 = radius * radius;
    for (const std::uint32_t tile : m_index.near(centre, radius)) {
        const MapTile& t = m_tiles[tile];
        for (std::size_t i = t.begin; i < t.begin + t.count; ++i) {
            const double dx = m_xyz[i][0] - centre.x();
            const double dy = m_xyz[i][1] - centre.y();
            const double dz = m_xyz[i][2] - centre.z();
            if (dx * dx + dy * dy + dz * dz < r2) {
                out.push_back(i);
            }
        }
    }
    return out;
}

std::size_t StaticMap::pointsInVisitedTiles(const Eigen::Vector3d& centre, double radius) const {
    std::size_t n = 0;
    for (const std::uint32_t tile : m_index.near(centre, radius)) {
        n += m_tiles[tile].count;
    }
    return n;
}

PointCloud StaticMap::select(const std::vector<std::size_t>& indices) const {
    PointCloud c;
    c.xyz.reserve(indices.size());
    c.label.reserve(indices.size());
    for (const std::size_t i : indices) {
        c.xyz.push_back(m_xyz.at(i));
        c.label.push_back(m_labels[i]);
    }
    return c;
}

// ---------------------------------------------------------------------------------------------
// MapBuilder

MapBuilder::MapBuilder(const MapBuildOptions& options) : m_options(options) {
    m_options.validate();
}

std::size_t MapBuilder::addScan(const PointCloud& scan, const Eigen::Matrix4d& pose) {
    scan.validate();
    const bool labelled = scan.hasLabels();
    if (!labelled && !m_options.allowUnlabeled && !scan.empty()) {
        throw InvalidArgument(
            "static map: a scan has no labels, so static points cannot be selected "
            "(set allowUnlabeled to keep every point)");
    }
    const bool withRemission = m_options.rangeIncludesRemission && scan.hasIntensity();
    const double minRange2 =
        m_options.minRange < 0.0 ? -1.0 : m_options.minRange * m_options.minRange;
    const std::size_t before = m_xyz.size();
    for (std::size_t i = 0; i < scan.size(); ++i) {
        const std::uint32_t label = labelled ? scan.label[i] : 0u;
        if (labelled) {
            const std::uint32_t sem = semanticClass(label);
            if (!(sem > m_options.classLow && sem < m_options.classHigh)) {
                continue;
            }
        }
        const double x = scan.xyz[i][0], y = scan.xyz[i][1], z = scan.xyz[i][2];
        double r2 = x * x + y * y + z * z;
        if (withRemission) {
            r2 += static_cast<double>(scan.intensity[i]) * scan.intensity[i];
        }
        if (r2 <= minRange2) {
            continue;
        }
        const Vec3f p{
            static_cast<float>(pose(0, 0) * x + pose(0, 1) * y + pose(0, 2) * z + pose(0, 3)),
            static_cast<float>(pose(1, 0) * x + pose(1, 1) * y + pose(1, 2) * z + pose(1, 3)),
            static_cast<float>(pose(2, 0) * x + pose(2, 1) * y + pose(2, 2) * z + pose(2, 3))};
        // Keyed on the stored float32 point, so "one point per cell" holds exactly for the
        // saved map and can be re-checked from it.
        if (m_cells.insert(cellOf(p, m_options.voxelSize))) {
            m_xyz.push_back(p);
            m_labels.push_back(label);
        }
    }
    ++m_scanCount;
    return m_xyz.size() - before;
}

StaticMap MapBuilder::finish() {
    MapInfo info;
    info.build = m_options;
    info.scanCount = m_scanCount;
    StaticMap map = StaticMap::fromPoints(std::move(m_xyz), std::move(m_labels), info);
    m_xyz = {};
    m_labels = {};
    m_cells.clear();
    m_scanCount = 0;
    return map;
}

}  // namespace lidistill::map
