// SPDX-License-Identifier: MIT
#include "core/synth/Simulator.h"

#include "core/base/Error.h"
#include "core/synth/Random.h"

#include <embree3/rtcore.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace lidistill::synth {
namespace {
constexpr double kDeg = 3.141592653589793 / 180.0;

void onEmbreeError(void* userPtr, RTCError code, const char* str) {
    auto* msg = static_cast<std::string*>(userPtr);
    if (msg->empty())
        *msg = "Embree error " + std::to_string(static_cast<int>(code)) + ": " + (str ? str : "");
}

struct Geometry {
    const TriangleMesh* mesh = nullptr;
    std::vector<Eigen::Vector3f> normals;  // unit, one per triangle, mesh frame
    RTCScene scene = nullptr;
};

std::vector<Eigen::Vector3f> triangleNormals(const TriangleMesh& m) {
    std::vector<Eigen::Vector3f> n(m.triangles.size());
    for (std::size_t i = 0; i < n.size(); ++i) {
        const auto& t = m.triangles[i];
        const Eigen::Vector3f c =
            (m.vertices[t[1]] - m.vertices[t[0]]).cross(m.vertices[t[2]] - m.vertices[t[0]]);
        const float len = c.norm();
        n[i] = len > 0 ? Eigen::Vector3f(c / len) : Eigen::Vector3f::UnitZ();
    }
    return n;
}

struct RayResult {
    float x, y, z, intensity;
    std::uint32_t label;
    std::uint8_t valid;
};
}  // namespace

struct LidarSimulator::Impl {
    const World& world;
    LidarConfig lidar;
    std::uint64_t seed;
    mutable std::string embreeError;
    RTCDevice device = nullptr;
    Geometry staticGeom;
    std::vector<Geometry> moverGeoms;
    std::vector<double> sinEl, cosEl, sinAz, cosAz;
    std::vector<std::uint8_t> occluded;  // beams x columns

    Impl(const World& w, LidarConfig l, std::uint64_t s) : world(w), lidar(std::move(l)), seed(s) {}

    void check(const char* what) const {
        if (!embreeError.empty() || (device && rtcGetDeviceError(device) != RTC_ERROR_NONE)) {
            throw Error(std::string("lidar simulator: ") + what +
                        " failed: " + (embreeError.empty() ? "Embree error" : embreeError));
        }
    }

    RTCScene buildScene(const TriangleMesh& mesh, RTCBuildQuality quality) {
        RTCScene scene = rtcNewScene(device);
        rtcSetSceneBuildQuality(scene, quality);
        if (!mesh.triangles.empty()) {
            RTCGeometry g = rtcNewGeometry(device, RTC_GEOMETRY_TYPE_TRIANGLE);
            auto* v = static_cast<float*>(
                rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_VERTEX, 0, RTC_FORMAT_FLOAT3,
                                        3 * sizeof(float), mesh.vertices.size()));
            check("allocating vertices");
            for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
                v[3 * i] = mesh.vertices[i].x();
                v[3 * i + 1] = mesh.vertices[i].y();
                v[3 * i + 2] = mesh.vertices[i].z();
            }
            auto* idx = static_cast<unsigned*>(
                rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_INDEX, 0, RTC_FORMAT_UINT3,
                                        3 * sizeof(unsigned), mesh.triangles.size()));
            check("allocating triangles");
            for (std::size_t i = 0; i < mesh.triangles.size(); ++i) {
                for (int k = 0; k < 3; ++k) idx[3 * i + k] = mesh.triangles[i][k];
            }
            rtcSetGeometryBuildQuality(g, quality);
            rtcCommitGeometry(g);
            rtcAttachGeometry(scene, g);
            rtcReleaseGeometry(g);
        }
        rtcCommitScene(scene);
        check("building a BVH");
        return scene;
    }

    ~Impl() {
        for (auto& g : moverGeoms) {
            if (g.scene) rtcReleaseScene(g.scene);
        }
        if (staticGeom.scene) rtcReleaseScene(staticGeom.scene);
        if (device) rtcReleaseDevice(device);
    }
};

