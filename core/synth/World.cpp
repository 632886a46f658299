// SPDX-License-Identifier: MIT
#include "core/synth/World.h"

#include "core/base/Error.h"
#include "core/base/Strings.h"
#include "core/synth/Props.h"
#include "core/synth/Random.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>

namespace lidistill::synth {

Preset presetFromName(std::string_view name) {
    const std::string n = toLower(name);
    if (n == "urban") return Preset::Urban;
    if (n == "suburban") return Preset::Suburban;
    if (n == "rural") return Preset::Rural;
    throw InvalidArgument("unknown world preset '" + std::string(name) +
                          "' (expected urban, suburban or rural)");
}

const char* presetName(Preset preset) {
    switch (preset) {
        case Preset::Urban:
            return "urban";
        case Preset::Suburban:
            return "suburban";
        case Preset::Rural:
            return "rural";
    }
    return "?";
}

namespace {
using V = Eigen::Vector3f;
float f(double x) {
    return static_cast<float>(x);
}
constexpr double kPi = 3.141592653589793;

/// Everything a preset decides.
struct Params {
    int lanesPerSide;
    double laneWidth, parkWidth, sidewalkWidth, curbHeight;
    std::uint16_t parkClass;
    double minRadius, maxRadius, gradeAmplitude, terrainAmplitude;
    double speed;
    double crossingEvery;  // mean metres between cross streets (0: none)
    double buildingChance, frontageMin, frontageMax, gapMin, gapMax;
    double setbackMin, setbackMax, depthMin, depthMax, heightMin, heightMax;
    double gableChance;
    double streetTreeEvery, lightEvery;
    double parkedChance, movingPer100m, pedestriansPer100m;
    double gardenTrees, fenceChance, hedgeChance, woodsChance;
    double reach;  // how far from the centre line the world extends
    // Road crown (fall per metre towards the curbs). German guidelines (RASt 06) ask for
    // 2.5 %; the real KITTI 00 scans show 4.5 % between the car's lane and the far lane,
    // i.e. about 2.25 % a side, with the car rolled along with its own lane.
    double crossFall;
    // Extra distance the ego keeps from a parked-car lane (door zone): on the real scans the
    // parked cars' sides are 2.3 m right and 5.0 m left of the sensor.
    double shyDistance;
};

Params paramsFor(Preset p) {
    switch (p) {
        case Preset::Urban:
            return {1,   3.75, 2.3, 4.5, 0.14, cls::kParking, 150, 450, 2.0, 0.3, 8.0,   110,
                    0.9, 14,   34,  0.0, 1.0,  0.5,           5.0, 10,  18,  9,   22,    0.1,
                    9,   30,   0.3, 1.2, 3.0,  1.0,           0.2, 0.5, 0.0, 48,  0.025, 0.4};
        case Preset::Suburban:
            return {1,    3.4, 2.1,  2.4, 0.12, cls::kRoad, 150,  400,  2.5,  0.5, 8.5,   160,
                    0.75, 16,  28,   4,   10,   4.0,        9.0,  8,    12,   5.5, 8.0,   0.7,
                    0,    32,  0.35, 0.7, 0.8,  1.6,        0.45, 0.35, 0.05, 60,  0.025, 0.3};
        case Preset::Rural:
            return {1,    3.25, 0.0, 0.0, 0.0, cls::kRoad, 200, 600,  3.0, 0.8, 11.0,  0,
                    0.12, 30,   60,  10,  30,  8,          20,  10,   18,  4.5, 8,     0.6,
                    0,    50,   0.0, 0.6, 0.0, 0.0,        0.1, 0.05, 0.5, 70,  0.025, 0.0};
    }
    return paramsFor(Preset::Urban);
}
}  // namespace

/// Lays out one world; a struct so it can reach World's private members.
struct WorldBuilder {
    World& w;
    Params p;
    std::uint64_t seed;
    Rng rng;
    std::uint16_t nextInstance = 1;
    static constexpr double kChunk = 120.0;  // metres of road a chunk

