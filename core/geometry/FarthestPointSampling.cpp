// SPDX-License-Identifier: MIT
#include "core/geometry/FarthestPointSampling.h"

#include "core/base/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>

// Open3D rounds dx*dx, dy*dy and dz*dz separately before adding them (Debian builds it for
// baseline x86-64, without FMA). The difference of two floats of similar size has at most 26
// significant bits and squares exactly in double, so a fused multiply-add (contracted when the
// target has FMA, e.g. -march=native) differs only for coordinates of very different
// magnitudes, but there it could move a pick.
#if defined(__FMA__)
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#endif

namespace lidistill::geometry {
namespace {

constexpr std::string_view kStage = "farthest point sampling";
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// Points per tree leaf: small enough that boxes are tight late in the sampling, when a pick
// only reaches its immediate neighbourhood; large enough that the per-box test is amortised.
constexpr std::size_t kLeafSize = 64;
constexpr std::size_t kProgressEvery = 256;
// A box is skipped only when its distance bound beats the box's largest point distance by this
// relative margin, far above the few ulps by which the rounded bound and the rounded point
// distances can differ, so a skipped point could never have got a smaller distance.
constexpr double kBoundShrink = 1.0 - 1e-9;

/// A box of the KD-tree: its points are [begin, end) of the tree-ordered arrays.
struct Node {
    double lo[3];
    double hi[3];
    double maxDist;     // largest current distance of a point in the box
    std::uint32_t arg;  // smallest input index with that distance; kNone while it is 0
    std::uint32_t begin;
    std::uint32_t end;
    std::uint32_t right;  // right child; 0 for a leaf (the left child is the next node)
};

/// The distance state of Open3D's loop, kept per box so that a pick touches only the boxes
/// it can bring closer, and the farthest point is read off the root.
class Sampler {
public:
    explicit Sampler(const std::vector<Vec3f>& xyz) {
        const auto n = static_cast<std::uint32_t>(xyz.size());
        std::vector<std::uint32_t> order(n);
        std::iota(order.begin(), order.end(), 0u);
        m_nodes.reserve(4 * (n / kLeafSize + 1));
        build(xyz, order, 0, n);
        m_x.resize(n);
        m_y.resize(n);
        m_z.resize(n);
        m_dist.assign(n, std::numeric_limits<double>::infinity());
        m_index = std::move(order);
        for (std::uint32_t k = 0; k < n; ++k) {
            const Vec3f& p = xyz[m_index[k]];
            m_x[k] = p[0];
            m_y[k] = p[1];
            m_z[k] = p[2];
        }
    }

    /// Lowers every distance to that of the new pick `s`, as Open3D's inner loop does.
    void add(const Vec3f& s) {
        const double sd[3] = {s[0], s[1], s[2]};
        update(0, sd);
    }
    double maxDist() const { return m_nodes[0].maxDist; }
    /// First input index with the largest distance (meaningful when maxDist() > 0).
    std::uint32_t farthest() const { return m_nodes[0].arg; }

private:
    std::uint32_t build(const std::vector<Vec3f>& xyz, std::vector<std::uint32_t>& order,
                        std::uint32_t begin, std::uint32_t end) {
        const auto self = static_cast<std::uint32_t>(m_nodes.size());
        m_nodes.emplace_back();
        float lo[3] = {xyz[order[begin]][0], xyz[order[begin]][1], xyz[order[begin]][2]};
        float hi[3] = {lo[0], lo[1], lo[2]};
        for (std::uint32_t k = begin; k < end; ++k) {
            const Vec3f& p = xyz[order[k]];
            for (int a = 0; a < 3; ++a) {
                lo[a] = std::min(lo[a], p[a]);
                hi[a] = std::max(hi[a], p[a]);
            }
        }
        std::uint32_t right = 0;
        if (end - begin <= kLeafSize) {
            // Input order inside a leaf, so that its strict '>' scan finds the first index.
            std::sort(order.begin() + begin, order.begin() + end);
        } else {
            int axis = 0;
            for (int a = 1; a < 3; ++a) {
                if (hi[a] - lo[a] > hi[axis] - lo[axis]) {
                    axis = a;
                }
            }
            const std::uint32_t mid = begin + (end - begin) / 2;
            std::nth_element(
                order.begin() + begin, order.begin() + mid, order.begin() + end,
                [&](std::uint32_t i, std::uint32_t j) { return xyz[i][axis] < xyz[j][axis]; });
            build(xyz, order, begin, mid);
            right = build(xyz, order, mid, end);
        }
        Node& node = m_nodes[self];
        for (int a = 0; a < 3; ++a) {
            node.lo[a] = lo[a];
            node.hi[a] = hi[a];
        }
        node.maxDist = std::numeric_limits<double>::infinity();
        node.arg = kNone;
        node.begin = begin;
        node.end = end;
        node.right = right;
        return self;
    }

