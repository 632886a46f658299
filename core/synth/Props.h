#pragma once
// SPDX-License-Identifier: MIT
// Parametric street objects, each built in its own frame (x forward, z up, origin on the
// ground under its centre) and randomised by the caller's generator.

#include "core/synth/Mesh.h"
#include "core/synth/Random.h"

namespace lidistill::synth {

/// A car (or, with `large`, a van or small truck): body, cabin with sloped screens, wheels.
/// @param semantic class for every triangle (10 parked, 252 moving, 18/20 for large ones).
/// @return the mesh; `length` receives its length in metres.
TriangleMesh makeCar(Rng& rng, std::uint16_t semantic, std::uint16_t instance, bool large,
                     double* length = nullptr);

/// A pedestrian about 1.55-1.95 m tall: legs, torso, arms, head.
TriangleMesh makePerson(Rng& rng, std::uint16_t semantic, std::uint16_t instance);

/// A tree at `base` (world): trunk (71) and an irregular crown of 1-3 lobes (70).
void addTree(TriangleMesh& mesh, const Eigen::Vector3f& base, Rng& rng, float scale);

/// A bush or hedge segment (70) centred on `base`.
void addBush(TriangleMesh& mesh, const Eigen::Vector3f& base, Rng& rng, float size);

/// A street light (80): mast and an arm reaching over the road towards `armYaw`.
void addStreetLight(TriangleMesh& mesh, const Eigen::Vector3f& base, float armYaw, Rng& rng);

/// A traffic sign: pole (80) and plate (81) facing `faceYaw`.
void addTrafficSign(TriangleMesh& mesh, const Eigen::Vector3f& base, float faceYaw, Rng& rng);

/// A fence (51) from a to b (world, on the ground): posts and panels, `height` metres.
void addFence(TriangleMesh& mesh, const Eigen::Vector3f& a, const Eigen::Vector3f& b, float height,
              Rng& rng);

/// Parameters of one building, in its own frame: front facade at local y = 0 facing -y,
/// footprint x in [-width/2, width/2], y in [0, depth].
struct BuildingSpec {
    float width = 12, depth = 12, height = 12;
    float base = -1;  ///< z of the foundation (below the lowest ground point)
    bool gable = false;
    bool facadeDetail = true;  ///< pilasters, floor bands, balconies, recessed glazing
    std::uint16_t instance = 0;
};
/// Appends a building (50) to `mesh` in the building's own frame.
void addBuilding(TriangleMesh& mesh, const BuildingSpec& spec, Rng& rng);

}  // namespace lidistill::synth
