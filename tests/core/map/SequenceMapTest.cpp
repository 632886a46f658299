// SPDX-License-Identifier: MIT
// Static map and ground truth on the real SemanticKITTI frames 00/000000-000009.
#include "core/base/Error.h"
#include "core/dataset/Sequence.h"
#include "core/io/PoseIo.h"
#include "core/map/MapFileReader.h"
#include "core/map/SequenceMap.h"
#include "tests/support/TestData.h"

#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace fs = std::filesystem;
using namespace lidistill;
using namespace lidistill::map;

namespace {
std::uint64_t packCell(long long x, long long y, long long z) {
    // Test-only key: exact for |index| < 2^20, far beyond this sequence's 0.1 m extent.
    const auto u = [](long long v) { return static_cast<std::uint64_t>(v + (1 << 20)) & 0x1FFFFF; };
    return (u(x) << 42) | (u(y) << 21) | u(z);
}
std::uint64_t refKey(const Vec3f& p, double v) {
    return packCell(static_cast<long long>(std::floor(p[0] / v)),
                    static_cast<long long>(std::floor(p[1] / v)),
                    static_cast<long long>(std::floor(p[2] / v)));
}

/// Exact nearest-neighbour distances up to `cap` (grid hash of cell `cap`, 27 cells searched);
/// larger distances come back as +inf. Independent of the code under test.
class GridNN {
public:
    GridNN(const std::vector<Vec3f>& pts, double cap) : m_pts(pts), m_cap(cap) {
        for (std::size_t i = 0; i < pts.size(); ++i) m_grid[refKey(pts[i], cap)].push_back(i);
    }
    double distance(const Vec3f& q) const {
        double best = std::numeric_limits<double>::infinity();
        const long long cx = std::floor(q[0] / m_cap), cy = std::floor(q[1] / m_cap),
                        cz = std::floor(q[2] / m_cap);
        for (long long dx = -1; dx <= 1; ++dx)
            for (long long dy = -1; dy <= 1; ++dy)
                for (long long dz = -1; dz <= 1; ++dz) {
                    const auto it = m_grid.find(packCell(cx + dx, cy + dy, cz + dz));
                    if (it == m_grid.end()) continue;
                    for (const std::size_t i : it->second) {
                        const double ex = m_pts[i][0] - q[0], ey = m_pts[i][1] - q[1],
                                     ez = m_pts[i][2] - q[2];
                        best = std::min(best, std::sqrt(ex * ex + ey * ey + ez * ez));
                    }
                }
        return best <= m_cap ? best : std::numeric_limits<double>::infinity();
    }

private:
    const std::vector<Vec3f>& m_pts;
    double m_cap;
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> m_grid;
};

/// LiDiff's per-scan map filter, written independently: 1 < class < 252, |x,y,z,rem| > 3.5.
std::vector<Vec3f> staticPoints(const PointCloud& scan, const Eigen::Matrix4d& pose) {
    std::vector<Vec3f> out;
    for (std::size_t i = 0; i < scan.size(); ++i) {
        const std::uint32_t sem = scan.label[i] & 0xFFFFu;
        const Eigen::Vector4d v(scan.xyz[i][0], scan.xyz[i][1], scan.xyz[i][2], scan.intensity[i]);
        if (sem <= 1 || sem >= 252 || v.norm() <= 3.5) continue;
        const Eigen::Vector4d q = pose * Eigen::Vector4d(v.x(), v.y(), v.z(), 1.0);
        out.push_back({float(q.x()), float(q.y()), float(q.z())});
    }
    return out;
}

double quantile(std::vector<double> v, double q) {
    const auto k = static_cast<std::ptrdiff_t>(q * (v.size() - 1));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
}

struct NNStats {
    double q50 = 0, q90 = 0;
};
/// Median and 90th percentile of the NN distances of scan 9's static points (placed by
/// `pose9`) to `mapPoints`.
NNStats nnStats(const std::vector<Vec3f>& mapPoints, const PointCloud& scan9,
                const Eigen::Matrix4d& pose9) {
    const GridNN nn(mapPoints, 1.0);
    std::vector<double> d;
    for (const Vec3f& p : staticPoints(scan9, pose9)) d.push_back(nn.distance(p));
    return {quantile(d, 0.5), quantile(d, 0.9)};
}

class Recorder : public ProgressSink {
public:
    explicit Recorder(int cancelAfter = -1) : m_cancelAfter(cancelAfter) {}
    void report(double f, std::string_view) override { fractions.push_back(f); }
    bool cancelled() const override {
        return m_cancelAfter >= 0 && static_cast<int>(fractions.size()) >= m_cancelAfter;
    }
    std::vector<double> fractions;

private:
    int m_cancelAfter;
};

class SequenceMapTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!fs::exists(test::semanticKittiSeq00())) return;
        s_seq = std::make_unique<Sequence>(Sequence::open(test::semanticKittiSeq00()));
        s_map = std::make_unique<StaticMap>(buildStaticMap(*s_seq));
    }
    static void TearDownTestSuite() {
        s_map.reset();
        s_seq.reset();
    }
    static inline std::unique_ptr<Sequence> s_seq;
    static inline std::unique_ptr<StaticMap> s_map;
};
}  // namespace