    WorldBuilder(World& world, const Params& params, std::uint64_t worldSeed)
        : w(world), p(params), seed(worldSeed), rng(worldSeed) {}

    const Road& road() const { return *w.m_road; }

    V at(double s, double d, double dz = 0) const {
        const Eigen::Vector2d xy = road().point(s, d);
        return V(f(xy.x()), f(xy.y()), f(w.groundHeight(s, d) + dz));
    }
    float yawAt(double s) const { return f(road().heading(s)); }

    /// Streams of random numbers are keyed by (purpose, side, chunk): the content of a
    /// chunk of road never depends on how long the road is, so a longer drive of the same
    /// seed sees the same world (frame k of `--frames 5` equals frame k of `--frames 50`).
    void reseed(std::uint64_t purpose, double side, std::int64_t chunk) {
        rng = Rng(hashKeys(seed, purpose, side < 0 ? 1 : 2, static_cast<std::uint64_t>(chunk)));
    }
    static double chunkStart(std::int64_t k) { return static_cast<double>(k) * kChunk; }
    /// Static instance ids count up in chunk order (stable for a prefix of the road).
    std::uint16_t staticInstance() {
        const std::uint16_t id = nextInstance;
        nextInstance = static_cast<std::uint16_t>(nextInstance % 0x7FFF + 1);
        return id;
    }
    /// Movers' ids: 0x8000 | (chunk zigzag, stream, index), so they do not depend on which
    /// chunks exist (ids repeat only after about 256 chunks either way, 30 km).
    static std::uint16_t moverInstance(std::int64_t chunk, int stream, int index) {
        const std::uint64_t zig = chunk >= 0 ? 2 * static_cast<std::uint64_t>(chunk)
                                             : 2 * static_cast<std::uint64_t>(-chunk) - 1;
        return static_cast<std::uint16_t>(0x8000 |
                                          ((zig * 64 + static_cast<std::uint64_t>(stream) * 16 +
                                            static_cast<std::uint64_t>(index)) &
                                           0x7FFF));
    }

    // At most one cross street a chunk, wholly inside it.
    void crossings(std::int64_t k) {
        if (p.crossingEvery <= 0) return;
        reseed(0xC805, 1, k);
        if (!rng.chance(std::min(1.0, kChunk / p.crossingEvery))) return;
        const double width = rng.uniform(7, 11);
        const double a = std::floor(chunkStart(k) + rng.uniform(8, kChunk - 8 - width));
        w.m_crossings.emplace_back(a, std::ceil(a + width));
    }

    // Ground quad between (s0,d0) and (s1,d1), heights from the ground model.
    void groundQuad(double s0, double s1, double d0, double d1, std::uint16_t c) {
        w.m_static.addQuad(at(s0, d0), at(s1, d0), at(s1, d1), at(s0, d1), makeLabel(c),
                           defaultMaterial(c));
    }

    void ground() {
        const double L = road().length();
        const double ds = 1.0;
        std::vector<double> terrainD;
        for (double x : {0.0, 1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 22.0, 30.0, 40.0, 52.0, 66.0, 82.0}) {
            if (w.m_sideEdge + x < p.reach + 1e-9) terrainD.push_back(w.m_sideEdge + x);
        }
        terrainD.push_back(p.reach);
        for (double s0 = 0; s0 < L; s0 += ds) {
            const double s1 = s0 + ds;
            const bool crossing = w.inCrossing(s0 + 0.5 * ds);
            // Driving lanes (crown sampled at the lane lines) and parking strips.
            for (double sg : {-1.0, 1.0}) {
                for (int j = 0; j < p.lanesPerSide; ++j) {
                    groundQuad(s0, s1, sg * j * p.laneWidth, sg * (j + 1) * p.laneWidth,
                               cls::kRoad);
                }
                if (p.parkWidth > 0) {
                    groundQuad(s0, s1, sg * w.m_laneEdge, sg * w.m_curb,
                               crossing ? cls::kRoad : p.parkClass);
                }
                if (p.sidewalkWidth > 0) {
                    groundQuad(s0, s1, sg * (w.m_curb + 1e-4), sg * w.m_sideEdge,
                               crossing ? cls::kRoad : cls::kSidewalk);
                    if (!crossing) {
                        // Curb face: from road level up to the sidewalk.
                        const double dc = sg * w.m_curb;
                        const V a0 = at(s0, dc * (1 - 1e-6)), a1 = at(s1, dc * (1 - 1e-6));
                        w.m_static.addQuad(a0, a1, a1 + V(0, 0, f(p.curbHeight)),
                                           a0 + V(0, 0, f(p.curbHeight)), makeLabel(cls::kSidewalk),
                                           defaultMaterial(cls::kSidewalk));
                    }
                }
                for (std::size_t k = 0; k + 1 < terrainD.size(); ++k) {
                    groundQuad(s0, s1, sg * terrainD[k], sg * terrainD[k + 1],
                               crossing ? cls::kRoad : cls::kTerrain);
                }
            }
            if (!crossing) markings(s0, s1);
        }
    }