LidarSimulator::LidarSimulator(const World& world, LidarConfig lidar, std::uint64_t seed)
    : m_impl(std::make_unique<Impl>(world, std::move(lidar), seed)) {
    auto& im = *m_impl;
    im.lidar.validate();
    im.device = rtcNewDevice("verbose=0");
    if (!im.device) throw Error("lidar simulator: cannot create an Embree device");
    rtcSetDeviceErrorFunction(im.device, onEmbreeError, &im.embreeError);
    im.staticGeom.mesh = &world.staticMesh();
    im.staticGeom.normals = triangleNormals(world.staticMesh());
    im.staticGeom.scene = im.buildScene(world.staticMesh(), RTC_BUILD_QUALITY_HIGH);
    im.moverGeoms.resize(world.movers().size());
    for (std::size_t i = 0; i < world.movers().size(); ++i) {
        auto& g = im.moverGeoms[i];
        g.mesh = &world.movers()[i].mesh;
        g.normals = triangleNormals(*g.mesh);
        g.scene = im.buildScene(*g.mesh, RTC_BUILD_QUALITY_MEDIUM);
    }
    const auto& L = im.lidar;
    for (double e : L.elevationsDeg) {
        im.sinEl.push_back(std::sin(e * kDeg));
        im.cosEl.push_back(std::cos(e * kDeg));
    }
    im.occluded.assign(L.raysPerScan(), 0);
    for (int c = 0; c < L.columns; ++c) {
        const double az = 2.0 * 3.141592653589793 * c / L.columns;
        im.sinAz.push_back(std::sin(az));
        im.cosAz.push_back(std::cos(az));
        const double azDeg = az / kDeg;
        for (const auto& sec : L.selfOcclusion) {
            double a = azDeg;
            while (a < sec.fromDeg) a += 360.0;
            while (a >= sec.fromDeg + 360.0) a -= 360.0;
            if (a > sec.toDeg) continue;
            for (std::size_t b = static_cast<std::size_t>(std::max(0, sec.firstBeam));
                 b < L.beams(); ++b) {
                im.occluded[b * L.columns + c] = 1;
            }
        }
    }
}

LidarSimulator::~LidarSimulator() = default;

const LidarConfig& LidarSimulator::lidar() const noexcept {
    return m_impl->lidar;
}

double LidarSimulator::frameTime(std::size_t frame) const {
    return static_cast<double>(frame) / m_impl->lidar.rateHz;
}

std::size_t LidarSimulator::maxFrames() const {
    return static_cast<std::size_t>(
        std::floor(m_impl->world.config().duration * m_impl->lidar.rateHz + 1e-9));
}

Eigen::Matrix4d LidarSimulator::sensorPose(std::size_t frame) const {
    Eigen::Matrix4d mount = Eigen::Matrix4d::Identity();
    mount(2, 3) = m_impl->lidar.mountHeight;
    return m_impl->world.egoPose(frameTime(frame)) * mount;
}

