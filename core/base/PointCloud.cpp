// SPDX-License-Identifier: MIT
#include "core/base/PointCloud.h"

#include "core/base/Error.h"

#include <cmath>
#include <string>

namespace lidistill {
namespace {
template <typename T>
void checkField(const std::vector<T>& field, std::size_t n, const char* name) {
    if (!field.empty() && field.size() != n) {
        throw InvalidArgument(std::string("point cloud field '") + name + "' has " +
                              std::to_string(field.size()) + " values for " + std::to_string(n) +
                              " points");
    }
}

template <typename T>
void keepIf(std::vector<T>& field, const std::vector<bool>& keep) {
    if (field.empty()) {
        return;
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (keep[i]) {
            field[out++] = field[i];
        }
    }
    field.resize(out);
}

template <typename T>
void appendField(std::vector<T>& mine, const std::vector<T>& theirs, bool mineEmptyCloud) {
    if (mineEmptyCloud) {
        mine = theirs;
    } else if (mine.empty() || theirs.empty()) {
        mine.clear();
    } else {
        mine.insert(mine.end(), theirs.begin(), theirs.end());
    }
}
}  // namespace

void PointCloud::validate() const {
    checkField(intensity, size(), "intensity");
    checkField(label, size(), "label");
    checkField(ring, size(), "ring");
}

void PointCloud::filter(const std::vector<bool>& keep) {
    if (keep.size() != size()) {
        throw InvalidArgument("filter mask has " + std::to_string(keep.size()) + " entries for " +
                              std::to_string(size()) + " points");
    }
    keepIf(intensity, keep);
    keepIf(label, keep);
    keepIf(ring, keep);
    keepIf(xyz, keep);
}

void PointCloud::append(const PointCloud& other) {
    const bool wasEmpty = empty();
    if (!wasEmpty && other.empty()) {
        return;
    }
    appendField(intensity, other.intensity, wasEmpty);
    appendField(label, other.label, wasEmpty);
    appendField(ring, other.ring, wasEmpty);
    xyz.insert(xyz.end(), other.xyz.begin(), other.xyz.end());
}

PointCloud withinRange(const PointCloud& cloud, double lo, double hi) {
    PointCloud out;
    for (const auto& p : cloud.xyz) {
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        if (r > lo && r < hi) out.xyz.push_back(p);
    }
    return out;
}

void transformInPlace(PointCloud& cloud, const Eigen::Matrix4d& t) {
    for (auto& p : cloud.xyz) {
        const double x = p[0], y = p[1], z = p[2];
        p[0] = static_cast<float>(t(0, 0) * x + t(0, 1) * y + t(0, 2) * z + t(0, 3));
        p[1] = static_cast<float>(t(1, 0) * x + t(1, 1) * y + t(1, 2) * z + t(1, 3));
        p[2] = static_cast<float>(t(2, 0) * x + t(2, 1) * y + t(2, 2) * z + t(2, 3));
    }
}

}  // namespace lidistill