TEST_F(SequenceMapTest, MapOfScans0To8IsAlignedWithScan9) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence& seq = *s_seq;
    ASSERT_EQ(seq.size(), 10u);
    ASSERT_TRUE(seq.hasCalib());
    const StaticMap m = buildStaticMap(seq, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    EXPECT_EQ(m.info().scanCount, 9u);
    const PointCloud scan9 = seq.loadScan(9);
    const NNStats aligned = nnStats(m.points(), scan9, seq.pose(9));

    // The same with identity poses, and with the camera poses taken as LiDAR poses.
    MapBuilder identity, camera, first, firstUnposed;
    const auto cameraPoses = io::readPoses(seq.dir() / "poses.txt");
    for (std::size_t i = 0; i < 9; ++i) {
        const PointCloud s = seq.loadScan(i);
        identity.addScan(s, Eigen::Matrix4d::Identity());
        camera.addScan(s, cameraPoses[i]);
        if (i == 0) {
            first.addScan(s, seq.pose(0));
            firstUnposed.addScan(s, Eigen::Matrix4d::Identity());
        }
    }
    const NNStats unposed = nnStats(identity.points(), scan9, Eigen::Matrix4d::Identity());
    const NNStats wrongFrame = nnStats(camera.points(), scan9, cameraPoses[9]);
    std::cout << "NN distance of scan 9 to the map of scans 0-8 (" << m.size()
              << " points): median " << aligned.q50 << " m, 90% " << aligned.q90
              << " m; identity poses " << unposed.q50 << " / " << unposed.q90
              << " m; camera poses as LiDAR poses " << wrongFrame.q50 << " / " << wrongFrame.q90
              << " m\n";
    EXPECT_LT(aligned.q50, 0.08);
    EXPECT_LT(aligned.q90, 0.15);
    // Unposed, scan 8 lies only 0.7 m from scan 9 and smears the map along the road, so the
    // median moves little; the tail shows the misalignment.
    EXPECT_GT(unposed.q50, aligned.q50);
    EXPECT_GT(unposed.q90, 2.0 * aligned.q90);
    EXPECT_GT(wrongFrame.q50, 5.0 * aligned.q50);

    // The data README's check (scan 9 onto scan 0, ~0.12 m vs ~0.18 m unposed), here against
    // scan 0 voxelised at 0.1 m.
    const NNStats toFirst = nnStats(first.points(), scan9, seq.pose(9));
    const NNStats toFirstUnposed =
        nnStats(firstUnposed.points(), scan9, Eigen::Matrix4d::Identity());
    std::cout << "scan 9 to scan 0: median " << toFirst.q50 << " m, unposed " << toFirstUnposed.q50
              << " m\n";
    EXPECT_LT(toFirst.q50, 0.12);
    EXPECT_GT(toFirstUnposed.q50, 1.5 * toFirst.q50);
}

