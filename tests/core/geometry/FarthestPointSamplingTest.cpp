// SPDX-License-Identifier: MIT
// Farthest point sampling: hand-made cases with known picks, a plain transliteration of Open3D
// 0.16's loop on random, tied and duplicated clouds, and Open3D itself (Debian's
// python3-open3d, through open3d_fps.py) on a real SemanticKITTI scan.

#include "core/base/Error.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/io/ScanIo.h"
#include "tests/support/TestData.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace lidistill;
namespace fs = std::filesystem;

namespace {

// Open3D 0.16 PointCloud::FarthestPointDownSample, line for line, returning the indices.
std::vector<std::size_t> open3dLoop(const std::vector<Vec3f>& xyz, std::size_t count) {
    std::vector<std::size_t> picks;
    if (count == 0) {
        return picks;
    }
    if (count == xyz.size()) {
        picks.resize(count);
        std::iota(picks.begin(), picks.end(), std::size_t{0});
        return picks;
    }
    std::vector<double> distances(xyz.size(), std::numeric_limits<double>::infinity());
    std::size_t farthest = 0;
    for (std::size_t i = 0; i < count; ++i) {
        picks.push_back(farthest);
        const Vec3f& s = xyz[farthest];
        double maxDist = 0;
        for (std::size_t j = 0; j < xyz.size(); ++j) {
            const double dx = double(xyz[j][0]) - double(s[0]);
            const double dy = double(xyz[j][1]) - double(s[1]);
            const double dz = double(xyz[j][2]) - double(s[2]);
            const double d = (dx * dx + dy * dy) + dz * dz;
            distances[j] = std::min(distances[j], d);
            if (distances[j] > maxDist) {
                maxDist = distances[j];
                farthest = j;
            }
        }
    }
    return picks;
}

// LiDiff's partial-scan range filter: 3.5 < |p| < 50 m.
PointCloud lidiffRange(PointCloud cloud) {
    std::vector<bool> keep(cloud.size());
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        const auto& p = cloud.xyz[i];
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        keep[i] = r > 3.5 && r < 50.0;
    }
    cloud.filter(keep);
    return cloud;
}

PointCloud realScan() {
    return lidiffRange(io::readKittiBin(test::semanticKittiSeq00() / "velodyne" / "000000.bin"));
}

std::string python() {
    if (const char* p = std::getenv("LIDISTILL_PYTHON"); p && *p) {
        return p;
    }
    return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

fs::path script() {
    const auto fromEnv = test::sourceDir() / "tests" / "core" / "geometry" / "open3d_fps.py";
    return fs::exists(fromEnv) ? fromEnv : fs::path(__FILE__).parent_path() / "open3d_fps.py";
}

enum class Ref { Ok, NoOpen3d, Failed };

// Runs open3d_fps.py; status 3 means numpy/open3d is missing (the caller skips).
Ref runOpen3d(const std::string& mode, const PointCloud& cloud, std::size_t count,
              const fs::path& out, std::string& error, const std::string& extra = "") {
    const fs::path dir = out.parent_path();
    const fs::path in = dir / "in.bin";
    io::writeKittiBin(in, cloud);
    const fs::path err = dir / "stderr.txt";
    const std::string cmd = "'" + python() + "' '" + script().string() + "' " + mode + " '" +
                            in.string() + "' " + std::to_string(count) + " '" + out.string() +
                            "' " + extra + " 2>'" + err.string() + "'";
    const int status = std::system(cmd.c_str());
    std::ifstream e(err);
    error = cmd + "\n" + std::string(std::istreambuf_iterator<char>(e), {});
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        return Ref::NoOpen3d;
    }
    return status == 0 ? Ref::Ok : Ref::Failed;
}

template <typename T>
std::vector<T> readRaw(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::vector<T> v(fs::exists(file) ? fs::file_size(file) / sizeof(T) : 0);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
    return v;
}

