#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lidistill::map {

/// Integer index of a cubic cell: floor(p / size) per axis.
struct CellKey {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 0;
    friend bool operator==(const CellKey&, const CellKey&) = default;
};

/// The cell of `p` for cells of edge `size`, as floor(p / size) in double precision (the
/// division, not a multiplication by 1/size, as numpy's `map / 0.1` does).
/// @throws InvalidArgument if a coordinate is not finite or the index leaves the int32 range.
CellKey cellOf(double x, double y, double z, double size);
inline CellKey cellOf(const Vec3f& p, double size) {
    return cellOf(p[0], p[1], p[2], size);
}

/// Hash set of exact integer cell keys (open addressing, linear probing, about 16 bytes a key
/// at its load factor). Used to keep the first point per voxel while a map grows to tens of
/// millions of points, where std::unordered_set's nodes would cost three times the memory.
/// Not thread-safe for concurrent insert.
class CellSet {
public:
    /// Adds `key`; returns true if it was not present before.
    bool insert(const CellKey& key);
    bool contains(const CellKey& key) const;
    std::size_t size() const noexcept { return m_size; }
    bool empty() const noexcept { return m_size == 0; }
    /// Makes room for `count` keys without rehashing.
    void reserve(std::size_t count);
    void clear();

private:
    std::size_t slotOf(const CellKey& key) const;
    void rehash(std::size_t slotCount);

    std::vector<CellKey> m_slots;  // x == kEmpty marks a free slot; cellOf never yields it
    std::size_t m_size = 0;
};

}  // namespace lidistill::map
