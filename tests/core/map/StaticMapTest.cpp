// SPDX-License-Identifier: MIT
// Static map building, tiling, crop and file format on synthetic data, checked against
// independent brute-force references written here.
#include "core/base/Error.h"
#include "core/map/CellSet.h"
#include "core/map/GroundTruth.h"
#include "core/map/MapFileReader.h"
#include "core/map/StaticMap.h"
#include "tests/support/TestData.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <random>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
using namespace lidistill;
using namespace lidistill::map;

namespace {
using Cell = std::tuple<long long, long long, long long>;

Cell refCell(const Vec3f& p, double v) {
    return {static_cast<long long>(std::floor(double(p[0]) / v)),
            static_cast<long long>(std::floor(double(p[1]) / v)),
            static_cast<long long>(std::floor(double(p[2]) / v))};
}

Eigen::Matrix4d somePose(double yaw, double tx, double ty, double tz) {
    Eigen::Affine3d a = Eigen::Translation3d(tx, ty, tz) *
                        Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()) *
                        Eigen::AngleAxisd(0.02, Eigen::Vector3d::UnitX());
    return a.matrix();
}

/// A labelled scan of `n` random points in a 60 m box, classes drawn from a mix that includes
/// unlabeled (0), outlier (1), static (9, 40, 50, 70) and moving (252, 259) classes.
PointCloud randomScan(std::mt19937& rng, std::size_t n, float half = 30.f) {
    std::uniform_real_distribution<float> xy(-half, half), z(-3.f, 3.f), rem(0.f, 1.f);
    const std::uint32_t classes[] = {0, 1, 9, 40, 50, 70, 252, 259};
    std::uniform_int_distribution<int> cls(0, 7);
    PointCloud c;
    for (std::size_t i = 0; i < n; ++i) {
        c.xyz.push_back({xy(rng), xy(rng), z(rng)});
        c.intensity.push_back(rem(rng));
        c.label.push_back(classes[cls(rng)] | (static_cast<std::uint32_t>(i % 7) << 16));
    }
    return c;
}

/// Independent reference for one scan's contribution: LiDiff's filters, then the transform.
std::vector<std::pair<Vec3f, std::uint32_t>> referenceFiltered(const PointCloud& scan,
                                                               const Eigen::Matrix4d& pose,
                                                               const MapBuildOptions& o) {
    std::vector<std::pair<Vec3f, std::uint32_t>> out;
    for (std::size_t i = 0; i < scan.size(); ++i) {
        const std::uint32_t sem = scan.label[i] & 0xFFFFu;
        if (sem <= 1 || sem >= 252) continue;
        const Eigen::Vector4d v(scan.xyz[i][0], scan.xyz[i][1], scan.xyz[i][2],
                                o.rangeIncludesRemission ? scan.intensity[i] : 0.0);
        if (v.norm() <= o.minRange) continue;
        const Eigen::Vector4d q = pose * Eigen::Vector4d(v.x(), v.y(), v.z(), 1.0);
        out.push_back({Vec3f{float(q.x()), float(q.y()), float(q.z())}, scan.label[i]});
    }
    return out;
}
}  // namespace

TEST(CellSet, MatchesStdSetAndFloorsNegatives) {
    EXPECT_EQ(cellOf(-0.05, 0.05, 0.1, 0.1), (CellKey{-1, 0, 1}));
    EXPECT_EQ(cellOf(-0.1, -0.0, 0.0999, 0.1), (CellKey{-1, 0, 0}));
    EXPECT_THROW(cellOf(NAN, 0, 0, 0.1), InvalidArgument);
    EXPECT_THROW(cellOf(1e12, 0, 0, 0.1), InvalidArgument);
    EXPECT_THROW(cellOf(0, 0, 0, 0.0), InvalidArgument);

    std::mt19937 rng(7);
    std::uniform_int_distribution<int> d(-300, 300);
    CellSet set;
    std::set<std::tuple<int, int, int>> ref;
    for (int i = 0; i < 50000; ++i) {
        const CellKey k{d(rng), d(rng) / 10, d(rng) * 1000};
        EXPECT_EQ(set.insert(k), ref.insert({k.x, k.y, k.z}).second);
    }
    EXPECT_EQ(set.size(), ref.size());
    for (int i = 0; i < 20000; ++i) {
        const CellKey k{d(rng), d(rng) / 10, d(rng) * 1000};
        EXPECT_EQ(set.contains(k), ref.count({k.x, k.y, k.z}) == 1);
    }
}