// Compares our sample with Open3D's returned points, row by row, exactly.
void expectSameAsOpen3d(const PointCloud& ours, const std::vector<double>& theirs) {
    ASSERT_EQ(theirs.size(), ours.size() * 3)
        << "Open3D returned " << theirs.size() / 3 << " points, we " << ours.size();
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
        for (int a = 0; a < 3; ++a) {
            if (double(ours.xyz[i][a]) != theirs[3 * i + a]) {
                if (++mismatches <= 5) {
                    ADD_FAILURE() << "point " << i << " axis " << a << ": ours " << ours.xyz[i][a]
                                  << ", Open3D " << theirs[3 * i + a];
                }
            }
        }
    }
    EXPECT_EQ(mismatches, 0u);
}

std::vector<Vec3f> randomCloud(std::size_t n, std::uint32_t seed, float quantum = 0.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-20.f, 20.f);
    std::vector<Vec3f> pts(n);
    for (auto& p : pts) {
        p = {u(rng), u(rng), u(rng) * 0.1f};
        if (quantum > 0.f) {
            for (auto& c : p) {
                c = std::round(c / quantum) * quantum;
            }
        }
    }
    return pts;
}

class RecordingSink : public ProgressSink {
public:
    void report(double fraction, std::string_view) override { m_fractions.push_back(fraction); }
    bool cancelled() const override { return m_fractions.size() >= m_cancelAfter; }
    std::vector<double> m_fractions;
    std::size_t m_cancelAfter = std::numeric_limits<std::size_t>::max();
};

}  // namespace

TEST(FarthestPointSampling, FirstPickIsIndexZeroThenTheFarthest) {
    // Index 0 is in the middle; a sampler seeded elsewhere (or at the extreme) differs.
    const std::vector<Vec3f> pts = {{0, 0, 0}, {1, 0, 0}, {-3, 0, 0}, {0, 2, 0}, {5, 5, 0}};
    const auto picks = geometry::farthestPointIndices(pts, 4);
    EXPECT_EQ(picks, (std::vector<std::size_t>{0, 4, 2, 3}));
}

TEST(FarthestPointSampling, TiesGoToTheLowestIndex) {
    // After 0: 2, 3, 4 are all 4 m^2 away -> 2. After 2: 3 and 4 still tie at 4 -> 3.
    const std::vector<Vec3f> pts = {{0, 0, 0}, {0.5f, 0, 0}, {0, 2, 0}, {2, 0, 0}, {0, -2, 0}};
    EXPECT_EQ(geometry::farthestPointIndices(pts, 4), (std::vector<std::size_t>{0, 2, 3, 4}));
    EXPECT_EQ(geometry::farthestPointIndices(pts, 3), (std::vector<std::size_t>{0, 2, 3}));
}

TEST(FarthestPointSampling, OnlyDuplicatesLeftRepeatsTheLastPick) {
    // LiDiff repeats a short scan element-wise (p0, p0, p1, p1, ...) before sampling.
    const std::vector<Vec3f> pts = {{0, 0, 0}, {0, 0, 0}, {1, 0, 0},
                                    {1, 0, 0}, {2, 0, 0}, {2, 0, 0}};
    EXPECT_EQ(geometry::farthestPointIndices(pts, 5), (std::vector<std::size_t>{0, 4, 2, 2, 2}));
    // Open3D's result keeps each picked point once, in input order (checked with 0.16.1).
    PointCloud cloud;
    cloud.xyz = pts;
    const PointCloud out = geometry::farthestPointSample(cloud, 5);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out.xyz[0][0], 0.f);
    EXPECT_EQ(out.xyz[1][0], 1.f);
    EXPECT_EQ(out.xyz[2][0], 2.f);
}

