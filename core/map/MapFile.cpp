// SPDX-License-Identifier: MIT
// The static map file format (".ldmap"), version 1. All numbers little-endian.
//
//   offset  type      field
//   0       char[8]   magic "LDSTMAP\n"
//   8       u32       version = 1
//   12      u32       header size = 128 (bytes before the tile table)
//   16      f64       voxelSize
//   24      f64       minRange
//   32      f64       tileSize
//   40      u32       flags: bit 0 rangeIncludesRemission, bit 1 allowUnlabeled
//   44      u32       classLow
//   48      u32       classHigh
//   52      u32       scanCount
//   56      u64       pointCount N
//   64      u64       tileCount T
//   72      u64       checksum of the tile table
//   80      u64[5]    reserved, 0
//   120     u64       checksum of bytes 0..119
//   128     T x 32 B  tile table: i32 tx, i32 ty, u64 begin, u64 count, u64 checksum of the
//                     tile's records; tiles in strictly increasing (ty, tx), begin contiguous
//   128+32T N x 16 B  records: f32 x, y, z, u32 raw label, in tile order
//
// The file size must be exactly 128 + 32 T + 16 N. checksum64() is defined below; it is not a
// cryptographic hash, only a guard against truncation, bit rot and partial copies.
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/MemoryBudget.h"
#include "core/map/MapChecksum.h"
#include "core/map/MapFileReader.h"
#include "core/map/StaticMap.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace lidistill::map {
namespace {
static_assert(std::endian::native == std::endian::little,
              "the map file format is written by memcpy on little-endian hosts");

constexpr char kMagic[8] = {'L', 'D', 'S', 'T', 'M', 'A', 'P', '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderSize = 128;
constexpr std::size_t kTileBytes = 32;
constexpr std::size_t kRecordBytes = 16;

struct Record {
    float x, y, z;
    std::uint32_t label;
};
static_assert(sizeof(Record) == kRecordBytes);

struct TileEntry {
    std::int32_t tx, ty;
    std::uint64_t begin, count, checksum;
};
static_assert(sizeof(TileEntry) == kTileBytes);

template <typename T>
void put(std::array<unsigned char, kHeaderSize>& buf, std::size_t offset, T value) {
    std::memcpy(buf.data() + offset, &value, sizeof(T));
}
template <typename T>
T get(const std::array<unsigned char, kHeaderSize>& buf, std::size_t offset) {
    T value;
    std::memcpy(&value, buf.data() + offset, sizeof(T));
    return value;
}

struct Header {
    MapInfo info;
    std::uint64_t pointCount = 0;
    std::uint64_t tileCount = 0;
    std::uint64_t tableChecksum = 0;
};

std::array<unsigned char, kHeaderSize> encodeHeader(const Header& h) {
    std::array<unsigned char, kHeaderSize> buf{};
    std::memcpy(buf.data(), kMagic, 8);
    put<std::uint32_t>(buf, 8, kVersion);
    put<std::uint32_t>(buf, 12, kHeaderSize);
    put<double>(buf, 16, h.info.build.voxelSize);
    put<double>(buf, 24, h.info.build.minRange);
    put<double>(buf, 32, h.info.build.tileSize);
    put<std::uint32_t>(
        buf, 40,
        (h.info.build.rangeIncludesRemission ? 1u : 0u) | (h.info.build.allowUnlabeled ? 2u : 0u));
    put<std::uint32_t>(buf, 44, h.info.build.classLow);
    put<std::uint32_t>(buf, 48, h.info.build.classHigh);
    put<std::uint32_t>(buf, 52, h.info.scanCount);
    put<std::uint64_t>(buf, 56, h.pointCount);
    put<std::uint64_t>(buf, 64, h.tileCount);
    put<std::uint64_t>(buf, 72, h.tableChecksum);
    put<std::uint64_t>(buf, 120, checksum64(buf.data(), 120));
    return buf;
}

/// Reads and checks the header and the file size against the counts it announces.
Header readHeader(std::istream& in, const std::filesystem::path& file) {
    std::error_code ec;
    const std::uintmax_t fileSize = std::filesystem::file_size(file, ec);
    if (ec) {
        throw IoError(file, "cannot read the file size: " + ec.message());
    }
    if (fileSize < kHeaderSize) {
        throw IoError(file, "file is " + std::to_string(fileSize) + " bytes, shorter than the " +
                                std::to_string(kHeaderSize) + "-byte map header (truncated?)");
    }
    std::array<unsigned char, kHeaderSize> buf{};
    if (!in.read(reinterpret_cast<char*>(buf.data()), kHeaderSize)) {
        throw IoError(file, "cannot read the map header");
    }
    if (std::memcmp(buf.data(), kMagic, 8) != 0) {
        throw IoError(file, "not a LiDistill static map (bad magic)");
    }
    const auto version = get<std::uint32_t>(buf, 8);
    if (version != kVersion) {
        throw IoError(file, "unsupported static map version " + std::to_string(version) +
                                " (this build reads version " + std::to_string(kVersion) + ")");
    }
    if (get<std::uint32_t>(buf, 12) != kHeaderSize) {
        throw IoError(file, "corrupt map header: header size field is " +
                                std::to_string(get<std::uint32_t>(buf, 12)));
    }
    if (get<std::uint64_t>(buf, 120) != checksum64(buf.data(), 120)) {
        throw IoError(file, "corrupt map header: checksum mismatch");
    }
    Header h;
    h.info.build.voxelSize = get<double>(buf, 16);
    h.info.build.minRange = get<double>(buf, 24);
    h.info.build.tileSize = get<double>(buf, 32);
    const auto flags = get<std::uint32_t>(buf, 40);
    h.info.build.rangeIncludesRemission = (flags & 1u) != 0;
    h.info.build.allowUnlabeled = (flags & 2u) != 0;
    h.info.build.classLow = get<std::uint32_t>(buf, 44);
    h.info.build.classHigh = get<std::uint32_t>(buf, 48);
    h.info.scanCount = get<std::uint32_t>(buf, 52);
    h.pointCount = get<std::uint64_t>(buf, 56);
    h.tileCount = get<std::uint64_t>(buf, 64);
    h.tableChecksum = get<std::uint64_t>(buf, 72);
    try {
        h.info.build.validate();
    } catch (const InvalidArgument& e) {
        throw IoError(file, std::string("invalid build parameters in the map header: ") + e.what());
    }
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max() / 64;
    if (h.pointCount > kMax || h.tileCount > kMax || h.tileCount > h.pointCount) {
        throw IoError(file, "corrupt map header: impossible counts (" +
                                std::to_string(h.pointCount) + " points, " +
                                std::to_string(h.tileCount) + " tiles)");
    }
    // Loaded: 16 bytes a point (position, label) and the tile table with its index.
    checkMemoryBudget(file, kRecordBytes * h.pointCount + 2 * kTileBytes * h.tileCount,
                      "the map's " + std::to_string(h.pointCount) + " points in " +
                          std::to_string(h.tileCount) + " tiles");
    const std::uint64_t expected =
        kHeaderSize + kTileBytes * h.tileCount + kRecordBytes * h.pointCount;
    if (fileSize < expected) {
        throw IoError(file, "file is " + std::to_string(fileSize) + " bytes but its header " +
                                "announces " + std::to_string(h.pointCount) + " points in " +
                                std::to_string(h.tileCount) + " tiles, i.e. " +
                                std::to_string(expected) + " bytes (truncated)");
    }
    if (fileSize > expected) {
        throw IoError(file, "file is " + std::to_string(fileSize) + " bytes, " +
                                std::to_string(fileSize - expected) +
                                " more than its header announces (corrupt or appended data)");
    }
    return h;
}

/// Reads and checks the tile table that follows the header.
std::vector<TileEntry> readTable(std::istream& in, const Header& h,
                                 const std::filesystem::path& file) {
    std::vector<TileEntry> table(h.tileCount);
    if (!in.read(reinterpret_cast<char*>(table.data()),
                 static_cast<std::streamsize>(table.size() * sizeof(TileEntry)))) {
        throw IoError(file, "cannot read the tile table");
    }
    if (checksum64(table.data(), table.size() * sizeof(TileEntry)) != h.tableChecksum) {
        throw IoError(file, "corrupt tile table: checksum mismatch");
    }
    std::uint64_t next = 0;
    for (std::size_t t = 0; t < table.size(); ++t) {
        const TileEntry& e = table[t];
        if (e.begin != next || e.count == 0 || e.count > h.pointCount - next) {
            throw IoError(file, "corrupt tile table: tile " + std::to_string(t) +
                                    " does not continue the previous one");
        }
        if (t > 0 &&
            !(e.ty > table[t - 1].ty || (e.ty == table[t - 1].ty && e.tx > table[t - 1].tx))) {
            throw IoError(file, "corrupt tile table: tiles not in increasing (ty, tx) order");
        }
        next += e.count;
    }
    if (next != h.pointCount) {
        throw IoError(file, "corrupt tile table: tiles hold " + std::to_string(next) +
                                " points, the header announces " + std::to_string(h.pointCount));
    }
    return table;
}

/// Checks one tile's records (checksum, finite, inside the tile) after they were read.
void checkTile(const std::vector<Record>& buf, const TileEntry& e, double tileSize,
               const std::filesystem::path& file) {
    if (checksum64(buf.data(), buf.size() * sizeof(Record)) != e.checksum) {
        throw IoError(file, "corrupt points in tile (" + std::to_string(e.tx) + ", " +
                                std::to_string(e.ty) + "): checksum mismatch");
    }
    for (std::size_t k = 0; k < buf.size(); ++k) {
        const Record& r = buf[k];
        const bool inTile = std::isfinite(r.x) && std::isfinite(r.y) && std::isfinite(r.z) &&
                            std::floor(r.x / tileSize) == e.tx &&
                            std::floor(r.y / tileSize) == e.ty;
        if (!inTile) {
            throw IoError(file, "corrupt map: point " + std::to_string(e.begin + k) +
                                    " is not finite or lies outside its tile");
        }
    }
}

std::ifstream openForRead(const std::filesystem::path& file) {
    if (!std::filesystem::is_regular_file(file)) {
        throw IoError(file, "static map file does not exist");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw IoError(file, "cannot open the static map for reading");
    }
    return in;
}
}  // namespace

void StaticMap::save(const std::filesystem::path& file) const {
    // Pass 1 hashes each tile's records, pass 2 writes them, so no full copy is held.
    std::vector<Record> buf;
    const auto fill = [&](const MapTile& t) {
        buf.resize(t.count);
        for (std::size_t k = 0; k < t.count; ++k) {
            const std::size_t i = t.begin + k;
            buf[k] = {m_xyz[i][0], m_xyz[i][1], m_xyz[i][2], m_labels[i]};
        }
    };
    std::vector<TileEntry> table(m_tiles.size());
    for (std::size_t t = 0; t < m_tiles.size(); ++t) {
        fill(m_tiles[t]);
        table[t] = {m_tiles[t].tx, m_tiles[t].ty, m_tiles[t].begin, m_tiles[t].count,
                    checksum64(buf.data(), buf.size() * sizeof(Record))};
    }
    Header h;
    h.info = m_info;
    h.pointCount = m_xyz.size();
    h.tileCount = table.size();
    h.tableChecksum = checksum64(table.data(), table.size() * sizeof(TileEntry));
    const auto header = encodeHeader(h);

    writeStreamAtomically(file, [&](std::ostream& out) {
        out.write(reinterpret_cast<const char*>(header.data()), kHeaderSize);
        out.write(reinterpret_cast<const char*>(table.data()),
                  static_cast<std::streamsize>(table.size() * sizeof(TileEntry)));
        for (const MapTile& t : m_tiles) {
            fill(t);
            out.write(reinterpret_cast<const char*>(buf.data()),
                      static_cast<std::streamsize>(buf.size() * sizeof(Record)));
        }
    });
}

MapInfo StaticMap::readInfo(const std::filesystem::path& file) {
    std::ifstream in = openForRead(file);
    return readHeader(in, file).info;
}

StaticMap StaticMap::load(const std::filesystem::path& file) {
    std::ifstream in = openForRead(file);
    const Header h = readHeader(in, file);
    const std::vector<TileEntry> table = readTable(in, h, file);

    StaticMap map;
    map.m_info = h.info;
    map.m_tiles.resize(table.size());
    map.m_xyz.resize(h.pointCount);
    map.m_labels.resize(h.pointCount);
    std::vector<Record> buf;
    for (std::size_t t = 0; t < table.size(); ++t) {
        const TileEntry& e = table[t];
        map.m_tiles[t] = {e.tx, e.ty, e.begin, e.count};
        buf.resize(e.count);
        if (!in.read(reinterpret_cast<char*>(buf.data()),
                     static_cast<std::streamsize>(buf.size() * sizeof(Record)))) {
            throw IoError(file, "cannot read the points of tile " + std::to_string(t));
        }
        checkTile(buf, e, h.info.build.tileSize, file);
        for (std::size_t k = 0; k < buf.size(); ++k) {
            map.m_xyz[e.begin + k] = {buf[k].x, buf[k].y, buf[k].z};
            map.m_labels[e.begin + k] = buf[k].label;
        }
    }
    map.buildTileIndex();
    return map;
}

// ---------------------------------------------------------------------------------------------
// MapFileReader

MapFileReader::MapFileReader(const std::filesystem::path& file) : m_file(file) {
    std::ifstream in = openForRead(file);
    const Header h = readHeader(in, file);
    const std::vector<TileEntry> table = readTable(in, h, file);
    m_info = h.info;
    m_pointCount = h.pointCount;
    m_pointsOffset = kHeaderSize + kTileBytes * h.tileCount;
    m_tiles.reserve(table.size());
    m_checksums.reserve(table.size());
    for (const TileEntry& e : table) {
        m_tiles.push_back({e.tx, e.ty, e.begin, e.count});
        m_checksums.push_back(e.checksum);
    }
    m_index = TileIndex(m_tiles, m_info.build.tileSize);
    m_fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        throw IoError(file, "cannot open the static map for reading");
    }
}