TEST(MapBuilder, KeepsStaticClassesOutsideMinRangeWithRemissionQuirk) {
    PointCloud scan;
    scan.xyz = {{3.0f, 0, 0}, {3.0f, 0, 0}, {10, 0, 0}, {11, 0, 0},  {12, 0, 0},
                {13, 0, 0},   {14, 0, 0},   {15, 0, 0}, {3.5f, 0, 0}};
    scan.intensity = {2.0f, 0.0f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.0f};
    // 3 m point with remission 2 has "range" sqrt(13) = 3.61 > 3.5 under LiDiff's quirk.
    scan.label = {40, 40, 0, 1, 252, 259, 2 | (5u << 16), 251, 40};
    {
        MapBuilder b;
        EXPECT_EQ(b.addScan(scan, Eigen::Matrix4d::Identity()), 3u);
        const auto& p = b.points();
        ASSERT_EQ(p.size(), 3u);
        EXPECT_EQ(p[0][0], 3.0f);   // kept only because remission enters the norm
        EXPECT_EQ(p[1][0], 14.0f);  // class 2 (with an instance id) is static
        EXPECT_EQ(p[2][0], 15.0f);  // class 251 is the last static one
        const StaticMap m = b.finish();
        std::multiset<std::uint32_t> labels(m.labels().begin(), m.labels().end());
        EXPECT_EQ(labels, (std::multiset<std::uint32_t>{40, 2 | (5u << 16), 251}));
    }
    {
        MapBuildOptions o;
        o.rangeIncludesRemission = false;
        MapBuilder b(o);
        EXPECT_EQ(b.addScan(scan, Eigen::Matrix4d::Identity()), 2u);
        EXPECT_EQ(b.points()[0][0], 14.0f);
    }
    PointCloud unlabeled = scan;
    unlabeled.label.clear();
    MapBuilder strict;
    EXPECT_THROW(strict.addScan(unlabeled, Eigen::Matrix4d::Identity()), InvalidArgument);
    MapBuildOptions loose;
    loose.allowUnlabeled = true;
    MapBuilder b(loose);
    // All but the 3 m point without remission and the 3.5 m one.
    EXPECT_EQ(b.addScan(unlabeled, Eigen::Matrix4d::Identity()), 7u);
}

TEST(MapBuilder, KeepsFirstOriginalPointPerVoxelAcrossScans) {
    std::mt19937 rng(11);
    MapBuildOptions o;
    o.voxelSize = 0.5;  // coarse, so that cells collide often within and across scans
    MapBuilder b(o);
    std::map<Cell, std::pair<Vec3f, std::uint32_t>> firstOfCell;  // the reference
    std::set<Cell> inputCells;
    for (int s = 0; s < 4; ++s) {
        const PointCloud scan = randomScan(rng, 20000, 12.f);
        const Eigen::Matrix4d pose = somePose(0.3 * s, 1.7 * s, -0.9 * s, 0.1 * s);
        std::size_t fresh = 0;
        for (const auto& [p, label] : referenceFiltered(scan, pose, o)) {
            inputCells.insert(refCell(p, o.voxelSize));
            fresh += firstOfCell.emplace(refCell(p, o.voxelSize), std::make_pair(p, label)).second;
        }
        EXPECT_EQ(b.addScan(scan, pose), fresh) << "scan " << s;
    }
    EXPECT_EQ(b.scanCount(), 4u);
    const StaticMap m = b.finish();
    ASSERT_EQ(m.size(), firstOfCell.size());
    std::set<Cell> seen;
    for (std::size_t i = 0; i < m.size(); ++i) {
        const Cell c = refCell(m.points()[i], o.voxelSize);
        EXPECT_TRUE(seen.insert(c).second) << "two map points share a cell";
        const auto it = firstOfCell.find(c);
        ASSERT_NE(it, firstOfCell.end());
        EXPECT_EQ(std::memcmp(&it->second.first, &m.points()[i], sizeof(Vec3f)), 0)
            << "not the first point of its cell";
        EXPECT_EQ(it->second.second, m.labels()[i]);
    }
    EXPECT_EQ(seen, inputCells);  // every input cell is represented
}