TEST(FarthestPointSampling, CountZeroAllAndTooMany) {
    const auto pts = randomCloud(50, 3);
    EXPECT_TRUE(geometry::farthestPointIndices(pts, 0).empty());
    // Open3D copies the cloud when asked for all of it: input order, no sampling.
    std::vector<std::size_t> all(50);
    std::iota(all.begin(), all.end(), std::size_t{0});
    EXPECT_EQ(geometry::farthestPointIndices(pts, 50), all);
    EXPECT_NE(geometry::farthestPointIndices(pts, 49),
              std::vector<std::size_t>(all.begin(), all.end() - 1));
    try {
        geometry::farthestPointIndices(pts, 51);
        FAIL() << "51 of 50 points accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("51"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("50"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(geometry::farthestPointIndices({}, 0).empty());
    EXPECT_THROW(geometry::farthestPointIndices({}, 1), InvalidArgument);
    PointCloud cloud;
    cloud.xyz = pts;
    cloud.intensity.assign(50, 0.5f);
    EXPECT_TRUE(geometry::farthestPointSample(cloud, 0).empty());
    const PointCloud copy = geometry::farthestPointSample(cloud, 50);
    EXPECT_EQ(copy.xyz, cloud.xyz);
    EXPECT_EQ(copy.intensity, cloud.intensity);
}

TEST(FarthestPointSampling, AttributesFollowTheirPoints) {
    PointCloud cloud;
    cloud.xyz = randomCloud(3000, 11);
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        cloud.intensity.push_back(static_cast<float>(i) * 0.25f);
        cloud.label.push_back(static_cast<std::uint32_t>(i * 7 + (i << 16)));
        cloud.ring.push_back(static_cast<std::uint16_t>(i % 64));
    }
    const auto picks = geometry::farthestPointIndices(cloud.xyz, 700);
    std::vector<std::size_t> sorted(picks);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    ASSERT_EQ(sorted.size(), 700u);  // distinct random points: no repeats
    const PointCloud out = geometry::farthestPointSample(cloud, 700);
    ASSERT_EQ(out.size(), 700u);
    ASSERT_EQ(out.intensity.size(), 700u);
    ASSERT_EQ(out.label.size(), 700u);
    ASSERT_EQ(out.ring.size(), 700u);
    for (std::size_t k = 0; k < out.size(); ++k) {
        const std::size_t i = sorted[k];
        EXPECT_EQ(out.xyz[k], cloud.xyz[i]);
        EXPECT_EQ(out.intensity[k], cloud.intensity[i]);
        EXPECT_EQ(out.label[k], cloud.label[i]);
        EXPECT_EQ(out.ring[k], cloud.ring[i]);
    }
    PointCloud bad = cloud;
    bad.ring.pop_back();
    EXPECT_THROW(geometry::farthestPointSample(bad, 10), InvalidArgument);
}

TEST(FarthestPointSampling, NonFiniteCoordinateNamesThePoint) {
    auto pts = randomCloud(20, 5);
    pts[7][1] = std::numeric_limits<float>::quiet_NaN();
    try {
        geometry::farthestPointIndices(pts, 5);
        FAIL() << "NaN accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("point 7 "), std::string::npos) << e.what();
    }
    pts[7][1] = 0.f;
    pts[13][2] = -std::numeric_limits<float>::infinity();
    try {
        geometry::farthestPointIndices(pts, 5);
        FAIL() << "infinity accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("point 13 "), std::string::npos) << e.what();
    }
}

TEST(FarthestPointSampling, ReportsProgressAndHonoursCancel) {
    const auto pts = randomCloud(5000, 8);
    RecordingSink sink;
    const auto picks = geometry::farthestPointIndices(pts, 2000, &sink);
    EXPECT_EQ(picks.size(), 2000u);
    ASSERT_GE(sink.m_fractions.size(), 5u);
    EXPECT_TRUE(std::is_sorted(sink.m_fractions.begin(), sink.m_fractions.end()));
    EXPECT_EQ(sink.m_fractions.back(), 1.0);

    RecordingSink cancel;
    cancel.m_cancelAfter = 2;
    EXPECT_THROW(geometry::farthestPointIndices(pts, 2000, &cancel), Cancelled);
    EXPECT_EQ(cancel.m_fractions.size(), 2u);  // stopped at the next checkpoint, not at the end
    PointCloud cloud;
    cloud.xyz = pts;
    RecordingSink cancelNow;
    cancelNow.m_cancelAfter = 0;
    EXPECT_THROW(geometry::farthestPointSample(cloud, 100, &cancelNow), Cancelled);
}

