// SPDX-License-Identifier: MIT
// Static map files (.ldmap): StaticMap::load, StaticMap::readInfo and MapFileReader with a crop.
// Input: one mode byte, then the file. Mutated bytes almost never keep the checksums valid, so
// with mode bit 0 the target first recomputes them (tiles, table, header: the layout of
// MapFile.cpp) and the fuzzer reaches the structure checks behind them.
#include "core/map/MapChecksum.h"
#include "core/map/MapFileReader.h"
#include "core/map/StaticMap.h"
#include "tests/fuzz/FuzzChecks.h"

#include <cstring>
#include <vector>

using namespace lidistill;

namespace {

template <typename T>
T load(const std::vector<std::uint8_t>& b, std::size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof(T));
    return v;
}
template <typename T>
void store(std::vector<std::uint8_t>& b, std::size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof(T));
}

void repairChecksums(std::vector<std::uint8_t>& b) {
    constexpr std::size_t kHeader = 128, kTile = 32, kRecord = 16;
    if (b.size() < kHeader) return;
    const auto tiles = load<std::uint64_t>(b, 64);
    if (tiles <= (b.size() - kHeader) / kTile) {
        const std::size_t records = kHeader + kTile * tiles;
        for (std::uint64_t t = 0; t < tiles; ++t) {
            const std::size_t e = kHeader + kTile * t;
            const auto begin = load<std::uint64_t>(b, e + 8), count = load<std::uint64_t>(b, e + 16);
            const std::size_t have = (b.size() - records) / kRecord;
            if (begin <= have && count <= have - begin) {
                store(b, e + 24,
                      map::checksum64(b.data() + records + kRecord * begin, kRecord * count));
            }
        }
        store(b, 72, map::checksum64(b.data() + kHeader, kTile * tiles));
    }
    store(b, 120, map::checksum64(b.data(), 120));
}

}  // namespace

LIDISTILL_FUZZ_TARGET(ldmap) {
    if (size < 1) return;
    std::vector<std::uint8_t> bytes(data + 1, data + size);
    if (data[0] & 1) repairChecksums(bytes);
    const auto file = fuzz::writeInput("map.ldmap", bytes.data(), bytes.size());
    const map::MapInfo info = map::StaticMap::readInfo(file);
    const map::StaticMap m = map::StaticMap::load(file);
    FUZZ_CHECK(info.scanCount == m.info().scanCount);
    FUZZ_CHECK(128 + 32 * m.tiles().size() + 16 * m.size() == bytes.size());
    FUZZ_CHECK(m.labels().size() == m.size());
    std::size_t held = 0;
    for (const auto& t : m.tiles()) held += t.count;
    FUZZ_CHECK(held == m.size());

    const map::MapFileReader reader(file);
    FUZZ_CHECK(reader.size() == m.size() && reader.tiles().size() == m.tiles().size());
    if (m.empty()) return;
    // A crop around the first point: the file reader and the loaded map must agree.
    const auto& p = m.points().front();
    const Eigen::Vector3d centre(p[0], p[1], p[2]);
    const double radius = 2.0 * m.info().build.tileSize;
    const PointCloud crop = reader.readWithin(centre, radius);
    FUZZ_CHECK(crop.size() == m.indicesWithin(centre, radius).size());
    FUZZ_CHECK(crop.size() >= 1);  // the first point itself
    fuzz::checkCloud(crop);
}
