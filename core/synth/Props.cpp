// SPDX-License-Identifier: MIT
#include "core/synth/Props.h"

#include <algorithm>
#include <cmath>

namespace lidistill::synth {
namespace {
using V = Eigen::Vector3f;
float f(double x) {
    return static_cast<float>(x);
}
}  // namespace

TriangleMesh makeCar(Rng& rng, std::uint16_t semantic, std::uint16_t instance, bool large,
                     double* lengthOut) {
    TriangleMesh m;
    const std::uint32_t label = makeLabel(semantic, instance);
    // Paint varies a lot between cars: the real KITTI 00 cars' mean remission spreads evenly
    // over 0.03-0.30 (dark cars near 0), and remission is about 0.9 albedo at typical angles.
    const Material paint{f(rng.uniform(0.035, 0.35)), 0.0f};
    const Material glass{0.08f, 0.55f};
    const Material tyre{0.06f, 0.0f};
    const float length = large ? f(rng.uniform(5.2, 7.5)) : f(rng.uniform(3.8, 4.9));
    const float width = large ? f(rng.uniform(1.95, 2.3)) : f(rng.uniform(1.7, 1.9));
    const float bodyH = large ? f(rng.uniform(1.9, 2.6)) : f(rng.uniform(0.75, 0.9));
    const float clearance = 0.3f;
    m.addBox(V(0, 0, clearance + bodyH / 2), V(length / 2, width / 2, bodyH / 2), 0, label, paint);
    if (!large) {
        // Cabin: a frustum with sloped windscreen and rear window.
        const float cabH = f(rng.uniform(0.45, 0.6));
        const float z0 = clearance + bodyH, z1 = z0 + cabH;
        const float rx0 = -length * 0.32f, fx0 = length * 0.18f;
        const float rx1 = -length * 0.22f, fx1 = length * 0.02f;
        const float w0 = width / 2 - 0.05f, w1 = width / 2 - 0.2f;
        const V a(rx0, -w0, z0), b(fx0, -w0, z0), c(fx0, w0, z0), d(rx0, w0, z0);
        const V e(rx1, -w1, z1), g(fx1, -w1, z1), h(fx1, w1, z1), k(rx1, w1, z1);
        m.addQuad(e, g, h, k, label, paint);  // roof
        m.addQuad(b, c, h, g, label, glass);  // windscreen
        m.addQuad(d, a, e, k, label, glass);  // rear window
        m.addQuad(a, b, g, e, label, glass);  // right side windows
        m.addQuad(c, d, k, h, label, glass);  // left side windows
    }
    const float wr = large ? 0.45f : 0.33f;
    for (int sx : {-1, 1}) {
        for (int sy : {-1, 1}) {
            m.addBox(V(sx * (length / 2 - 0.8f), sy * (width / 2 - 0.12f), wr), V(wr, 0.12f, wr), 0,
                     label, tyre);
        }
    }
    if (lengthOut) *lengthOut = length;
    return m;
}

TriangleMesh makePerson(Rng& rng, std::uint16_t semantic, std::uint16_t instance) {
    TriangleMesh m;
    const std::uint32_t label = makeLabel(semantic, instance);
    const Material cloth{f(rng.uniform(0.15, 0.45)), 0.0f};
    const float h = f(rng.uniform(1.55, 1.95));
    const float legH = 0.47f * h, torsoH = 0.33f * h, headR = 0.065f * h;
    const float stride = f(rng.uniform(-0.15, 0.15));
    m.addBox(V(stride, -0.1f, legH / 2), V(0.07f, 0.07f, legH / 2), 0, label, cloth);
    m.addBox(V(-stride, 0.1f, legH / 2), V(0.07f, 0.07f, legH / 2), 0, label, cloth);
    m.addBox(V(0, 0, legH + torsoH / 2), V(0.12f, 0.2f, torsoH / 2), 0, label, cloth);
    m.addBox(V(-stride * 0.5f, -0.26f, legH + torsoH * 0.55f), V(0.05f, 0.05f, torsoH * 0.45f), 0,
             label, cloth);
    m.addBox(V(stride * 0.5f, 0.26f, legH + torsoH * 0.55f), V(0.05f, 0.05f, torsoH * 0.45f), 0,
             label, cloth);
    m.addEllipsoid(V(0, 0, legH + torsoH + headR * 1.1f), V(headR, headR * 0.9f, headR * 1.15f), 1,
                   0.0f, 1, label, Material{0.35f, 0.0f});
    return m;
}

void addTree(TriangleMesh& mesh, const Eigen::Vector3f& base, Rng& rng, float scale) {
    const std::uint32_t trunk = makeLabel(cls::kTrunk);
    const std::uint32_t leaves = makeLabel(cls::kVegetation);
    const float trunkH = scale * f(rng.uniform(2.0, 3.5));
    const float r = scale * f(rng.uniform(0.12, 0.25));
    mesh.addCylinder(base - V(0, 0, 0.3f), r, trunkH + 1.0f, 8, trunk,
                     defaultMaterial(cls::kTrunk));
    const int lobes = rng.integer(1, 3);
    const float crownR = scale * f(rng.uniform(1.6, 3.0));
    for (int i = 0; i < lobes; ++i) {
        const V off(f(rng.uniform(-0.6, 0.6)) * crownR * 0.5f,
                    f(rng.uniform(-0.6, 0.6)) * crownR * 0.5f,
                    trunkH + crownR * f(rng.uniform(0.7, 1.1)));
        const V radii(crownR * f(rng.uniform(0.75, 1.05)), crownR * f(rng.uniform(0.75, 1.05)),
                      crownR * f(rng.uniform(0.8, 1.3)));
        // Foliage lets some rays through to the trunk and to what stands behind it.
        mesh.addEllipsoid(base + off, radii, 2, 0.22f, rng.next(), leaves,
                          Material{f(rng.uniform(0.42, 0.6)), 0.25f});
    }
}

void addBush(TriangleMesh& mesh, const Eigen::Vector3f& base, Rng& rng, float size) {
    const V radii(size * f(rng.uniform(0.8, 1.3)), size * f(rng.uniform(0.8, 1.3)),
                  size * f(rng.uniform(0.5, 0.8)));
    mesh.addEllipsoid(base + V(0, 0, radii.z() * 0.6f), radii, 1, 0.2f, rng.next(),
                      makeLabel(cls::kVegetation), Material{f(rng.uniform(0.35, 0.5)), 0.1f});
}

void addStreetLight(TriangleMesh& mesh, const Eigen::Vector3f& base, float armYaw, Rng& rng) {
    const std::uint32_t label = makeLabel(cls::kPole);
    const Material mat = defaultMaterial(cls::kPole);
    const float h = f(rng.uniform(6.0, 9.0));
    mesh.addCylinder(base - V(0, 0, 0.3f), 0.09f, h + 0.3f, 8, label, mat);
    const float arm = f(rng.uniform(1.0, 2.2));
    const V dir(std::cos(armYaw), std::sin(armYaw), 0);
    mesh.addBox(base + V(0, 0, h) + dir * (arm / 2), V(arm / 2, 0.05f, 0.05f), armYaw, label, mat);
    mesh.addBox(base + V(0, 0, h - 0.12f) + dir * arm, V(0.3f, 0.15f, 0.08f), armYaw, label, mat);
}

void addTrafficSign(TriangleMesh& mesh, const Eigen::Vector3f& base, float faceYaw, Rng& rng) {
    const float h = f(rng.uniform(2.0, 2.6));
    mesh.addCylinder(base - V(0, 0, 0.3f), 0.04f, h + 0.3f, 6, makeLabel(cls::kPole),
                     defaultMaterial(cls::kPole));
    const float size = f(rng.uniform(0.55, 0.8));
    const V off(0.06f * std::cos(faceYaw), 0.06f * std::sin(faceYaw), 0);
    // Plate normal along faceYaw: a thin box whose local x is the facing direction.
    mesh.addBox(base + off + V(0, 0, h + size / 2), V(0.02f, size / 2, size / 2), faceYaw,
                makeLabel(cls::kTrafficSign), defaultMaterial(cls::kTrafficSign));
}

void addFence(TriangleMesh& mesh, const Eigen::Vector3f& a, const Eigen::Vector3f& b, float height,
              Rng& rng) {
    const std::uint32_t label = makeLabel(cls::kFence);
    const Material mat{f(rng.uniform(0.2, 0.4)), 0.0f};
    const V dir = b - a;
    const float len = dir.head<2>().norm();
    if (len < 0.5f) return;
    const float yaw = std::atan2(dir.y(), dir.x());
    const int posts = std::max(1, static_cast<int>(len / 2.5f));
    for (int i = 0; i <= posts; ++i) {
        const V p = a + dir * (static_cast<float>(i) / static_cast<float>(posts));
        mesh.addBox(p + V(0, 0, height / 2 - 0.2f), V(0.05f, 0.05f, height / 2 + 0.2f), yaw, label,
                    mat);
    }
    // Panel as a thin box slightly lower than the posts; slats let some rays pass.
    const V mid = (a + b) * 0.5f;
    mesh.addBox(mid + V(0, 0, height * 0.5f - 0.25f), V(len / 2, 0.02f, height * 0.5f), yaw, label,
                Material{mat.albedo, 0.3f});
}

void addBuilding(TriangleMesh& mesh, const BuildingSpec& spec, Rng& rng) {
    const std::uint32_t label = makeLabel(cls::kBuilding, 0);
    const Material wall{f(rng.uniform(0.28, 0.5)), 0.0f};
    const Material glazing{0.12f, 0.45f};
    const float w = spec.width, dpt = spec.depth, top = spec.height, z0 = spec.base;
    const float hw = w / 2;
    // Main volume, built face by face so the street facade can carry glazing.
    const V a(-hw, 0, z0), b(hw, 0, z0), c(hw, dpt, z0), d(-hw, dpt, z0);
    const V at(-hw, 0, top), bt(hw, 0, top), ct(hw, dpt, top), dt(-hw, dpt, top);
    mesh.addQuad(b, c, ct, bt, label, wall);
    mesh.addQuad(c, d, dt, ct, label, wall);
    mesh.addQuad(d, a, at, dt, label, wall);
    if (!spec.gable) mesh.addQuad(at, bt, ct, dt, label, wall);
    if (!spec.facadeDetail) {
        mesh.addQuad(a, b, bt, at, label, wall);
    } else {
        // Front wall recessed glazing between pilasters and floor bands standing 0.25 m proud.
        const float groundZ = z0 + 1.0f;  // foundation is about 1 m below the ground
        mesh.addQuad(a, b, V(hw, 0, groundZ + 0.8f), V(-hw, 0, groundZ + 0.8f), label, wall);
        mesh.addQuad(V(-hw, 0, groundZ + 0.8f), V(hw, 0, groundZ + 0.8f), bt, at, label, glazing);
        const float floorH = f(rng.uniform(2.9, 3.4));
        const float bay = f(rng.uniform(2.4, 3.6));
        const int bays = std::max(1, static_cast<int>(w / bay));
        const float proud = 0.25f;
        for (int i = 0; i <= bays; ++i) {
            const float x =
                -hw + 0.3f + (w - 0.6f) * static_cast<float>(i) / static_cast<float>(bays);
            mesh.addBox(V(x, -proud / 2, (groundZ + top) / 2),
                        V(0.3f, proud / 2, (top - groundZ) / 2), 0, label, wall);
        }
        const bool balconies = rng.chance(0.35);
        for (float z = groundZ + floorH; z < top - 1.0f; z += floorH) {
            mesh.addBox(V(0, -proud / 2, z), V(hw, proud / 2, 0.35f), 0, label, wall);
            if (balconies) {
                for (int i = 0; i < bays; i += 2) {
                    const float x =
                        -hw + (w) * (static_cast<float>(i) + 0.5f) / static_cast<float>(bays);
                    mesh.addBox(V(x, -0.7f, z + 0.55f), V(bay * 0.35f, 0.6f, 0.5f), 0, label, wall);
                }
            }
        }
        mesh.addBox(V(0, -0.2f, top - 0.25f), V(hw + 0.2f, 0.45f, 0.3f), 0, label,
                    wall);  // cornice
    }
    if (spec.gable) {
        mesh.addQuad(a, b, bt, at, label, wall);
        mesh.addGableRoof(V(0, dpt / 2, 0), hw, dpt / 2, top, f(rng.uniform(2.0, 4.0)), 0.0f, label,
                          Material{f(rng.uniform(0.15, 0.35)), 0.0f});
    } else if (rng.chance(0.5)) {
        // Rooftop structure (stairwell, plant room), visible from a distance.
        mesh.addBox(V(f(rng.uniform(-hw / 2, hw / 2)), dpt * 0.6f, top + 1.2f),
                    V(f(rng.uniform(1.5, 3.0)), f(rng.uniform(1.5, 3.0)), 1.2f), 0, label, wall);
    }
}

}  // namespace lidistill::synth