// The box pruning and the tree's tie-breaking against the plain loop, on clouds built to
// produce ties across boxes (integer lattices, coarse quantisation) and duplicates.
TEST(FarthestPointSampling, MatchesOpen3dLoopOnTiedAndDuplicatedClouds) {
    std::vector<std::vector<Vec3f>> clouds;
    std::vector<Vec3f> lattice;
    for (int x = 0; x < 20; ++x) {
        for (int y = 0; y < 20; ++y) {
            for (int z = 0; z < 10; ++z) {
                lattice.push_back({float(x), float(y), float(z)});
            }
        }
    }
    clouds.push_back(lattice);
    std::shuffle(lattice.begin(), lattice.end(), std::mt19937(4));
    clouds.push_back(lattice);
    clouds.push_back(randomCloud(6000, 21));
    clouds.push_back(randomCloud(6000, 22, 0.5f));  // many exact duplicates and ties
    {
        auto base = randomCloud(700, 23);  // element-wise repeat x3, as LiDiff's short scans
        std::vector<Vec3f> rep;
        for (const auto& p : base) {
            rep.insert(rep.end(), 3, p);
        }
        clouds.push_back(rep);
    }
    {
        // Dense near the sensor, sparse far, tiny extent in one axis: LiDAR-like boxes.
        std::mt19937 rng(24);
        std::exponential_distribution<float> r(0.1f);
        std::uniform_real_distribution<float> a(0.f, 6.2831853f);
        std::vector<Vec3f> scan(8000);
        for (auto& p : scan) {
            const float rr = 3.5f + r(rng);
            const float aa = a(rng);
            p = {rr * std::cos(aa), rr * std::sin(aa), -1.7f};
        }
        clouds.push_back(scan);
    }
    for (std::size_t c = 0; c < clouds.size(); ++c) {
        const auto& pts = clouds[c];
        for (std::size_t count :
             {std::size_t{1}, std::size_t{2}, std::size_t{37}, pts.size() / 2, pts.size() - 1}) {
            EXPECT_EQ(geometry::farthestPointIndices(pts, count), open3dLoop(pts, count))
                << "cloud " << c << ", " << count << " picks";
        }
    }
}

TEST(FarthestPointSampling, RealScanMatchesOpen3dLoop) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const PointCloud scan = realScan();
    ASSERT_GT(scan.size(), 50000u);
    EXPECT_EQ(geometry::farthestPointIndices(scan.xyz, 2000), open3dLoop(scan.xyz, 2000));
}

TEST(FarthestPointSampling, RealScanMatchesOpen3d) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const PointCloud scan = realScan();
    ASSERT_GE(scan.size(), 18000u);
    const fs::path dir = test::scratchDir();
    for (std::size_t count : {std::size_t{2000}, std::size_t{18000}}) {
        std::string error;
        const fs::path out = dir / ("open3d_" + std::to_string(count) + ".f64");
        const Ref ref = runOpen3d("sample", scan, count, out, error);
        if (ref == Ref::NoOpen3d) {
            GTEST_SKIP() << "python3 with open3d not available: " << error;
        }
        ASSERT_EQ(ref, Ref::Ok) << error;
        const PointCloud ours = geometry::farthestPointSample(scan, count);
        EXPECT_EQ(ours.size(), count);
        expectSameAsOpen3d(ours, readRaw<double>(out));
        EXPECT_EQ(ours.intensity.size(), ours.size());
    }
}