    void markingQuad(double s0, double s1, double d) {
        const double hw = 0.075;
        w.m_static.addQuad(at(s0, d - hw, 0.008), at(s1, d - hw, 0.008), at(s1, d + hw, 0.008),
                           at(s0, d + hw, 0.008), makeLabel(cls::kLaneMarking),
                           defaultMaterial(cls::kLaneMarking));
    }

    void markings(double s0, double s1) {
        const bool dashOn = std::fmod(s0, 9.0) < 3.0;
        if (p.lanesPerSide == 1) {
            if (dashOn || p.parkWidth == 0) markingQuad(s0, s1, 0.0);
        } else {
            markingQuad(s0, s1, -0.1);
            markingQuad(s0, s1, 0.1);
            for (int j = 1; j < p.lanesPerSide; ++j) {
                if (dashOn) {
                    markingQuad(s0, s1, j * p.laneWidth);
                    markingQuad(s0, s1, -j * p.laneWidth);
                }
            }
        }
        if (p.parkWidth == 0) {  // edge lines on roads without parking
            markingQuad(s0, s1, w.m_laneEdge - 0.2);
            markingQuad(s0, s1, -w.m_laneEdge + 0.2);
        }
    }

    bool blocked(double a, double b, double margin) const {
        for (const auto& [c0, c1] : w.m_crossings) {
            if (b > c0 - margin && a < c1 + margin) return true;
        }
        return false;
    }

    void building(double sc, double sg, double width) {
        BuildingSpec spec;
        spec.width = f(width);
        spec.depth = f(rng.uniform(p.depthMin, p.depthMax));
        const double setback = rng.uniform(p.setbackMin, p.setbackMax);
        const double front = w.m_sideEdge + setback;
        if (front + spec.depth > p.reach) spec.depth = f(std::max(4.0, p.reach - front));
        double zmin = 1e9, zmax = -1e9;
        for (double ds : {-width / 2, 0.0, width / 2}) {
            for (double dd : {0.0, double(spec.depth)}) {
                const double z = w.groundHeight(sc + ds, sg * (front + dd));
                zmin = std::min(zmin, z);
                zmax = std::max(zmax, z);
            }
        }
        spec.base = f(zmin - 1.0);
        spec.height = f(zmax + rng.uniform(p.heightMin, p.heightMax));
        spec.gable = rng.chance(p.gableChance);
        spec.facadeDetail = !spec.gable || rng.chance(0.5);
        TriangleMesh local;
        addBuilding(local, spec, rng);
        const Eigen::Vector2d o = road().point(sc, sg * front);
        const Eigen::Vector2d out = sg * road().normal(sc);
        const double phi = std::atan2(-out.x(), out.y());
        Eigen::Affine3f tf = Eigen::Affine3f::Identity();
        tf.translate(V(f(o.x()), f(o.y()), 0)).rotate(Eigen::AngleAxisf(f(phi), V::UnitZ()));
        w.m_static.append(local, tf);
        // Suburban front gardens: fence or hedge along the lot line, a tree or two.
        if (setback > 2.5) {
            const double dl = w.m_sideEdge + 0.4;
            const double half = width / 2 + rng.uniform(1.0, 3.0);
            if (rng.chance(p.fenceChance)) {
                addFence(w.m_static, at(sc - half, sg * dl), at(sc + half, sg * dl),
                         f(rng.uniform(0.9, 1.6)), rng);
            } else if (rng.chance(p.hedgeChance)) {
                for (double x = -half; x < half; x += 1.2) {
                    addBush(w.m_static, at(sc + x, sg * (dl + 0.4)), rng, f(rng.uniform(0.6, 0.9)));
                }
            }
            const int trees = static_cast<int>(p.gardenTrees + rng.uniform());
            for (int i = 0; i < trees; ++i) {
                const double x = rng.uniform(-half, half);
                addTree(w.m_static, at(sc + x, sg * (dl + rng.uniform(1.5, setback - 1.0))), rng,
                        f(rng.uniform(0.7, 1.2)));
            }
        }
    }

