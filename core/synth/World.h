#pragma once
// SPDX-License-Identifier: MIT

#include "core/synth/Mesh.h"
#include "core/synth/Road.h"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lidistill::synth {

/// Kinds of street scene. Each sets road layout, building style and object densities.
enum class Preset {
    Urban,     ///< closed blocks of 3-8 storey buildings, parking lanes, street trees
    Suburban,  ///< detached houses with gable roofs, gardens, fences, hedges
    Rural,     ///< a country road with sparse farm buildings, verges and woods
};

/// "urban", "suburban", "rural" (case-insensitive). @throws InvalidArgument otherwise.
Preset presetFromName(std::string_view name);
const char* presetName(Preset preset);

/// What to generate. The same config always gives the same world, bit for bit.
struct WorldConfig {
    std::uint64_t seed = 0;
    Preset preset = Preset::Urban;
    /// Seconds the ego vehicle drives; the road is laid out long enough for it. The world
    /// does not otherwise depend on it: a longer duration adds road ahead and leaves
    /// everything within reach of the earlier drive as it was.
    double duration = 10.0;
    /// Ego speed in m/s, at most 100; <= 0 picks the preset's typical speed (about 7-11 m/s).
    double egoSpeed = 0.0;
};

/// Something that moves: a mesh in its own frame (x forward, z up, origin on the ground
/// under its centre) travelling along the road at constant speed. Its pose at any time is
/// known exactly (World::moverPose), which is what makes the ground truth exact.
struct Mover {
    TriangleMesh mesh;    ///< labels carry the moving class (>= 252) and the instance id
    double s0 = 0;        ///< arc length at t = 0
    double speed = 0;     ///< m/s along the road; negative drives against s
    double d = 0;         ///< lateral offset from the centre line (left positive)
    double radius = 3.0;  ///< bounding radius, for culling
    /// Vehicles rest on their wheels (pitch and roll with the surface under them);
    /// pedestrians stay upright.
    bool vehicle = true;
};

/// A generated street scene: static geometry, movers, and the ego vehicle's route.
/// Immutable after generate(); thread-safe to query.
class World {
public:
    /// Builds a world. @throws InvalidArgument for a duration outside (0, 3600] s or an ego
    /// speed that is NaN or above 100 m/s.
    static World generate(const WorldConfig& config);

    const WorldConfig& config() const noexcept { return m_config; }
    const Road& road() const noexcept { return *m_road; }
    const TriangleMesh& staticMesh() const noexcept { return m_static; }
    const std::vector<Mover>& movers() const noexcept { return m_movers; }

    /// World pose (4x4, x forward, y left, z up) of mover i at time t (seconds).
    Eigen::Matrix4d moverPose(std::size_t i, double t) const;
    /// World pose of the ego vehicle's reference point on the road surface at time t:
    /// it follows its lane, pitched and rolled like a car resting on its four wheels (the
    /// lane's cross-fall tilts it towards the curb, as on the real KITTI drives).
    Eigen::Matrix4d egoPose(double t) const;
    /// Arc length along the road of the ego vehicle at time t.
    double egoArcLength(double t) const noexcept { return m_egoS0 + m_egoSpeed * t; }
    /// Ego speed actually used (m/s).
    double egoSpeed() const noexcept { return m_egoSpeed; }
    /// Ground height under road coordinates (s, d): road crown, raised sidewalk, terrain.
    double groundHeight(double s, double d) const;
    /// Pose of a vehicle whose centre rests on the ground at (s, d), heading along the road
    /// (against it if `reversed`): pitch and roll follow the ground under its four wheels
    /// (`halfTrack`, `halfBase` metres from the centre); z is the ground under the centre.
    Eigen::Matrix4d vehiclePose(double s, double d, bool reversed, double halfTrack = 0.8,
                                double halfBase = 1.35) const;

private:
    friend struct WorldBuilder;
    WorldConfig m_config;
    std::shared_ptr<const Road> m_road;
    TriangleMesh m_static;
    std::vector<Mover> m_movers;
    double m_egoSpeed = 0;
    double m_egoS0 = 0;
    double m_egoD = 0;
    // Cross-section (metres from the centre line) shared with the builder.
    double m_laneEdge = 0;  // outer edge of the driving lanes
    double m_curb = 0;      // curb line
    double m_sideEdge = 0;  // outer edge of the sidewalk
    double m_curbHeight = 0;
    double m_crossFall = 0;  // road crown: fall per metre from the centre line to the curbs
    double m_terrainAmplitude = 0;
    std::vector<std::pair<double, double>> m_crossings;  // s intervals of cross streets
    bool inCrossing(double s) const;
    double terrainOffset(double s, double d) const;
};

}  // namespace lidistill::synth