TEST(FarthestPointSampling, PickOrderMatchesOpen3d) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    // Every 20th point of the scan, duplicates dropped, so that Open3D's points map to indices.
    const PointCloud scan = realScan();
    PointCloud sub;
    std::set<Vec3f> seen;
    for (std::size_t i = 0; i < scan.size(); i += 20) {
        if (seen.insert(scan.xyz[i]).second) {
            sub.xyz.push_back(scan.xyz[i]);
        }
    }
    const std::size_t count = 300;
    std::string error;
    const fs::path out = test::scratchDir() / "order.i64";
    const Ref ref = runOpen3d("order", sub, count, out, error);
    if (ref == Ref::NoOpen3d) {
        GTEST_SKIP() << "python3 with open3d not available: " << error;
    }
    ASSERT_EQ(ref, Ref::Ok) << error;
    const auto theirs = readRaw<std::int64_t>(out);
    const auto ours = geometry::farthestPointIndices(sub.xyz, count);
    ASSERT_EQ(theirs.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(ours[i], static_cast<std::size_t>(theirs[i])) << "pick " << i;
    }
}

TEST(FarthestPointSampling, RepeatedShortScanMatchesOpen3d) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    // LiDiff's short-scan path: repeat element-wise ceil(18000 / n) times, then sample 18000
    // (reference §1.3). Here 6000 points x 3: Open3D returns each distinct point once.
    const PointCloud scan = realScan();
    PointCloud rep;
    for (std::size_t i = 0; i < scan.size() && rep.size() < 18000; i += 17) {
        for (int k = 0; k < 3; ++k) {
            rep.xyz.push_back(scan.xyz[i]);
            rep.intensity.push_back(scan.intensity[i]);
        }
    }
    std::string error;
    const fs::path out = test::scratchDir() / "rep.f64";
    const std::size_t count = rep.size() - 1;
    const Ref ref = runOpen3d("sample", rep, count, out, error);
    if (ref == Ref::NoOpen3d) {
        GTEST_SKIP() << "python3 with open3d not available: " << error;
    }
    ASSERT_EQ(ref, Ref::Ok) << error;
    const PointCloud ours = geometry::farthestPointSample(rep, count);
    EXPECT_EQ(ours.size(), rep.size() / 3);
    expectSameAsOpen3d(ours, readRaw<double>(out));
}

TEST(FarthestPointSampling, RoundingOfExactTiesMatchesOpen3d) {
    // The six permutations of (x, y, z) are exactly equally far from the origin; only the
    // rounding of Open3D's (dx*dx + dy*dy) + dz*dz tells them apart (or ties them, and the
    // lowest index wins). A float distance or another summation order picks others.
    constexpr std::size_t kGroup = 7;
    constexpr std::size_t kCount = 3;
    // Magnitudes from 2^-24 to 2^5: a float squares exactly in double, so only sums of
    // squares of very different sizes round, and then the order of the additions matters.
    std::mt19937 rng(31);
    std::uniform_real_distribution<float> mantissa(1.f, 2.f);
    std::uniform_int_distribution<int> exponent(-24, 5);
    const auto coordinate = [&] {
        return std::ldexp(mantissa(rng), exponent(rng)) * (rng() % 2 ? 1.f : -1.f);
    };
    PointCloud all;
    std::vector<std::vector<Vec3f>> groups;
    for (int g = 0; g < 3000; ++g) {
        const float c[3] = {coordinate(), coordinate(), coordinate()};
        std::vector<Vec3f> group = {{0, 0, 0}};
        int perm[3] = {0, 1, 2};
        do {
            group.push_back({c[perm[0]], c[perm[1]], c[perm[2]]});
        } while (std::next_permutation(perm, perm + 3));
        all.xyz.insert(all.xyz.end(), group.begin(), group.end());
        groups.push_back(std::move(group));
    }
    std::string error;
    const fs::path out = test::scratchDir() / "groups.f64";
    const Ref ref = runOpen3d("groups", all, kCount, out, error, std::to_string(kGroup));
    if (ref == Ref::NoOpen3d) {
        GTEST_SKIP() << "python3 with open3d not available: " << error;
    }
    ASSERT_EQ(ref, Ref::Ok) << error;
    PointCloud ours;
    for (const auto& group : groups) {
        PointCloud cloud;
        cloud.xyz = group;
        const PointCloud s = geometry::farthestPointSample(cloud, kCount);
        ours.xyz.insert(ours.xyz.end(), s.xyz.begin(), s.xyz.end());
    }
    expectSameAsOpen3d(ours, readRaw<double>(out));
}