    void openLot(double sc, double sg, double width) {
        // No building: lawn, bushes or a patch of wood.
        const bool woods = rng.chance(p.woodsChance);
        const int n = woods ? static_cast<int>(width * 0.5) : rng.integer(0, 2);
        for (int i = 0; i < n; ++i) {
            const double x = rng.uniform(-width / 2, width / 2);
            const double dd = w.m_sideEdge + rng.uniform(woods ? 3.0 : 4.0, p.reach - 4.0);
            if (rng.chance(0.7)) {
                addTree(w.m_static, at(sc + x, sg * dd), rng, f(rng.uniform(0.8, 1.4)));
            } else {
                addBush(w.m_static, at(sc + x, sg * dd), rng, f(rng.uniform(0.6, 1.5)));
            }
        }
    }

    void lots(std::int64_t k) {
        const double end = chunkStart(k + 1);
        for (double sg : {-1.0, 1.0}) {
            reseed(0x1075, sg, k);
            double s = chunkStart(k) + rng.uniform(0, 8);
            while (s < end - 3.0) {
                double frontage = rng.uniform(p.frontageMin, p.frontageMax);
                if (s + frontage > end) frontage = end - s;  // lots never cross a chunk's end
                if (blocked(s, s + frontage, 2.0)) {
                    s += 3.0;
                    continue;
                }
                const double gap = rng.uniform(p.gapMin, p.gapMax);
                if (rng.chance(p.buildingChance) && frontage - gap > 6.0) {
                    building(s + frontage / 2, sg, frontage - gap);
                } else {
                    openLot(s + frontage / 2, sg, frontage);
                }
                s += frontage;
            }
        }
    }

    void streetFurniture(std::int64_t k) {
        const double start = chunkStart(k), end = chunkStart(k + 1);
        for (double sg : {-1.0, 1.0}) {
            const double edge = p.sidewalkWidth > 0 ? w.m_curb : w.m_laneEdge + 0.8;
            reseed(0xF42, sg, k);
            // Street lights, arm over the road.
            if (p.lightEvery > 0) {
                for (double s = start + rng.uniform(2, p.lightEvery); s < end;
                     s += p.lightEvery * rng.uniform(0.85, 1.15)) {
                    if (blocked(s, s, 1.0)) continue;
                    const Eigen::Vector2d in = -sg * road().normal(s);
                    addStreetLight(w.m_static, at(s, sg * (edge + 0.4)),
                                   f(std::atan2(in.y(), in.x())), rng);
                }
            }
            if (p.streetTreeEvery > 0) {
                for (double s = start + rng.uniform(3, p.streetTreeEvery); s < end;
                     s += p.streetTreeEvery * rng.uniform(0.7, 1.3)) {
                    if (blocked(s, s, 3.0)) continue;
                    addTree(w.m_static, at(s, sg * (edge + 1.0)), rng, f(rng.uniform(0.8, 1.1)));
                }
            }
            // A sign before each crossing for the traffic on this side, plus a few more.
            for (const auto& [c0, c1] : w.m_crossings) {
                if (c0 < start || c0 >= end) continue;
                const double s = sg < 0 ? c0 - 3.0 : c1 + 3.0;
                addTrafficSign(w.m_static, at(s, sg * (edge + 0.3)),
                               yawAt(s) + (sg < 0 ? f(kPi) : 0.0f), rng);
            }
            for (double s = start + rng.uniform(20, 80); s < end; s += rng.uniform(40, 140)) {
                if (blocked(s, s, 2.0)) continue;
                addTrafficSign(w.m_static, at(s, sg * (edge + 0.3)),
                               yawAt(s) + (sg < 0 ? f(kPi) : 0.0f), rng);
            }
        }
    }

