// SPDX-License-Identifier: MIT
#include "core/map/TileIndex.h"

#include "core/base/Error.h"

#include <algorithm>
#include <cmath>

namespace lidistill::map {
namespace {
std::uint64_t packTile(std::int32_t tx, std::int32_t ty) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tx)) << 32) |
           static_cast<std::uint32_t>(ty);
}
}  // namespace

TileIndex::TileIndex(const std::vector<MapTile>& tiles, double tileSize)
    : m_tiles(tiles), m_tileSize(tileSize) {
    m_lookup.reserve(tiles.size());
    for (std::size_t t = 0; t < tiles.size(); ++t) {
        m_lookup.emplace(packTile(tiles[t].tx, tiles[t].ty), static_cast<std::uint32_t>(t));
    }
}

std::vector<std::uint32_t> TileIndex::near(const Eigen::Vector3d& centre, double radius) const {
    if (!centre.allFinite() || !std::isfinite(radius)) {
        throw InvalidArgument("static map crop: centre and radius must be finite");
    }
    std::vector<std::uint32_t> hits;
    if (!(radius > 0.0) || m_tiles.empty()) {
        return hits;
    }
    const double ts = m_tileSize;
    // The margin absorbs rounding between floor(x / ts) and the square [tx*ts, (tx+1)*ts).
    const double reach = radius + 1e-6 * (1.0 + radius + ts);
    const auto touches = [&](const MapTile& t) {
        const double x0 = t.tx * ts, x1 = x0 + ts, y0 = t.ty * ts, y1 = y0 + ts;
        const double dx = std::max({x0 - centre.x(), 0.0, centre.x() - x1});
        const double dy = std::max({y0 - centre.y(), 0.0, centre.y() - y1});
        return dx * dx + dy * dy <= reach * reach;
    };
    // Tiles exist only at int32 indices, so clamping the probe range loses nothing.
    const auto index = [&](double v) {
        return std::clamp(std::floor(v / ts), -2147483648.0, 2147483647.0);
    };
    const double lo[2] = {index(centre.x() - reach), index(centre.y() - reach)};
    const double hi[2] = {index(centre.x() + reach), index(centre.y() + reach)};
    const double candidates = (hi[0] - lo[0] + 1.0) * (hi[1] - lo[1] + 1.0);
    if (!(candidates <= static_cast<double>(m_tiles.size()))) {
        // Huge radius: scanning the table is cheaper than probing empty tile positions.
        for (std::size_t t = 0; t < m_tiles.size(); ++t) {
            if (touches(m_tiles[t])) {
                hits.push_back(static_cast<std::uint32_t>(t));
            }
        }
        return hits;
    }
    for (double ty = lo[1]; ty <= hi[1]; ty += 1.0) {
        for (double tx = lo[0]; tx <= hi[0]; tx += 1.0) {
            const auto it = m_lookup.find(
                packTile(static_cast<std::int32_t>(tx), static_cast<std::int32_t>(ty)));
            if (it != m_lookup.end() && touches(m_tiles[it->second])) {
                hits.push_back(it->second);
            }
        }
    }
    // Probed in (ty, tx) order, which is the table's order, so hits are already ascending.
    return hits;
}

}  // namespace lidistill::map