TEST(StaticMap, TiledCropEqualsBruteForce) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> xy(-180.f, 140.f), z(-10.f, 10.f);
    std::vector<Vec3f> pts(60000);
    for (auto& p : pts) p = {xy(rng), xy(rng), z(rng)};
    pts.push_back({0.0f, 25.0f, 0.0f});  // on tile borders
    pts.push_back({-25.0f, -1e-7f, 0.0f});
    MapInfo info;
    info.build.tileSize = 25.0;
    const StaticMap m = StaticMap::fromPoints(pts, {}, info);
    ASSERT_EQ(m.size(), pts.size());

    // Tiles: contiguous, ordered, and every point lies in its tile.
    std::uint64_t next = 0;
    for (const MapTile& t : m.tiles()) {
        EXPECT_EQ(t.begin, next);
        next += t.count;
        for (std::size_t i = t.begin; i < t.begin + t.count; ++i) {
            EXPECT_EQ(std::floor(m.points()[i][0] / 25.0), t.tx);
            EXPECT_EQ(std::floor(m.points()[i][1] / 25.0), t.ty);
        }
    }
    EXPECT_EQ(next, m.size());
    std::multiset<std::tuple<float, float, float>> in, out;
    for (auto& p : pts) in.insert({p[0], p[1], p[2]});
    for (auto& p : m.points()) out.insert({p[0], p[1], p[2]});
    EXPECT_EQ(in, out);

    std::uniform_real_distribution<double> c(-200, 160), r(0.5, 80);
    for (int trial = 0; trial < 40; ++trial) {
        const Eigen::Vector3d centre(c(rng), c(rng), trial % 2 ? 3.0 : -40.0);
        const double radius = trial == 0 ? 5000.0 : (trial == 1 ? 50.0 : r(rng));
        std::vector<std::size_t> brute;
        for (std::size_t i = 0; i < m.size(); ++i) {
            const Eigen::Vector3d p(m.points()[i][0], m.points()[i][1], m.points()[i][2]);
            if ((p - centre).squaredNorm() < radius * radius) brute.push_back(i);
        }
        EXPECT_EQ(m.indicesWithin(centre, radius), brute) << "trial " << trial;
    }
    // The disc of 50 m around the origin touches a fraction of the map only.
    const Eigen::Vector3d origin(0, 0, 0);
    EXPECT_LT(m.pointsInVisitedTiles(origin, 50.0), m.size() / 2);
    EXPECT_TRUE(m.indicesWithin(Eigen::Vector3d(1e6, 1e6, 0), 50.0).empty());
}

TEST(StaticMap, SaveLoadRoundTripIsBitExact) {
    std::mt19937 rng(5);
    MapBuildOptions o;
    o.voxelSize = 0.2;
    o.minRange = 2.5;
    o.rangeIncludesRemission = false;
    o.tileSize = 10.0;
    MapBuilder b(o);
    b.addScan(randomScan(rng, 30000), somePose(0.4, 3, 2, 1));
    b.addScan(randomScan(rng, 30000), somePose(-0.2, -5, 7, 0));
    const StaticMap m = b.finish();
    const fs::path file = test::scratchDir() / "map.ldmap";
    m.save(file);
    EXPECT_EQ(fs::file_size(file), 128 + 32 * m.tiles().size() + 16 * m.size());

    const StaticMap l = StaticMap::load(file);
    ASSERT_EQ(l.size(), m.size());
    EXPECT_EQ(std::memcmp(l.points().data(), m.points().data(), m.size() * sizeof(Vec3f)), 0);
    EXPECT_EQ(l.labels(), m.labels());
    ASSERT_EQ(l.tiles().size(), m.tiles().size());
    for (std::size_t t = 0; t < m.tiles().size(); ++t) {
        EXPECT_EQ(l.tiles()[t].tx, m.tiles()[t].tx);
        EXPECT_EQ(l.tiles()[t].ty, m.tiles()[t].ty);
        EXPECT_EQ(l.tiles()[t].begin, m.tiles()[t].begin);
        EXPECT_EQ(l.tiles()[t].count, m.tiles()[t].count);
    }
    EXPECT_TRUE(sameBuild(l.info().build, o));
    EXPECT_EQ(l.info().build.tileSize, 10.0);
    EXPECT_EQ(l.info().scanCount, 2u);
    EXPECT_TRUE(sameBuild(StaticMap::readInfo(file).build, o));
    EXPECT_FALSE(sameBuild(StaticMap::readInfo(file).build, MapBuildOptions{}));
    const Eigen::Vector3d centre(1, 2, 0);
    EXPECT_EQ(l.indicesWithin(centre, 15.0), m.indicesWithin(centre, 15.0));

    // Saving the loaded map reproduces the file byte for byte.
    const fs::path again = file.parent_path() / "again.ldmap";
    l.save(again);
    std::ifstream a(file, std::ios::binary), c(again, std::ios::binary);
    const std::string bytesA((std::istreambuf_iterator<char>(a)), {});
    const std::string bytesC((std::istreambuf_iterator<char>(c)), {});
    EXPECT_TRUE(bytesA == bytesC);

    // An empty map round-trips too.
    const fs::path emptyFile = file.parent_path() / "empty.ldmap";
    StaticMap::fromPoints({}, {}, MapInfo{}).save(emptyFile);
    EXPECT_EQ(StaticMap::load(emptyFile).size(), 0u);
}

