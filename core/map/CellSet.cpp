// SPDX-License-Identifier: MIT
#include "core/map/CellSet.h"

#include "core/base/Error.h"

#include <cmath>
#include <limits>
#include <string>

namespace lidistill::map {
namespace {
// INT32_MIN is reserved as the free-slot marker; cellOf() rejects it.
constexpr std::int32_t kEmpty = std::numeric_limits<std::int32_t>::min();
constexpr double kMaxIndex = 2147483647.0;

std::int32_t axisIndex(double v, double size, const char* axis) {
    const double q = std::floor(v / size);
    if (!(q >= -kMaxIndex && q <= kMaxIndex)) {  // also rejects NaN
        throw InvalidArgument(std::string("coordinate ") + axis + " = " + std::to_string(v) +
                              " has no integer cell at cell size " + std::to_string(size));
    }
    return static_cast<std::int32_t>(q);
}

std::uint64_t hashKey(const CellKey& k) {
    std::uint64_t h = static_cast<std::uint32_t>(k.x) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<std::uint32_t>(k.y) * 0xC2B2AE3D27D4EB4Full;
    h ^= static_cast<std::uint32_t>(k.z) * 0x165667B19E3779F9ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 29;
    return h;
}
}  // namespace

CellKey cellOf(double x, double y, double z, double size) {
    if (!(size > 0.0) || !std::isfinite(size)) {
        throw InvalidArgument("cell size must be positive and finite, got " + std::to_string(size));
    }
    return {axisIndex(x, size, "x"), axisIndex(y, size, "y"), axisIndex(z, size, "z")};
}

std::size_t CellSet::slotOf(const CellKey& key) const {
    const std::size_t mask = m_slots.size() - 1;
    std::size_t i = static_cast<std::size_t>(hashKey(key)) & mask;
    while (m_slots[i].x != kEmpty && !(m_slots[i] == key)) {
        i = (i + 1) & mask;
    }
    return i;
}

bool CellSet::insert(const CellKey& key) {
    if (key.x == kEmpty) {
        throw InvalidArgument("cell index x = INT32_MIN is reserved");
    }
    // Load factor <= 1/2 keeps linear-probing chains short.
    if ((m_size + 1) * 2 > m_slots.size()) {
        rehash(m_slots.empty() ? 64 : m_slots.size() * 2);
    }
    const std::size_t i = slotOf(key);
    if (m_slots[i].x != kEmpty) {
        return false;
    }
    m_slots[i] = key;
    ++m_size;
    return true;
}

bool CellSet::contains(const CellKey& key) const {
    if (m_slots.empty() || key.x == kEmpty) {
        return false;
    }
    return m_slots[slotOf(key)].x != kEmpty;
}

void CellSet::reserve(std::size_t count) {
    std::size_t want = 64;
    while (want < count * 2) {
        want *= 2;
    }
    if (want > m_slots.size()) {
        rehash(want);
    }
}

void CellSet::clear() {
    m_slots.clear();
    m_size = 0;
}

void CellSet::rehash(std::size_t slotCount) {
    std::vector<CellKey> old = std::move(m_slots);
    m_slots.assign(slotCount, CellKey{kEmpty, 0, 0});
    for (const CellKey& k : old) {
        if (k.x != kEmpty) {
            m_slots[slotOf(k)] = k;
        }
    }
}

}  // namespace lidistill::map