    void update(std::uint32_t self, const double* s) {
        Node& node = m_nodes[self];
        double bound = 0.0;
        for (int a = 0; a < 3; ++a) {
            const double gap = std::max({node.lo[a] - s[a], s[a] - node.hi[a], 0.0});
            bound += gap * gap;
        }
        // Also skips a box whose points all sit on picks already (maxDist 0): nothing changes.
        if (bound * kBoundShrink >= node.maxDist) {
            return;
        }
        if (node.right == 0) {
            updateLeaf(node, s);
            return;
        }
        update(self + 1, s);
        update(node.right, s);
        const Node& l = m_nodes[self + 1];
        const Node& r = m_nodes[node.right];
        const bool takeRight = r.maxDist > l.maxDist || (r.maxDist == l.maxDist && r.arg < l.arg);
        node.maxDist = takeRight ? r.maxDist : l.maxDist;
        node.arg = takeRight ? r.arg : l.arg;
    }

    void updateLeaf(Node& node, const double* s) {
        const double sx = s[0];
        const double sy = s[1];
        const double sz = s[2];
        double* __restrict dist = m_dist.data();
        const double* __restrict x = m_x.data();
        const double* __restrict y = m_y.data();
        const double* __restrict z = m_z.data();
        // Two passes: the update vectorises on its own; the argmax then reads back the leaf.
        for (std::uint32_t k = node.begin; k < node.end; ++k) {
            // Open3D: (points_[j] - selected).squaredNorm(), i.e. (dx*dx + dy*dy) + dz*dz.
            const double dx = x[k] - sx;
            const double dy = y[k] - sy;
            const double dz = z[k] - sz;
            const double d = (dx * dx + dy * dy) + dz * dz;
            dist[k] = d < dist[k] ? d : dist[k];
        }
        double best = 0.0;
        std::uint32_t arg = kNone;
        for (std::uint32_t k = node.begin; k < node.end; ++k) {
            if (dist[k] > best) {
                best = dist[k];
                arg = m_index[k];
            }
        }
        node.maxDist = best;
        node.arg = arg;
    }

    std::vector<Node> m_nodes;
    std::vector<double> m_x;
    std::vector<double> m_y;
    std::vector<double> m_z;
    std::vector<double> m_dist;
    std::vector<std::uint32_t> m_index;  // input index of each tree-ordered point
};

void requireFinite(const std::vector<Vec3f>& xyz) {
    for (std::size_t i = 0; i < xyz.size(); ++i) {
        const Vec3f& p = xyz[i];
        if (!std::isfinite(p[0]) || !std::isfinite(p[1]) || !std::isfinite(p[2])) {
            throw InvalidArgument("farthest point sampling: point " + std::to_string(i) +
                                  " has a NaN or infinite coordinate (" + std::to_string(p[0]) +
                                  ", " + std::to_string(p[1]) + ", " + std::to_string(p[2]) + ")");
        }
    }
}

}  // namespace

std::vector<std::size_t> farthestPointIndices(const std::vector<Vec3f>& xyz, std::size_t count,
                                              ProgressSink* progress) {
    requireFinite(xyz);
    const std::size_t n = xyz.size();
    if (count > n) {
        throw InvalidArgument("farthest point sampling: asked for " + std::to_string(count) +
                              " points from a cloud of " + std::to_string(n) +
                              " (Open3D refuses this too)");
    }
    if (n >= kNone) {
        throw InvalidArgument("farthest point sampling: " + std::to_string(n) +
                              " points is more than the 32-bit indices used here");
    }
    std::vector<std::size_t> picks;
    if (count == n) {
        // Open3D returns a copy of the cloud here without running the sampler.
        picks.resize(n);
        std::iota(picks.begin(), picks.end(), std::size_t{0});
        return picks;
    }
    if (count == 0) {
        return picks;
    }
    checkpoint(progress, 0.0, kStage);
    Sampler sampler(xyz);
    picks.reserve(count);
    std::size_t farthest = 0;
    for (std::size_t i = 0;; ++i) {
        picks.push_back(farthest);
        if (i + 1 == count) {
            break;
        }
        sampler.add(xyz[farthest]);
        // Open3D moves the pick only on a distance strictly above 0; otherwise it repeats.
        if (sampler.maxDist() > 0.0) {
            farthest = sampler.farthest();
        }
        if ((i + 1) % kProgressEvery == 0) {
            checkpoint(progress, static_cast<double>(i + 1) / static_cast<double>(count), kStage);
        }
    }
    checkpoint(progress, 1.0, kStage);
    return picks;
}

PointCloud farthestPointSample(const PointCloud& cloud, std::size_t count, ProgressSink* progress) {
    cloud.validate();
    const std::vector<std::size_t> picks = farthestPointIndices(cloud.xyz, count, progress);
    // Open3D's SelectByIndex: a mask over the input, so input order and each point once.
    std::vector<bool> keep(cloud.size(), false);
    for (std::size_t i : picks) {
        keep[i] = true;
    }
    PointCloud out = cloud;
    out.filter(keep);
    return out;
}

}  // namespace lidistill::geometry