    void parkedCars(std::int64_t k) {
        if (p.parkedChance <= 0 || p.parkWidth <= 0) return;
        const double end = chunkStart(k + 1);
        for (double sg : {-1.0, 1.0}) {
            reseed(0xCA2, sg, k);
            const double d = sg * (w.m_laneEdge + p.parkWidth / 2);
            double s = chunkStart(k) + rng.uniform(0, 5);
            while (s < end) {
                if (!rng.chance(p.parkedChance) || blocked(s, s + 6, 1.0)) {
                    s += rng.uniform(3, 10);
                    continue;
                }
                const bool large = rng.chance(0.05);
                const std::uint16_t c =
                    large ? (rng.chance(0.5) ? cls::kTruck : cls::kOtherVehicle) : cls::kCar;
                double len = 4;
                TriangleMesh car = makeCar(rng, c, staticInstance(), large, &len);
                if (s + len > end) break;  // no car straddles a chunk's end
                const double sc = s + len / 2;
                // Resting on its wheels on the sloping parking lane, slightly askew.
                const Eigen::Matrix4d pose =
                    w.vehiclePose(sc, d + sg * rng.uniform(-0.2, 0.1), sg > 0);
                Eigen::Affine3f tf(pose.cast<float>());
                tf.rotate(Eigen::AngleAxisf(f(rng.normal(0, 0.02)), V::UnitZ()));
                w.m_static.append(car, tf);
                s += len + rng.uniform(0.6, 5.0);
            }
        }
    }

    // Pedestrians on the sidewalks of chunk k: 80 % walking (movers), the rest standing.
    void pedestrians(std::int64_t k) {
        if (p.pedestriansPer100m <= 0 || p.sidewalkWidth <= 0) return;
        for (double sg : {-1.0, 1.0}) {
            reseed(0x9ED, sg, k);
            const double inner = w.m_curb + (p.streetTreeEvery > 0 ? 1.7 : 0.9);
            const double outer = w.m_sideEdge - 0.4;
            const int n = std::min(
                16, static_cast<int>(kChunk / 100.0 * p.pedestriansPer100m + rng.uniform()));
            for (int i = 0; i < n; ++i) {
                const bool walking = rng.chance(0.8);
                const double s0 = chunkStart(k) + rng.uniform(0, kChunk);
                const double d = sg * rng.uniform(inner, std::max(inner, outer));
                if (!walking) {
                    TriangleMesh person = makePerson(rng, cls::kPerson, staticInstance());
                    Eigen::Affine3f tf = Eigen::Affine3f::Identity();
                    tf.translate(at(s0, d)).rotate(
                        Eigen::AngleAxisf(f(rng.uniform(-kPi, kPi)), V::UnitZ()));
                    w.m_static.append(person, tf);
                    continue;
                }
                Mover m;
                m.mesh = makePerson(rng, cls::kMovingPerson, moverInstance(k, sg < 0 ? 2 : 3, i));
                m.s0 = s0;
                m.speed = rng.uniform(0.9, 1.6) * (rng.chance(0.5) ? 1 : -1);
                m.d = d;
                m.radius = 1.0;
                m.vehicle = false;
                w.m_movers.push_back(std::move(m));
            }
        }
    }

