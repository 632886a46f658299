// SPDX-License-Identifier: MIT
#include "core/synth/Mesh.h"

#include "core/synth/Random.h"

#include <cmath>
#include <map>
#include <utility>

namespace lidistill::synth {

void TriangleMesh::addTriangle(const Eigen::Vector3f& a, const Eigen::Vector3f& b,
                               const Eigen::Vector3f& c, std::uint32_t label, Material material) {
    const auto base = static_cast<std::uint32_t>(vertices.size());
    vertices.push_back(a);
    vertices.push_back(b);
    vertices.push_back(c);
    triangles.push_back({base, base + 1, base + 2});
    labels.push_back(label);
    materials.push_back(material);
}

void TriangleMesh::addQuad(const Eigen::Vector3f& a, const Eigen::Vector3f& b,
                           const Eigen::Vector3f& c, const Eigen::Vector3f& d, std::uint32_t label,
                           Material material) {
    const auto base = static_cast<std::uint32_t>(vertices.size());
    vertices.push_back(a);
    vertices.push_back(b);
    vertices.push_back(c);
    vertices.push_back(d);
    triangles.push_back({base, base + 1, base + 2});
    triangles.push_back({base, base + 2, base + 3});
    labels.insert(labels.end(), 2, label);
    materials.insert(materials.end(), 2, material);
}

void TriangleMesh::addBox(const Eigen::Vector3f& centre, const Eigen::Vector3f& half, float yaw,
                          std::uint32_t label, Material material) {
    const float c = std::cos(yaw), s = std::sin(yaw);
    auto corner = [&](float sx, float sy, float sz) {
        const float x = sx * half.x(), y = sy * half.y();
        return Eigen::Vector3f(centre.x() + c * x - s * y, centre.y() + s * x + c * y,
                               centre.z() + sz * half.z());
    };
    const Eigen::Vector3f p000 = corner(-1, -1, -1), p100 = corner(1, -1, -1),
                          p110 = corner(1, 1, -1), p010 = corner(-1, 1, -1),
                          p001 = corner(-1, -1, 1), p101 = corner(1, -1, 1), p111 = corner(1, 1, 1),
                          p011 = corner(-1, 1, 1);
    addQuad(p000, p010, p110, p100, label, material);  // bottom
    addQuad(p001, p101, p111, p011, label, material);  // top
    addQuad(p000, p100, p101, p001, label, material);  // -y
    addQuad(p100, p110, p111, p101, label, material);  // +x
    addQuad(p110, p010, p011, p111, label, material);  // +y
    addQuad(p010, p000, p001, p011, label, material);  // -x
}

void TriangleMesh::addCylinder(const Eigen::Vector3f& base, float radius, float height, int sides,
                               std::uint32_t label, Material material) {
    const Eigen::Vector3f top = base + Eigen::Vector3f(0, 0, height);
    for (int i = 0; i < sides; ++i) {
        const float a0 = 6.2831853f * static_cast<float>(i) / static_cast<float>(sides);
        const float a1 = 6.2831853f * static_cast<float>(i + 1) / static_cast<float>(sides);
        const Eigen::Vector3f d0(radius * std::cos(a0), radius * std::sin(a0), 0);
        const Eigen::Vector3f d1(radius * std::cos(a1), radius * std::sin(a1), 0);
        addQuad(base + d0, base + d1, top + d1, top + d0, label, material);
        addTriangle(top, top + d0, top + d1, label, material);
    }
}

void TriangleMesh::addEllipsoid(const Eigen::Vector3f& centre, const Eigen::Vector3f& radii,
                                int subdivisions, float jitter, std::uint64_t seed,
                                std::uint32_t label, Material material) {
    // Icosahedron, subdivided on the unit sphere; shared vertices so jitter keeps it closed.
    const float t = (1.0f + std::sqrt(5.0f)) / 2.0f;
    std::vector<Eigen::Vector3f> v = {{-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0},
                                      {0, -1, t}, {0, 1, t}, {0, -1, -t}, {0, 1, -t},
                                      {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1}};
    for (auto& p : v) p.normalize();
    std::vector<std::array<std::uint32_t, 3>> f = {
        {0, 11, 5},  {0, 5, 1},  {0, 1, 7},  {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
        {11, 10, 2}, {10, 7, 6}, {7, 1, 8},  {3, 9, 4},  {3, 4, 2},   {3, 2, 6}, {3, 6, 8},
        {3, 8, 9},   {4, 9, 5},  {2, 4, 11}, {6, 2, 10}, {8, 6, 7},   {9, 8, 1}};
    for (int level = 0; level < subdivisions; ++level) {
        std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> mid;
        auto midpoint = [&](std::uint32_t a, std::uint32_t b) {
            const auto key = std::minmax(a, b);
            auto it = mid.find(key);
            if (it != mid.end()) return it->second;
            v.push_back((v[a] + v[b]).normalized());
            const auto id = static_cast<std::uint32_t>(v.size() - 1);
            mid.emplace(key, id);
            return id;
        };
        std::vector<std::array<std::uint32_t, 3>> nf;
        nf.reserve(f.size() * 4);
        for (const auto& tri : f) {
            const auto ab = midpoint(tri[0], tri[1]), bc = midpoint(tri[1], tri[2]),
                       ca = midpoint(tri[2], tri[0]);
            nf.push_back({tri[0], ab, ca});
            nf.push_back({tri[1], bc, ab});
            nf.push_back({tri[2], ca, bc});
            nf.push_back({ab, bc, ca});
        }
        f.swap(nf);
    }
    Rng rng(seed);
    const auto base = static_cast<std::uint32_t>(vertices.size());
    for (const auto& p : v) {
        const float scale = 1.0f + jitter * static_cast<float>(rng.uniform(-1.0, 1.0));
        vertices.push_back(centre + p.cwiseProduct(radii) * scale);
    }
    for (const auto& tri : f) {
        triangles.push_back({base + tri[0], base + tri[1], base + tri[2]});
        labels.push_back(label);
        materials.push_back(material);
    }
}

void TriangleMesh::addGableRoof(const Eigen::Vector3f& centre, float hx, float hy, float z1,
                                float ridge, float yaw, std::uint32_t label, Material material) {
    const float c = std::cos(yaw), s = std::sin(yaw);
    auto at = [&](float x, float y, float z) {
        return Eigen::Vector3f(centre.x() + c * x - s * y, centre.y() + s * x + c * y, z);
    };
    const float zr = z1 + ridge;
    // Two roof slopes and two gable triangles, with a small overhang.
    const float ox = hx + 0.3f, oy = hy + 0.4f;
    addQuad(at(-ox, -oy, z1), at(ox, -oy, z1), at(ox, 0, zr), at(-ox, 0, zr), label, material);
    addQuad(at(ox, oy, z1), at(-ox, oy, z1), at(-ox, 0, zr), at(ox, 0, zr), label, material);
    addTriangle(at(hx, -hy, z1), at(hx, hy, z1), at(hx, 0, zr), label, material);
    addTriangle(at(-hx, hy, z1), at(-hx, -hy, z1), at(-hx, 0, zr), label, material);
}

void TriangleMesh::append(const TriangleMesh& other, const Eigen::Affine3f& transform) {
    const auto base = static_cast<std::uint32_t>(vertices.size());
    vertices.reserve(vertices.size() + other.vertices.size());
    for (const auto& p : other.vertices) vertices.push_back(transform * p);
    for (const auto& tri : other.triangles) {
        triangles.push_back({base + tri[0], base + tri[1], base + tri[2]});
    }
    labels.insert(labels.end(), other.labels.begin(), other.labels.end());
    materials.insert(materials.end(), other.materials.begin(), other.materials.end());
}

void TriangleMesh::append(const TriangleMesh& other) {
    append(other, Eigen::Affine3f::Identity());
}

}  // namespace lidistill::synth