MapFileReader::~MapFileReader() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

MapFileReader::MapFileReader(MapFileReader&& other) noexcept
    : m_file(std::move(other.m_file)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_info(other.m_info),
      m_pointCount(other.m_pointCount),
      m_pointsOffset(other.m_pointsOffset),
      m_tiles(std::move(other.m_tiles)),
      m_checksums(std::move(other.m_checksums)),
      m_index(std::move(other.m_index)) {}

MapFileReader& MapFileReader::operator=(MapFileReader&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_file = std::move(other.m_file);
        m_fd = std::exchange(other.m_fd, -1);
        m_info = other.m_info;
        m_pointCount = other.m_pointCount;
        m_pointsOffset = other.m_pointsOffset;
        m_tiles = std::move(other.m_tiles);
        m_checksums = std::move(other.m_checksums);
        m_index = std::move(other.m_index);
    }
    return *this;
}

PointCloud MapFileReader::readWithin(const Eigen::Vector3d& centre, double radius,
                                     std::size_t* tilesRead) const {
    const std::vector<std::uint32_t> near = m_index.near(centre, radius);
    if (tilesRead) {
        *tilesRead = near.size();
    }
    PointCloud out;
    if (m_fd < 0) {
        return out;  // moved-from reader
    }
    const double r2 = radius * radius;
    std::vector<Record> buf;
    for (const std::uint32_t t : near) {
        const MapTile& tile = m_tiles[t];
        buf.resize(tile.count);
        auto* dst = reinterpret_cast<char*>(buf.data());
        std::size_t want = buf.size() * sizeof(Record);
        auto offset = static_cast<off_t>(m_pointsOffset + tile.begin * sizeof(Record));
        while (want > 0) {
            const ssize_t got = ::pread(m_fd, dst, want, offset);
            if (got <= 0) {
                throw IoError(m_file, "cannot read the points of tile (" + std::to_string(tile.tx) +
                                          ", " + std::to_string(tile.ty) + ")" +
                                          (got == 0 ? ": file ends early (truncated)" : ""));
            }
            dst += got;
            want -= static_cast<std::size_t>(got);
            offset += got;
        }
        checkTile(buf, {tile.tx, tile.ty, tile.begin, tile.count, m_checksums[t]},
                  m_info.build.tileSize, m_file);
        for (const Record& r : buf) {
            const double dx = r.x - centre.x(), dy = r.y - centre.y(), dz = r.z - centre.z();
            if (dx * dx + dy * dy + dz * dz < r2) {
                out.xyz.push_back({r.x, r.y, r.z});
                out.label.push_back(r.label);
            }
        }
    }
    return out;
}

namespace {
std::uint64_t mixWord(std::uint64_t w) {
    w ^= w >> 33;
    w *= 0xFF51AFD7ED558CCDull;
    w ^= w >> 33;
    return w;
}

}  // namespace

/// 64-bit checksum: h = 0x6A09E667F3BCC909 ^ (n * 0x9E3779B97F4A7C15); for each 8-byte
/// little-endian word w (the last one zero-padded): h = rotl(h ^ mixWord(w), 27) *
/// 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019; finally h ^= h >> 31, h *= 0xBF58476D1CE4E5B9,
/// h ^= h >> 29.
std::uint64_t checksum64(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h =
        0x6A09E667F3BCC909ull ^ (static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ull);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = std::rotl(h ^ mixWord(w), 27) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    }
    if (i < n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, n - i);
        h = std::rotl(h ^ mixWord(w), 27) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    }
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

}  // namespace lidistill::map
