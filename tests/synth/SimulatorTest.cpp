// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/synth/Classes.h"
#include "core/synth/Simulator.h"
#include "core/synth/World.h"

#include <cmath>
#include <gtest/gtest.h>
#include <map>
#include <set>

namespace lidistill::synth {
namespace {

World smallWorld(std::uint64_t seed, Preset preset = Preset::Urban) {
    WorldConfig c;
    c.seed = seed;
    c.preset = preset;
    c.duration = 1.0;
    return World::generate(c);
}

TEST(LidarConfig, Hdl64GeometryMatchesTheKittiSensor) {
    const auto c = LidarConfig::hdl64();
    ASSERT_EQ(c.beams(), 64u);
    // Real KITTI rings span about +2.5 to -23.7 degrees (per-ring mean elevation).
    EXPECT_NEAR(c.elevationsDeg.front(), 2.5, 1e-9);
    EXPECT_NEAR(c.elevationsDeg.back(), -23.71, 0.01);
    // Non-uniform: the upper block is about 1/3 degree apart, the lower about 1/2.
    EXPECT_NEAR(c.elevationsDeg[0] - c.elevationsDeg[1], 0.33, 0.01);
    EXPECT_NEAR(c.elevationsDeg[40] - c.elevationsDeg[41], 0.496, 0.01);
    for (std::size_t i = 1; i < c.beams(); ++i)
        EXPECT_LT(c.elevationsDeg[i], c.elevationsDeg[i - 1]);
    EXPECT_NEAR(360.0 / c.columns, 0.166, 0.01);
    EXPECT_DOUBLE_EQ(c.rateHz, 10.0);
    const auto n = LidarConfig::byName("HDL32");
    ASSERT_EQ(n.beams(), 32u);
    EXPECT_NEAR(n.elevationsDeg.front(), 10.67, 1e-9);
    EXPECT_NEAR(n.elevationsDeg.back(), -30.67, 1e-6);
    EXPECT_THROW(LidarConfig::byName("vlp16"), InvalidArgument);
    EXPECT_THROW(presetFromName("moon"), InvalidArgument);
}

TEST(World, SameSeedSameWorldDifferentSeedDifferentWorld) {
    const World a = smallWorld(5), b = smallWorld(5), c = smallWorld(6);
    ASSERT_EQ(a.staticMesh().vertices.size(), b.staticMesh().vertices.size());
    EXPECT_TRUE(a.staticMesh().vertices == b.staticMesh().vertices);
    EXPECT_TRUE(a.staticMesh().labels == b.staticMesh().labels);
    EXPECT_FALSE(a.staticMesh().vertices.size() == c.staticMesh().vertices.size() &&
                 a.staticMesh().vertices == c.staticMesh().vertices);
    EXPECT_THROW(World::generate(WorldConfig{1, Preset::Urban, 0.0, 0.0}), InvalidArgument);
}

// The road length comes from speed x duration: a NaN, infinite or absurd speed is refused
// instead of overflowing the chunk count; the bounds themselves still build.
TEST(World, RejectsEgoSpeedsWithoutAFiniteRoad) {
    for (double v : {std::nan(""), HUGE_VAL, 1e300, 100.5}) {
        EXPECT_THROW(World::generate(WorldConfig{1, Preset::Rural, 0.2, v}), InvalidArgument) << v;
    }
    EXPECT_DOUBLE_EQ(World::generate(WorldConfig{1, Preset::Rural, 0.2, 100.0}).egoSpeed(), 100.0);
    const World preset = World::generate(WorldConfig{1, Preset::Rural, 0.2, -HUGE_VAL});
    EXPECT_GT(preset.egoSpeed(), 5.0);
    EXPECT_LT(preset.egoSpeed(), 15.0);
}

TEST(World, EveryPresetHasTheStreetClasses) {
    for (Preset p : {Preset::Urban, Preset::Suburban, Preset::Rural}) {
        const World w = smallWorld(11, p);
        std::set<std::uint16_t> classes;
        for (auto l : w.staticMesh().labels) classes.insert(semanticClass(l));
        for (auto c : {cls::kRoad, cls::kTerrain, cls::kVegetation, cls::kTrunk, cls::kTrafficSign,
                       cls::kLaneMarking}) {
            EXPECT_TRUE(classes.count(c)) << presetName(p) << " lacks class " << c;
        }
        if (p != Preset::Rural) {
            for (auto c : {cls::kSidewalk, cls::kBuilding, cls::kPole, cls::kCar}) {
                EXPECT_TRUE(classes.count(c)) << presetName(p) << " lacks class " << c;
            }
        }
        // Static geometry never carries a moving class; movers always do, with an instance.
        for (auto c : classes) EXPECT_LT(c, 252) << presetName(p);
        for (const auto& m : w.movers()) {
            for (auto l : m.mesh.labels) {
                EXPECT_GE(semanticClass(l), 252);
                EXPECT_GT(instanceId(l), 0);
            }
        }
    }
}

TEST(World, EgoFollowsItsLaneOnTheRoadSurface) {
    const World w = smallWorld(3);
    for (double t : {0.0, 0.5, 1.0}) {
        const Eigen::Matrix4d T = w.egoPose(t);
        // Rotation is proper and the vehicle sits on the road surface.
        const Eigen::Matrix3d rot = T.block<3, 3>(0, 0);
        EXPECT_NEAR(rot.determinant(), 1.0, 1e-9);
        const double s = w.egoArcLength(t);
        const Eigen::Vector2d c = w.road().centre(s);
        const double lateral = (T.block<2, 1>(0, 3) - c).dot(w.road().normal(s));
        EXPECT_LT(lateral, -0.5);  // right-hand traffic: right of the centre line
        EXPECT_GT(lateral, -4.0);
        EXPECT_NEAR(T(2, 3), w.groundHeight(s, lateral), 1e-6);
        // Resting on its wheels: rolled with its lane's cross-fall (right side down, 2.5 %)
        // so that, as on the real KITTI scans, its own lane looks level to the sensor.
        const double roll = std::asin(T(2, 1));
        EXPECT_NEAR(std::tan(roll), 0.025, 0.002);
        const double leftWheel = w.groundHeight(s, lateral + 0.8);
        const double rightWheel = w.groundHeight(s, lateral - 0.8);
        EXPECT_NEAR(std::tan(roll), (leftWheel - rightWheel) / 1.6, 1e-3);
    }
    const double moved =
        (w.egoPose(1.0).block<3, 1>(0, 3) - w.egoPose(0.0).block<3, 1>(0, 3)).norm();
    EXPECT_NEAR(moved, w.egoSpeed(), 0.05 * w.egoSpeed());
}

TEST(LidarSimulator, PointsLieOnTheirBeamsWithinRange) {
    const World w = smallWorld(2);
    LidarSimulator sim(w, LidarConfig::hdl64(), 1);
    const PointCloud scan = sim.scan(3);
    scan.validate();
    ASSERT_TRUE(scan.hasRing() && scan.hasLabels() && scan.hasIntensity());
    EXPECT_GT(scan.size(), 80000u);
    EXPECT_LT(scan.size(), sim.lidar().raysPerScan());
    const auto& el = sim.lidar().elevationsDeg;
    std::map<int, std::size_t> perRing;
    for (std::size_t i = 0; i < scan.size(); ++i) {
        const auto& p = scan.xyz[i];
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        ASSERT_GE(r, sim.lidar().minRange - 0.2);
        ASSERT_LE(r, sim.lidar().maxRange + 0.2);
        const double e = std::atan2(p[2], std::hypot(p[0], p[1])) * 180.0 / 3.141592653589793;
        ASSERT_NEAR(e, el[scan.ring[i]], 0.06) << "point " << i;
        ASSERT_GE(scan.intensity[i], 0.0f);
        ASSERT_LE(scan.intensity[i], 1.0f);
        ++perRing[scan.ring[i]];
    }
    for (const auto& [ring, n] : perRing)
        EXPECT_LE(n, static_cast<std::size_t>(sim.lidar().columns));
    EXPECT_EQ(perRing.size(), 64u);
    EXPECT_THROW(sim.scan(sim.maxFrames()), InvalidArgument);
}

TEST(LidarSimulator, MovingPointsLieOnTheirMoverAtTheScanTime) {
    const World w = smallWorld(4);
    LidarSimulator sim(w, LidarConfig::hdl64(), 9);
    std::map<std::uint16_t, std::size_t> moverOfInstance;
    for (std::size_t i = 0; i < w.movers().size(); ++i) {
        moverOfInstance[instanceId(w.movers()[i].mesh.labels.front())] = i;
    }
    std::size_t checked = 0;
    for (std::size_t frame : {0u, 5u}) {
        const PointCloud scan = sim.scan(frame);
        const Eigen::Matrix4d sensor = sim.sensorPose(frame);
        for (std::size_t i = 0; i < scan.size(); ++i) {
            if (semanticClass(scan.label[i]) < 252) continue;
            const auto it = moverOfInstance.find(instanceId(scan.label[i]));
            ASSERT_NE(it, moverOfInstance.end());
            const Eigen::Matrix4d toMover =
                w.moverPose(it->second, sim.frameTime(frame)).inverse() * sensor;
            const auto& p = scan.xyz[i];
            const Eigen::Vector3d q = (toMover * Eigen::Vector4d(p[0], p[1], p[2], 1)).head<3>();
            // Inside the mover's local bounding box, up to range noise.
            Eigen::Vector3f lo = w.movers()[it->second].mesh.vertices.front(), hi = lo;
            for (const auto& v : w.movers()[it->second].mesh.vertices) {
                lo = lo.cwiseMin(v);
                hi = hi.cwiseMax(v);
            }
            for (int k = 0; k < 3; ++k) {
                ASSERT_GT(q[k], lo[k] - 0.1);
                ASSERT_LT(q[k], hi[k] + 0.1);
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 50u);
}

TEST(LidarSimulator, Hdl32ScansLikeANuscenesSweep) {
    const World w = smallWorld(8);
    LidarSimulator sim(w, LidarConfig::hdl32(), 1);
    EXPECT_NEAR(sim.frameTime(1), 0.05, 1e-12);
    const PointCloud scan = sim.scan(0);
    // nuScenes LIDAR_TOP sweeps hold about 34.7k points.
    EXPECT_GT(scan.size(), 24000u);
    EXPECT_LT(scan.size(), 36000u);
    float maxI = 0;
    for (float v : scan.intensity) maxI = std::max(maxI, v);
    EXPECT_GT(maxI, 100.0f);  // 0..255 scale
    EXPECT_LE(maxI, 255.0f);
}

}  // namespace
}  // namespace lidistill::synth
