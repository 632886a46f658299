#pragma once
// SPDX-License-Identifier: MIT

#include "core/synth/Classes.h"

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <array>
#include <cstdint>
#include <vector>

namespace lidistill::synth {

/// A triangle soup whose every triangle carries a SemanticKITTI raw label
/// (semantic | instance << 16) and a material. The unit of geometry handed to the ray caster.
///
/// Builders append closed or open primitives in the mesh's own frame (metres, z up).
/// Plain value type; not thread-safe for concurrent mutation.
struct TriangleMesh {
    std::vector<Eigen::Vector3f> vertices;
    std::vector<std::array<std::uint32_t, 3>> triangles;
    std::vector<std::uint32_t> labels;  ///< one per triangle
    std::vector<Material> materials;    ///< one per triangle

    std::size_t triangleCount() const noexcept { return triangles.size(); }

    /// Appends one triangle (counter-clockwise seen from the outside).
    void addTriangle(const Eigen::Vector3f& a, const Eigen::Vector3f& b, const Eigen::Vector3f& c,
                     std::uint32_t label, Material material);
    /// Appends a quad a-b-c-d (two triangles).
    void addQuad(const Eigen::Vector3f& a, const Eigen::Vector3f& b, const Eigen::Vector3f& c,
                 const Eigen::Vector3f& d, std::uint32_t label, Material material);
    /// Appends a box with centre `centre`, half extents `half` (local x, y, z), rotated by
    /// `yaw` radians about z.
    void addBox(const Eigen::Vector3f& centre, const Eigen::Vector3f& half, float yaw,
                std::uint32_t label, Material material);
    /// Appends a vertical cylinder (n sides, closed top) from `base` up `height` metres.
    void addCylinder(const Eigen::Vector3f& base, float radius, float height, int sides,
                     std::uint32_t label, Material material);
    /// Appends an ellipsoid (subdivided icosahedron, `subdivisions` 0..3) with radii `radii`;
    /// `jitter` (0..0.5) displaces vertices radially by up to that fraction, seeded by `seed`,
    /// so tree crowns look irregular.
    void addEllipsoid(const Eigen::Vector3f& centre, const Eigen::Vector3f& radii, int subdivisions,
                      float jitter, std::uint64_t seed, std::uint32_t label, Material material);
    /// Appends a gable-roofed prism: a box footprint (half extents hx, hy) from z0 to z1 with
    /// a ridge along local x rising `ridge` metres above z1, rotated by `yaw` about z.
    void addGableRoof(const Eigen::Vector3f& centre, float hx, float hy, float z1, float ridge,
                      float yaw, std::uint32_t label, Material material);
    /// Appends another mesh, moved by `transform`.
    void append(const TriangleMesh& other, const Eigen::Affine3f& transform);
    /// Appends another mesh unchanged.
    void append(const TriangleMesh& other);
};

/// Raw SemanticKITTI label from class and instance.
inline std::uint32_t makeLabel(std::uint16_t semantic, std::uint16_t instance = 0) noexcept {
    return static_cast<std::uint32_t>(semantic) | (static_cast<std::uint32_t>(instance) << 16);
}

}  // namespace lidistill::synth