namespace {
std::string readAll(const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}
void writeAll(const fs::path& f, const std::string& bytes) {
    std::ofstream out(f, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
/// Expects load() to throw an IoError naming `file` whose problem contains `what`.
void expectLoadFails(const fs::path& file, const std::string& what) {
    try {
        StaticMap::load(file);
        ADD_FAILURE() << "no error for " << what;
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), file);
        EXPECT_NE(e.problem().find(what), std::string::npos) << e.what();
    }
}
}  // namespace

TEST(StaticMap, CorruptOrTruncatedFilesThrowIoError) {
    std::mt19937 rng(9);
    MapBuilder b;
    b.addScan(randomScan(rng, 5000), Eigen::Matrix4d::Identity());
    const StaticMap m = b.finish();
    const fs::path dir = test::scratchDir();
    const fs::path good = dir / "good.ldmap";
    m.save(good);
    const std::string bytes = readAll(good);
    const fs::path bad = dir / "bad.ldmap";

    for (const std::size_t keep :
         {std::size_t{0}, std::size_t{100}, std::size_t{128 + 10}, bytes.size() - 1}) {
        writeAll(bad, bytes.substr(0, keep));
        expectLoadFails(bad, keep < 128 ? "shorter than" : "truncated");
    }
    writeAll(bad, bytes + "x");
    expectLoadFails(bad, "more than its header");

    std::string s = bytes;
    s[0] = 'X';
    writeAll(bad, s);
    expectLoadFails(bad, "bad magic");

    s = bytes;
    s[8] = 2;  // version, with the header checksum left stale
    writeAll(bad, s);
    expectLoadFails(bad, "version 2");

    s = bytes;
    s[20] ^= 0x01;  // voxel size bit flip
    writeAll(bad, s);
    expectLoadFails(bad, "header: checksum");

    s = bytes;
    s[128 + 4] ^= 0x01;  // tile table
    writeAll(bad, s);
    expectLoadFails(bad, "tile table: checksum");

    s = bytes;
    s[s.size() - 20] ^= 0x10;  // a point in the last tile
    writeAll(bad, s);
    expectLoadFails(bad, "checksum mismatch");

    expectLoadFails(dir / "missing.ldmap", "does not exist");
    EXPECT_NO_THROW(StaticMap::load(good));
}