PointCloud LidarSimulator::scan(std::size_t frame) const {
    const auto& im = *m_impl;
    const auto& L = im.lidar;
    if (frame >= maxFrames()) {
        throw InvalidArgument("lidar simulator: frame " + std::to_string(frame) +
                              " is beyond the world's route (" + std::to_string(maxFrames()) +
                              " frames)");
    }
    const double t = frameTime(frame);
    const Eigen::Matrix4d pose = sensorPose(frame);
    const Eigen::Matrix3f R = pose.block<3, 3>(0, 0).cast<float>();
    const Eigen::Vector3f origin = pose.block<3, 1>(0, 3).cast<float>();

    // Per-scan top level: the static BVH plus the movers within reach, at this instant.
    RTCScene top = rtcNewScene(im.device);
    rtcSetSceneBuildQuality(top, RTC_BUILD_QUALITY_LOW);
    std::vector<int> geomOwner;  // top-level geometry id -> -1 static, else mover index
    std::vector<Eigen::Matrix3f> geomRot;
    auto attach = [&](RTCScene scene, const Eigen::Matrix4d& T, int owner) {
        RTCGeometry g = rtcNewGeometry(im.device, RTC_GEOMETRY_TYPE_INSTANCE);
        rtcSetGeometryInstancedScene(g, scene);
        float xfm[12];
        for (int c = 0; c < 4; ++c) {
            for (int r = 0; r < 3; ++r) xfm[3 * c + r] = static_cast<float>(T(r, c));
        }
        rtcSetGeometryTransform(g, 0, RTC_FORMAT_FLOAT3X4_COLUMN_MAJOR, xfm);
        rtcCommitGeometry(g);
        const unsigned id = rtcAttachGeometry(top, g);
        rtcReleaseGeometry(g);
        if (geomOwner.size() <= id) {
            geomOwner.resize(id + 1, -1);
            geomRot.resize(id + 1, Eigen::Matrix3f::Identity());
        }
        geomOwner[id] = owner;
        geomRot[id] = T.block<3, 3>(0, 0).cast<float>();
    };
    attach(im.staticGeom.scene, Eigen::Matrix4d::Identity(), -1);
    const auto& movers = im.world.movers();
    for (std::size_t i = 0; i < movers.size(); ++i) {
        const Eigen::Matrix4d T = im.world.moverPose(i, t);
        const double dist = (T.block<3, 1>(0, 3) - pose.block<3, 1>(0, 3)).norm();
        if (dist < L.maxRange + movers[i].radius)
            attach(im.moverGeoms[i].scene, T, static_cast<int>(i));
    }
    rtcCommitScene(top);
    im.check("building the scan's scene");

    const std::size_t nRays = L.raysPerScan();
    std::vector<RayResult> results(nRays);
    const auto columns = static_cast<std::size_t>(L.columns);
    const std::uint64_t frameKey = hashKeys(im.seed, 0x5CA7, frame);

    // Shades one hit; returns false if the ray should continue (went through glass or leaves).
    struct Hit {
        float t;
        unsigned inst, prim;
    };
    auto shade = [&](const Hit& h, const Eigen::Vector3f& dirS, const Eigen::Vector3f& dirW,
                     Rng& rng, RayResult& out) -> bool {
        const int owner = h.inst < geomOwner.size() ? geomOwner[h.inst] : -1;
        const Geometry& g =
            owner < 0 ? im.staticGeom : im.moverGeoms[static_cast<std::size_t>(owner)];
        const Material& mat = g.mesh->materials[h.prim];
        if (mat.passThrough > 0 && rng.uniform() < mat.passThrough) return false;
        const Eigen::Vector3f n = geomRot[h.inst] * g.normals[h.prim];
        const double cosInc = std::max(0.02, static_cast<double>(std::abs(n.dot(dirW))));
        const double r = h.t;
        const double rr = L.refRange / std::max(1.0, r);
        const double signal = mat.albedo * cosInc * rr * rr;
        // Logistic in log(signal): pow form avoids an exp and a log per ray.
        const double keep =
            1.0 / (1.0 + std::pow(L.detectionThreshold / signal, 1.0 / L.detectionSoftness));
        if (rng.uniform() >= keep) return true;
        const double range = r + L.rangeNoise * rng.normal();
        if (range < L.minRange || range > L.maxRange) return true;
        const double remission =
            std::clamp(mat.albedo * (0.7 + 0.3 * cosInc) * (1.0 + 0.12 * rng.normal()), 0.0, 1.0);
        out.x = static_cast<float>(dirS.x() * range);
        out.y = static_cast<float>(dirS.y() * range);
        out.z = static_cast<float>(dirS.z() * range);
        out.intensity = static_cast<float>(remission * L.intensityScale);
        out.label = g.mesh->labels[h.prim];
        out.valid = 1;
        return true;
    };
    auto traceOne = [&](const Eigen::Vector3f& dirW, float tnear, Hit& hit) {
        RTCIntersectContext ctx;
        rtcInitIntersectContext(&ctx);
        RTCRayHit rh;
        rh.ray.org_x = origin.x();
        rh.ray.org_y = origin.y();
        rh.ray.org_z = origin.z();
        rh.ray.dir_x = dirW.x();
        rh.ray.dir_y = dirW.y();
        rh.ray.dir_z = dirW.z();
        rh.ray.tnear = tnear;
        rh.ray.tfar = static_cast<float>(L.maxRange);
        rh.ray.time = 0.0f;
        rh.ray.mask = 0xFFFFFFFFu;
        rh.ray.id = 0;
        rh.ray.flags = 0;
        rh.hit.geomID = RTC_INVALID_GEOMETRY_ID;
        rh.hit.instID[0] = RTC_INVALID_GEOMETRY_ID;
        rtcIntersect1(top, &ctx, &rh);
        if (rh.hit.geomID == RTC_INVALID_GEOMETRY_ID) return false;
        hit = {rh.ray.tfar, rh.hit.instID[0], rh.hit.primID};
        return true;
    };

    // Packets of 16 neighbouring columns of one beam: coherent rays, so Embree's packet
    // traversal visits few extra nodes.
    constexpr std::size_t kPacket = 16;
    const std::size_t packetsPerBeam = (columns + kPacket - 1) / kPacket;
    const auto nPackets = static_cast<std::int64_t>(packetsPerBeam * L.beams());
#pragma omp parallel for schedule(dynamic, 8)
    for (std::int64_t pk = 0; pk < nPackets; ++pk) {
        const std::size_t b = static_cast<std::size_t>(pk) / packetsPerBeam;
        const std::size_t c0 = (static_cast<std::size_t>(pk) % packetsPerBeam) * kPacket;
        alignas(64) RTCRayHit16 rh;
        alignas(64) int valid[kPacket];
        Eigen::Vector3f dirS[kPacket], dirW[kPacket];
        Rng rngs[kPacket] = {Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0),
                             Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0), Rng(0)};
        bool any = false;
        for (std::size_t k = 0; k < kPacket; ++k) {
            valid[k] = 0;
            const std::size_t c = c0 + k;
            if (c >= columns) continue;
            const std::size_t ray = b * columns + c;
            results[ray].valid = 0;
            if (im.occluded[ray]) continue;
            Rng& rng = rngs[k];
            rng = Rng(hashKeys(frameKey, static_cast<std::uint64_t>(ray)));
            if (rng.uniform() < L.randomDropout) continue;
            // Pointing jitter as small-angle offsets (cheaper than re-evaluating sin/cos).
            const double dEl = L.angleNoiseDeg * kDeg * rng.normal();
            const double dAz = L.angleNoiseDeg * kDeg * rng.normal();
            const double ce = im.cosEl[b] - im.sinEl[b] * dEl, se = im.sinEl[b] + im.cosEl[b] * dEl;
            const double ca = im.cosAz[c] - im.sinAz[c] * dAz, sa = im.sinAz[c] + im.cosAz[c] * dAz;
            dirS[k] = Eigen::Vector3f(static_cast<float>(ce * ca), static_cast<float>(ce * sa),
                                      static_cast<float>(se))
                          .normalized();
            dirW[k] = R * dirS[k];
            valid[k] = -1;
            any = true;
            rh.ray.org_x[k] = origin.x();
            rh.ray.org_y[k] = origin.y();
            rh.ray.org_z[k] = origin.z();
            rh.ray.dir_x[k] = dirW[k].x();
            rh.ray.dir_y[k] = dirW[k].y();
            rh.ray.dir_z[k] = dirW[k].z();
            rh.ray.tnear[k] = static_cast<float>(L.minRange);
            rh.ray.tfar[k] = static_cast<float>(L.maxRange);
            rh.ray.time[k] = 0.0f;
            rh.ray.mask[k] = 0xFFFFFFFFu;
            rh.ray.id[k] = static_cast<unsigned>(k);
            rh.ray.flags[k] = 0;
            rh.hit.geomID[k] = RTC_INVALID_GEOMETRY_ID;
            rh.hit.instID[0][k] = RTC_INVALID_GEOMETRY_ID;
        }
        if (!any) continue;
        RTCIntersectContext ctx;
        rtcInitIntersectContext(&ctx);
        ctx.flags = RTC_INTERSECT_CONTEXT_FLAG_COHERENT;
        rtcIntersect16(valid, top, &ctx, &rh);
        for (std::size_t k = 0; k < kPacket; ++k) {
            if (!valid[k] || rh.hit.geomID[k] == RTC_INVALID_GEOMETRY_ID) continue;
            RayResult& out = results[b * columns + c0 + k];
            Hit hit{rh.ray.tfar[k], rh.hit.instID[0][k], rh.hit.primID[k]};
            for (int bounce = 0; bounce < 4; ++bounce) {
                if (shade(hit, dirS[k], dirW[k], rngs[k], out)) break;
                if (!traceOne(dirW[k], hit.t + 0.02f, hit)) break;
            }
        }
    }
    rtcReleaseScene(top);

    PointCloud cloud;
    std::size_t n = 0;
    for (const auto& r : results) n += r.valid;
    cloud.xyz.reserve(n);
    cloud.intensity.reserve(n);
    cloud.label.reserve(n);
    cloud.ring.reserve(n);
    for (std::size_t i = 0; i < nRays; ++i) {
        const auto& r = results[i];
        if (!r.valid) continue;
        cloud.xyz.push_back({r.x, r.y, r.z});
        cloud.intensity.push_back(r.intensity);
        cloud.label.push_back(r.label);
        cloud.ring.push_back(static_cast<std::uint16_t>(i / columns));
    }
    return cloud;
}

}  // namespace lidistill::synth