TEST_F(SequenceMapTest, MapIsDenserThanOneScanAndHoldsOnlyStaticClasses) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence& seq = *s_seq;
    const StaticMap& m = *s_map;
    EXPECT_EQ(m.info().scanCount, 10u);

    std::size_t moving = 0, unlabeled = 0;
    std::unordered_set<std::uint64_t> inputCells;
    std::size_t staticInRegion = 0;
    for (std::size_t i = 0; i < seq.size(); ++i) {
        const PointCloud scan = seq.loadScan(i);
        for (const std::uint32_t l : scan.label) {
            moving += (l & 0xFFFF) >= 252;
            unlabeled += (l & 0xFFFF) <= 1;
        }
        const auto pts = staticPoints(scan, seq.pose(i));
        for (const Vec3f& p : pts) inputCells.insert(refKey(p, 0.1));
        if (i == 0) {
            for (const Vec3f& p : pts) {
                staticInRegion += std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) < 50.0;
            }
        }
    }
    ASSERT_GT(moving, 0u) << "the data should hold moving points for this test to mean much";
    ASSERT_GT(unlabeled, 0u);
    for (const std::uint32_t l : m.labels()) {
        ASSERT_GT(l & 0xFFFF, 1u);
        ASSERT_LT(l & 0xFFFF, 252u);
    }

    // Exactly one point per 0.1 m cell, and every cell of the filtered input is represented.
    std::unordered_set<std::uint64_t> mapCells;
    for (const Vec3f& p : m.points()) {
        ASSERT_TRUE(mapCells.insert(refKey(p, 0.1)).second) << "two map points share a cell";
    }
    EXPECT_EQ(mapCells.size(), inputCells.size());
    EXPECT_TRUE(mapCells == inputCells);

    const std::size_t mapInRegion = m.indicesWithin(seq.pose(0).block<3, 1>(0, 3), 50.0).size();
    std::cout << "within 50 m of scan 0: " << mapInRegion << " map points vs " << staticInRegion
              << " static points of scan 0 alone; map total " << m.size() << "\n";
    EXPECT_GT(mapInRegion, staticInRegion * 13 / 10);
}

TEST_F(SequenceMapTest, SaveLoadAndTiledCropsMatchBruteForce) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const StaticMap& m = *s_map;
    const fs::path file = test::scratchDir() / "00.ldmap";
    m.save(file);
    const StaticMap l = StaticMap::load(file);
    ASSERT_EQ(l.size(), m.size());
    EXPECT_EQ(std::memcmp(l.points().data(), m.points().data(), m.size() * sizeof(Vec3f)), 0);
    EXPECT_EQ(l.labels(), m.labels());

    for (std::size_t i = 0; i < s_seq->size(); i += 3) {
        const Eigen::Vector3d c = s_seq->pose(i).block<3, 1>(0, 3);
        std::vector<std::size_t> brute;
        for (std::size_t k = 0; k < l.size(); ++k) {
            const Eigen::Vector3d p(l.points()[k][0], l.points()[k][1], l.points()[k][2]);
            if ((p - c).squaredNorm() < 2500.0) brute.push_back(k);
        }
        EXPECT_EQ(l.indicesWithin(c, 50.0), brute) << "frame " << i;
    }

    // The on-disk reader gives the same ground truth as the in-memory map.
    const MapFileReader reader(file);
    for (const std::size_t i : {std::size_t{2}, std::size_t{9}}) {
        const PointCloud scan = s_seq->loadScan(i);
        const auto view = viewpointPoints(scan, 50.0);
        const PointCloud a = groundTruthFromCrop(
            reader.readWithin(s_seq->pose(i).block<3, 1>(0, 3), 50.0), s_seq->pose(i), view);
        const PointCloud b = groundTruthFromMap(m, s_seq->pose(i), view);
        ASSERT_EQ(a.size(), b.size());
        EXPECT_EQ(std::memcmp(a.xyz.data(), b.xyz.data(), a.size() * sizeof(Vec3f)), 0);
        EXPECT_EQ(a.label, b.label);
    }

    // A truncated copy of the real map is refused with the file named.
    const fs::path cut = file.parent_path() / "cut.ldmap";
    fs::copy_file(file, cut);
    fs::resize_file(cut, fs::file_size(file) - 16);
    try {
        StaticMap::load(cut);
        ADD_FAILURE() << "truncated map loaded";
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), cut);
        EXPECT_NE(e.problem().find("truncated"), std::string::npos) << e.what();
    }
}