    // Traffic whose position at t = 0 falls in chunk k (which may lie before the road's
    // start or past its end). One speed per lane, so cars in a lane never run into each
    // other; cars keep 9 m apart within a chunk and across chunk borders.
    void traffic(std::int64_t k) {
        const double meanGap = 100.0 / std::max(0.05, p.movingPer100m);
        for (double sg : {-1.0, 1.0}) {
            for (int j = 0; j < p.lanesPerSide && j < 2; ++j) {
                const double d = sg * (j + 0.5) * p.laneWidth;
                const bool egoLane = sg < 0 && j == p.lanesPerSide - 1;
                reseed(0x5EED, sg, j);
                const double dir = sg < 0 ? 1.0 : -1.0;
                const double v = egoLane ? w.m_egoSpeed
                                         : dir * (sg < 0 ? w.m_egoSpeed * rng.uniform(0.8, 1.3)
                                                         : rng.uniform(6.0, 13.0));
                reseed(0x7AF + static_cast<std::uint64_t>(j), sg, k);
                int index = 0;
                for (double s0 = chunkStart(k) + 4.5 + rng.uniform(0, meanGap);
                     s0 <= chunkStart(k + 1) - 4.5 && index < 8;
                     s0 += 9.0 + rng.uniform(0, 2 * meanGap)) {
                    const bool large = rng.chance(0.08);
                    Mover m;
                    double len = 4;
                    m.mesh =
                        makeCar(rng, cls::kMovingCar,
                                moverInstance(k, sg < 0 ? 0 : 1, j * 8 + index++), large, &len);
                    if (egoLane && std::abs(s0 - w.m_egoS0) < 15.0) continue;
                    m.s0 = s0;
                    m.speed = v;
                    m.d = d;
                    m.radius = len / 2 + 1.0;
                    w.m_movers.push_back(std::move(m));
                }
            }
        }
    }
};

World World::generate(const WorldConfig& config) {
    if (!(config.duration > 0) || config.duration > 3600) {
        throw InvalidArgument("world: duration must be in (0, 3600] seconds");
    }
    // The road is sized from speed x duration; an infinite or huge speed made its chunk count
    // a float-to-integer overflow (undefined behaviour) and a NaN one fell back silently.
    if (!(config.egoSpeed <= 100.0)) {
        throw InvalidArgument("world: ego speed must be at most 100 m/s (0 picks the preset's)");
    }
    World w;
    w.m_config = config;
    const Params p = paramsFor(config.preset);
    w.m_egoSpeed = config.egoSpeed > 0 ? config.egoSpeed : p.speed;
    // Road behind and ahead of the drive, so the upper beams see a horizon, not the world's
    // end. The world is laid out in chunks of road whose content depends on the seed only:
    // a longer drive adds chunks and leaves the others as they were. 250 m past the last
    // frame keeps anything that differs out of reach of the 120 m beams.
    w.m_egoS0 = 130.0;
    const double needed = w.m_egoS0 + w.m_egoSpeed * config.duration + 250.0;
    const auto chunks = static_cast<std::int64_t>(std::ceil(needed / WorldBuilder::kChunk));
    const double length = static_cast<double>(chunks) * WorldBuilder::kChunk;
    w.m_road = std::make_shared<const Road>(hashKeys(config.seed, 1), length, p.minRadius,
                                            p.maxRadius, p.gradeAmplitude);
    w.m_laneEdge = p.lanesPerSide * p.laneWidth;
    w.m_curb = w.m_laneEdge + p.parkWidth;
    w.m_sideEdge = w.m_curb + p.sidewalkWidth;
    w.m_curbHeight = p.curbHeight;
    w.m_egoD = -(p.lanesPerSide - 0.5) * p.laneWidth + (p.parkWidth > 0 ? p.shyDistance : 0.0);
    w.m_crossFall = p.crossFall;
    w.m_terrainAmplitude = p.terrainAmplitude;

    WorldBuilder b(w, p, hashKeys(config.seed, 2));
    for (std::int64_t k = 0; k < chunks; ++k) b.crossings(k);
    b.ground();
    for (std::int64_t k = 0; k < chunks; ++k) {
        b.lots(k);
        b.streetFurniture(k);
        b.parkedCars(k);
        b.pedestrians(k);
    }
    // Traffic from wherever it can come within reach during the drive (either direction,
    // at most 1.3 times the ego's speed plus 13 m/s).
    const double vmax = 1.3 * w.m_egoSpeed + 13.0;
    const auto k0 = static_cast<std::int64_t>(
        std::floor((-vmax * config.duration - 150.0) / WorldBuilder::kChunk));
    const auto k1 = static_cast<std::int64_t>(
        std::floor((length + vmax * config.duration) / WorldBuilder::kChunk));
    for (std::int64_t k = k0; k <= k1; ++k) b.traffic(k);
    return w;
}

bool World::inCrossing(double s) const {
    for (const auto& [a, b] : m_crossings) {
        if (s >= a && s < b) return true;
    }
    return false;
}

double World::terrainOffset(double s, double d) const {
    const double x = std::abs(d) - m_sideEdge;
    const std::uint64_t side = d < 0 ? 1 : 2;
    const double slope = 0.05 * valueNoise1(hashKeys(m_config.seed, 3, side), s, 120.0);
    const double ramp = std::min(1.0, x / 6.0);
    const double bumps = m_terrainAmplitude *
                         valueNoise2(hashKeys(m_config.seed, 4, side), s, x, 18.0) * ramp * ramp;
    return slope * x + bumps;
}

double World::groundHeight(double s, double d) const {
    const double ad = std::abs(d);
    const double e = m_road->elevation(s);
    if (ad <= m_curb) return e - m_crossFall * ad;  // crown falling towards the curbs
    const double top = e - m_crossFall * m_curb + (inCrossing(s) ? 0.0 : m_curbHeight);
    if (ad <= m_sideEdge) return top;
    return top + terrainOffset(s, d);
}

Eigen::Matrix4d World::vehiclePose(double s, double d, bool reversed, double halfTrack,
                                   double halfBase) const {
    const Eigen::Vector2d xy = m_road->point(s, d);
    const double yaw = m_road->heading(s) + (reversed ? kPi : 0.0);
    // Wheel contacts in road coordinates: the vehicle's front is at +s unless reversed, its
    // left at +d unless reversed.
    const double fs = reversed ? -halfBase : halfBase, ld = reversed ? -halfTrack : halfTrack;
    const double front = 0.5 * (groundHeight(s + fs, d + ld) + groundHeight(s + fs, d - ld));
    const double rear = 0.5 * (groundHeight(s - fs, d + ld) + groundHeight(s - fs, d - ld));
    const double left = 0.5 * (groundHeight(s + fs, d + ld) + groundHeight(s - fs, d + ld));
    const double right = 0.5 * (groundHeight(s + fs, d - ld) + groundHeight(s - fs, d - ld));
    const double pitch = std::atan((front - rear) / (2 * halfBase));  // nose up positive
    const double roll = std::atan((left - right) / (2 * halfTrack));  // left side up positive
    Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
    T.block<3, 3>(0, 0) = (Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()) *
                           Eigen::AngleAxisd(-pitch, Eigen::Vector3d::UnitY()) *
                           Eigen::AngleAxisd(roll, Eigen::Vector3d::UnitX()))
                              .toRotationMatrix();
    T.block<3, 1>(0, 3) = Eigen::Vector3d(xy.x(), xy.y(), groundHeight(s, d));
    return T;
}

Eigen::Matrix4d World::moverPose(std::size_t i, double t) const {
    const Mover& m = m_movers.at(i);
    const double s = m.s0 + m.speed * t;
    if (m.vehicle) return vehiclePose(s, m.d, m.speed < 0);
    // Pedestrians stand upright whatever the ground's slope.
    const Eigen::Vector2d xy = m_road->point(s, m.d);
    Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
    T.block<3, 3>(0, 0) =
        Eigen::AngleAxisd(m_road->heading(s) + (m.speed < 0 ? kPi : 0.0), Eigen::Vector3d::UnitZ())
            .toRotationMatrix();
    T.block<3, 1>(0, 3) = Eigen::Vector3d(xy.x(), xy.y(), groundHeight(s, m.d));
    return T;
}

Eigen::Matrix4d World::egoPose(double t) const {
    return vehiclePose(egoArcLength(t), m_egoD, false);
}

}  // namespace lidistill::synth