TEST(ViewpointMask, FollowsOpen3dVoxelGridSemantics) {
    // min bound (0, -1, 2) -> origin (-5, -6, -3); cells floor((p - origin) / 10).
    const ViewpointMask mask({{0.f, 0.f, 2.f}, {12.f, -1.f, 2.5f}}, 10.0);
    EXPECT_EQ(mask.origin(), Eigen::Vector3d(-5, -6, -3));
    EXPECT_EQ(mask.occupiedCells(), 2u);
    EXPECT_TRUE(mask.contains({-5.0, -6.0, -3.0}));  // cell (0,0,0), lower corner
    EXPECT_FALSE(mask.contains({-5.01, 0.0, 0.0}));  // cell (-1,...)
    EXPECT_TRUE(mask.contains({4.99, 3.99, 6.99}));  // still (0,0,0)
    EXPECT_TRUE(mask.contains({14.99, 0.0, 0.0}));   // (1,0,0), occupied by the second point
    EXPECT_FALSE(mask.contains({15.0, 0.0, 0.0}));   // (2,0,0)
    EXPECT_FALSE(mask.contains({0.0, 4.0, 0.0}));    // (0,1,0)
    EXPECT_FALSE(mask.contains({0.0, 0.0, 7.0}));    // (0,0,1)
    EXPECT_FALSE(ViewpointMask({}, 10.0).contains({0, 0, 0}));

    // Cells spread over a huge box take the hash-set path; same answers.
    const ViewpointMask sparse({{0.f, 0.f, 2.f}, {12.f, -1.f, 2.5f}, {4e5f, 4e5f, 4e5f}}, 10.0);
    EXPECT_EQ(sparse.occupiedCells(), 3u);
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> u(-20.0, 30.0);
    for (int i = 0; i < 20000; ++i) {
        const Eigen::Vector3d q(u(rng), u(rng), u(rng));
        ASSERT_EQ(sparse.contains(q), mask.contains(q)) << q.transpose();
    }
    EXPECT_TRUE(sparse.contains({4e5 + 4.0, 4e5 + 3.0, 4e5 + 6.0}));  // cell (40000, 40000, 40000)
    EXPECT_FALSE(mask.contains({4e5, 4e5, 4e5}));
    EXPECT_FALSE(sparse.contains({2e5, 2e5, 2e5}));
    EXPECT_FALSE(sparse.contains({1e300, 0, 0}));
}

TEST(GroundTruth, CropsTransformsAndMasksLikeABruteForceReference) {
    std::mt19937 rng(21);
    std::uniform_real_distribution<float> xy(-120.f, 120.f), z(-8.f, 8.f);
    std::vector<Vec3f> pts(80000);
    std::vector<std::uint32_t> labels(pts.size());
    for (std::size_t i = 0; i < pts.size(); ++i) {
        pts[i] = {xy(rng), xy(rng), z(rng)};
        labels[i] = static_cast<std::uint32_t>(i);
    }
    const StaticMap m = StaticMap::fromPoints(pts, labels, MapInfo{});
    const Eigen::Matrix4d pose = somePose(0.7, 20.0, -10.0, 1.0);

    // A viewpoint scan covering only x > 0 half-space blocks of the sensor frame.
    std::vector<Vec3f> view;
    std::uniform_real_distribution<float> vx(0.f, 45.f), vy(-30.f, 30.f), vz(-2.f, 1.f);
    for (int i = 0; i < 3000; ++i) view.push_back({vx(rng), vy(rng), vz(rng)});
    const ViewpointMask mask(view, 10.0);

    const GroundTruthOptions o;
    const PointCloud gt = groundTruthFromMap(m, pose, view, o);
    const Eigen::Matrix4d inv = pose.inverse();
    std::map<std::uint32_t, Vec3f> expected;  // by label == original index
    for (std::size_t i = 0; i < m.size(); ++i) {
        const Eigen::Vector4d p(m.points()[i][0], m.points()[i][1], m.points()[i][2], 1.0);
        if ((p.head<3>() - pose.block<3, 1>(0, 3)).norm() >= 50.0) continue;
        const Eigen::Vector4d q = inv * p;
        if (q.z() <= -4.0 || q.z() >= 4.4) continue;
        if (!mask.contains(q.head<3>())) continue;
        expected[m.labels()[i]] = {float(q.x()), float(q.y()), float(q.z())};
    }
    ASSERT_EQ(gt.size(), expected.size());
    ASSERT_GT(gt.size(), 100u);
    for (std::size_t k = 0; k < gt.size(); ++k) {
        const auto it = expected.find(gt.label[k]);
        ASSERT_NE(it, expected.end());
        for (int a = 0; a < 3; ++a) EXPECT_NEAR(gt.xyz[k][a], it->second[a], 1e-5f);
        EXPECT_GT(gt.xyz[k][0], -5.0f - 1e-3f);  // nothing behind the viewpoint's cells
    }

    // Without the mask there is strictly more; with a training-style open z bound, more still.
    GroundTruthOptions noMask = o;
    noMask.useViewpointMask = false;
    const std::size_t unmasked = groundTruthFromMap(m, pose, view, noMask).size();
    EXPECT_GT(unmasked, gt.size());
    noMask.zMax = INFINITY;
    EXPECT_GT(groundTruthFromMap(m, pose, view, noMask).size(), unmasked);

    // groundTruthForScan drops scan points at >= 50 m from the viewpoint.
    PointCloud scan;
    scan.xyz = view;
    scan.xyz.push_back({-80.f, 0.f, 0.f});  // would open cells behind the sensor
    const PointCloud viaScan = groundTruthForScan(m, pose, scan, o);
    EXPECT_EQ(viaScan.label, gt.label);

    GroundTruthOptions bad;
    bad.zMin = 5.0;
    EXPECT_THROW(groundTruthFromMap(m, pose, view, bad), InvalidArgument);
}