TEST_F(SequenceMapTest, GroundTruthOfFrameFollowsTheEvaluationProtocol) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence& seq = *s_seq;
    const StaticMap& m = *s_map;
    const std::size_t frame = 5;
    const PointCloud gt = groundTruthForFrame(seq, m, frame);

    // Independent reference: brute force over the map, own 10 m voxel set (Open3D rules).
    const PointCloud scan = seq.loadScan(frame);
    std::vector<Vec3f> view;
    for (const Vec3f& p : scan.xyz) {
        if (std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]) < 50.0)
            view.push_back(p);
    }
    double lo[3] = {1e300, 1e300, 1e300};
    for (const Vec3f& p : view)
        for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], double(p[a]));
    const auto cell = [&](double x, double y, double z) {
        return std::make_tuple(std::floor((x - (lo[0] - 5.0)) / 10.0),
                               std::floor((y - (lo[1] - 5.0)) / 10.0),
                               std::floor((z - (lo[2] - 5.0)) / 10.0));
    };
    std::set<std::tuple<double, double, double>> occupied;
    for (const Vec3f& p : view) occupied.insert(cell(p[0], p[1], p[2]));

    const Eigen::Matrix4d pose = seq.pose(frame);
    const Eigen::Matrix4d inv = pose.inverse();
    std::size_t expected = 0, masked = 0;
    for (std::size_t k = 0; k < m.size(); ++k) {
        const Eigen::Vector4d p(m.points()[k][0], m.points()[k][1], m.points()[k][2], 1.0);
        if ((p.head<3>() - pose.block<3, 1>(0, 3)).norm() >= 50.0) continue;
        const Eigen::Vector4d q = inv * p;
        if (q.z() <= -4.0 || q.z() >= 4.4) continue;
        if (!occupied.count(cell(q.x(), q.y(), q.z()))) {
            ++masked;
            continue;
        }
        ++expected;
    }
    std::cout << "frame " << frame << ": GT " << gt.size() << " points (scan " << scan.size()
              << ", viewpoint mask removed " << masked << ")\n";
    EXPECT_EQ(gt.size(), expected);
    EXPECT_GT(gt.size(), scan.size());
    ASSERT_EQ(gt.label.size(), gt.size());
    for (const Vec3f& q : gt.xyz) {
        ASSERT_GT(q[2], -4.0f);
        ASSERT_LT(q[2], 4.4f);
        ASSERT_LT(std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]), 50.0f + 1e-3f);
    }
    // In its own frame the GT is centred on the sensor: the road below the car is in it.
    std::size_t nearGround = 0;
    for (const Vec3f& q : gt.xyz) {
        nearGround += std::abs(q[0]) < 5 && std::abs(q[1]) < 3 && q[2] < -1.3f && q[2] > -2.2f;
    }
    EXPECT_GT(nearGround, 100u);
    EXPECT_THROW(groundTruthForFrame(seq, m, 10), InvalidArgument);
}

TEST_F(SequenceMapTest, ProgressCancelAndCache) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence& seq = *s_seq;
    Recorder cancelling(3);
    EXPECT_THROW(buildStaticMap(seq, {}, &cancelling), Cancelled);
    EXPECT_EQ(cancelling.fractions.size(), 3u);  // stopped at the third scan

    const fs::path cache = test::scratchDir() / "cache" / "00.ldmap";
    Recorder first;
    const StaticMap built = loadOrBuildStaticMap(seq, cache, {}, &first);
    EXPECT_EQ(first.fractions.size(), 11u);  // one per scan, then tiling
    EXPECT_TRUE(std::is_sorted(first.fractions.begin(), first.fractions.end()));
    EXPECT_EQ(first.fractions.back(), 1.0);
    ASSERT_TRUE(fs::exists(cache));
    EXPECT_EQ(built.size(), s_map->size());

    Recorder second;
    const StaticMap cached = loadOrBuildStaticMap(seq, cache, {}, &second);
    EXPECT_EQ(second.fractions.size(), 1u);  // loaded, not rebuilt
    EXPECT_EQ(cached.labels(), built.labels());

    MapBuildOptions other;
    other.voxelSize = 0.2;
    Recorder third;
    const StaticMap coarser = loadOrBuildStaticMap(seq, cache, other, &third);
    EXPECT_EQ(third.fractions.size(), 11u);
    EXPECT_LT(coarser.size(), built.size());
    EXPECT_EQ(StaticMap::readInfo(cache).build.voxelSize, 0.2);

    // A corrupt cache is rebuilt rather than trusted.
    fs::resize_file(cache, 1000);
    Recorder fourth;
    EXPECT_EQ(loadOrBuildStaticMap(seq, cache, other, &fourth).size(), coarser.size());
    EXPECT_EQ(fourth.fractions.size(), 11u);
}