TEST(MapFileReader, ReadsOnlyNearTilesAndMatchesTheInMemoryCrop) {
    std::mt19937 rng(13);
    std::uniform_real_distribution<float> xy(-200.f, 200.f), z(-5.f, 5.f);
    std::vector<Vec3f> pts(50000);
    std::vector<std::uint32_t> labels(pts.size());
    for (std::size_t i = 0; i < pts.size(); ++i) {
        pts[i] = {xy(rng), xy(rng), z(rng)};
        labels[i] = static_cast<std::uint32_t>(i * 7 + 3);
    }
    const StaticMap m = StaticMap::fromPoints(pts, labels, MapInfo{});
    const fs::path file = test::scratchDir() / "lazy.ldmap";
    m.save(file);

    const MapFileReader reader(file);
    EXPECT_EQ(reader.size(), m.size());
    EXPECT_EQ(reader.tiles().size(), m.tiles().size());
    EXPECT_TRUE(sameBuild(reader.info().build, MapBuildOptions{}));
    for (const Eigen::Vector3d& c :
         {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(-150, 80, 2), Eigen::Vector3d(190, 190, -3)}) {
        std::size_t tilesRead = 0;
        const PointCloud crop = reader.readWithin(c, 50.0, &tilesRead);
        const PointCloud expected = m.select(m.indicesWithin(c, 50.0));
        ASSERT_EQ(crop.size(), expected.size());
        EXPECT_EQ(std::memcmp(crop.xyz.data(), expected.xyz.data(), crop.size() * sizeof(Vec3f)),
                  0);
        EXPECT_EQ(crop.label, expected.label);
        EXPECT_GT(crop.size(), 0u);
        EXPECT_LE(tilesRead, 25u);  // of 256 tiles of 25 m
        EXPECT_LT(tilesRead * 4, m.tiles().size());
    }
    // A moved reader keeps working; the moved-from one returns nothing.
    MapFileReader a(file);
    MapFileReader b(std::move(a));
    EXPECT_EQ(b.readWithin(Eigen::Vector3d::Zero(), 10.0).size(),
              m.indicesWithin(Eigen::Vector3d::Zero(), 10.0).size());

    // A damaged tile is found when it is read, not before, and is named.
    std::string bytes = readAll(file);
    const MapTile& last = m.tiles().back();
    bytes[128 + 32 * m.tiles().size() + 16 * last.begin + 5] ^= 0x40;
    const fs::path bad = file.parent_path() / "bad.ldmap";
    writeAll(bad, bytes);
    const MapFileReader damaged(bad);
    EXPECT_NO_THROW(damaged.readWithin(Eigen::Vector3d(-190, -190, 0), 20.0));
    const Eigen::Vector3d inLast((last.tx + 0.5) * 25.0, (last.ty + 0.5) * 25.0, 0.0);
    try {
        damaged.readWithin(inLast, 5.0);
        ADD_FAILURE() << "damaged tile read without error";
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), bad);
        EXPECT_NE(e.problem().find("checksum"), std::string::npos) << e.what();
    }
    writeAll(bad, bytes.substr(0, bytes.size() / 2));
    EXPECT_THROW(MapFileReader{bad}, IoError);
}
