// SPDX-License-Identifier: MIT
// Renders known clouds into the VTK-in-Qt viewport with a fixed camera and checks pixels.

#include "core/io/ScanIo.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/render/AxisTriad.h"
#include "ui/render/CameraState.h"
#include "ui/render/CloudToVtk.h"
#include "ui/render/ColorMaps.h"
#include "ui/render/PointCloudView.h"
#include "ui/render/SemanticKittiPalette.h"

#include <QApplication>
#include <QMainWindow>
#include <QSignalSpy>
#include <QTest>

#include <vtkCamera.h>
#include <vtkFloatArray.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkRenderer.h>

#include <cmath>
#include <memory>
#include <set>
#include <tuple>

using namespace lidistill;
using namespace lidistill::ui;

namespace {

constexpr int kSide = 300;

/// Shows `view` at `size` and waits until it is on screen; false if it never was.
bool showView(PointCloudView& view, QSize size = QSize(kSide, kSide)) {
    view.resize(size);
    view.show();
    return QTest::qWaitForWindowExposed(&view);
}

/// Hides the legend and the axis triad, so pixel counts see only the cloud.
void hideOverlays(PointCloudView& view) {
    view.setLegendVisible(false);
    view.setAxisTriadVisible(false);
}

/// A dense square patch of points on z = `z(x)`, x and y in [-1, 1], all of one class.
PointCloud patch(std::uint16_t cls, float (*z)(float) = nullptr) {
    PointCloud c;
    constexpr int kN = 400;  // 0.005 m spacing: about 0.4 px at the camera below
    for (int i = 0; i < kN; ++i) {
        for (int j = 0; j < kN; ++j) {
            const float x = -1.f + 2.f * static_cast<float>(i) / (kN - 1);
            const float y = -1.f + 2.f * static_cast<float>(j) / (kN - 1);
            c.xyz.push_back({x, y, z ? z(x) : 0.f});
            c.intensity.push_back(0.5f);
            c.label.push_back(cls | (7u << 16));  // an instance id must not change the colour
        }
    }
    return c;
}

/// Top-down orthographic camera: 4 m visible vertically, +x to the right.
void topDownCamera(PointCloudView& view) {
    vtkCamera* cam = view.renderer()->GetActiveCamera();
    cam->ParallelProjectionOn();
    cam->SetFocalPoint(0, 0, 0);
    cam->SetPosition(0, 0, 10);
    cam->SetViewUp(0, 1, 0);
    cam->SetParallelScale(2.0);
    view.renderer()->ResetCameraClippingRange();
}

QColor backgroundOf(PointCloudView& view) {
    double bg[3];
    view.renderer()->GetBackground(bg);
    return QColor::fromRgbF(static_cast<float>(bg[0]), static_cast<float>(bg[1]),
                            static_cast<float>(bg[2]));
}

bool near(QColor a, QColor b, int tol) {
    return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
           std::abs(a.blue() - b.blue()) <= tol;
}

QColor fromUnit(const std::array<double, 3>& c) {
    return QColor::fromRgbF(static_cast<float>(c[0]), static_cast<float>(c[1]),
                            static_cast<float>(c[2]));
}

}  // namespace

class RenderTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { LIDISTILL_REQUIRE_GL(); }

    void paletteMatchesYamlBgr() {
        // semantic-kitti.yaml stores BGR: car is [245, 150, 100] there, so RGB (100, 150, 245).
        QCOMPARE(semanticKittiColor(10), (Rgb8{100, 150, 245}));
        QCOMPARE(semanticKittiColor(50), (Rgb8{255, 200, 0}));      // building [0, 200, 255]
        QCOMPARE(semanticKittiColor(1), (Rgb8{255, 0, 0}));         // outlier [0, 0, 255]
        QCOMPARE(semanticKittiColor(252), semanticKittiColor(10));  // moving-car as car
        QCOMPARE(semanticKittiColor(259), (Rgb8{0, 0, 255}));       // moving-other-vehicle
        QCOMPARE(semanticKittiColor(2), kUnknownClassColor);
        QCOMPARE(semanticKittiClasses().size(), std::size_t{34});
        QCOMPARE(QString::fromUtf8(semanticKittiName(72).data()), QStringLiteral("terrain"));
    }

    void singleClassPatchHasPaletteColourAndKnownArea() {
        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        view.setColorMode(ColorMode::SemanticClass);
        view.setCloud(toPolyData(patch(10)));
        topDownCamera(view);
        const QImage img = view.grabFramebuffer();
        QCOMPARE(img.size(), QSize(kSide, kSide) * view.devicePixelRatio());

        const QColor centre = img.pixelColor(img.width() / 2, img.height() / 2);
        if (!near(centre, QColor(100, 150, 245), 2)) {
            QFAIL(qPrintable(QStringLiteral("centre pixel %1, expected car (100,150,245); see %2")
                                 .arg(centre.name(), test::saveForInspection(img, "patch"))));
        }
        // The patch spans half the view's width and height: a quarter of the pixels, plus a
        // one-pixel rim from the 2-pixel points.
        const double share = test::litShare(img, backgroundOf(view));
        QVERIFY2(share > 0.23 && share < 0.28, qPrintable(QString::number(share)));
        // Corners stay background.
        QVERIFY(near(img.pixelColor(5, 5), backgroundOf(view), 3));
    }

    void heightModeMapsThroughTurbo() {
        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        // Left half at z = 0, right half at z = 1: the robust range is exactly [0, 1].
        view.setCloud(toPolyData(patch(40, [](float x) { return x < 0.f ? 0.f : 1.f; })));
        QCOMPARE(view.cloud().heightRange[0], 0.0);
        QCOMPARE(view.cloud().heightRange[1], 1.0);
        view.setColorMode(ColorMode::Height);
        topDownCamera(view);
        QImage img = view.grabFramebuffer();
        const int y = img.height() / 2;
        const QColor left = img.pixelColor(img.width() * 3 / 8, y);
        const QColor right = img.pixelColor(img.width() * 5 / 8, y);
        // The table skips turbo's near-black start (invisible on the dark background).
        QVERIFY2(near(left, fromUnit(turbo(kTurboStart)), 3), qPrintable(left.name()));
        QVERIFY2(near(right, fromUnit(turbo(1.0)), 3), qPrintable(right.name()));

        // Same cloud by class: road is magenta (255, 0, 255) in the official palette.
        view.setColorMode(ColorMode::SemanticClass);
        img = view.grabFramebuffer();
        QVERIFY2(near(img.pixelColor(img.width() / 2, y), QColor(255, 0, 255), 2),
                 qPrintable(img.pixelColor(img.width() / 2, y).name()));
    }

    void rangeModeColoursByDistanceFromTheSensor() {
        // Left half 10 m below the sensor, right half 20 m below. Height says left is high;
        // range says left is near: the two modes must give opposite ends of the colormap.
        PointCloud c = patch(40, [](float x) { return x < 0.f ? -10.f : -20.f; });
        const CloudPolyData poly = toPolyData(c);
        // Range is the Euclidean distance from the origin, point by point.
        auto* ranges =
            vtkFloatArray::SafeDownCast(poly.polyData->GetPointData()->GetArray(kRangeArray));
        QVERIFY(ranges);
        for (vtkIdType i : {vtkIdType{0}, vtkIdType{12345}, vtkIdType{159999}}) {
            const Vec3f& p = c.xyz[static_cast<std::size_t>(i)];
            const double expected =
                std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
            QVERIFY(std::abs(ranges->GetValue(i) - expected) < 1e-4);
        }
        QVERIFY(std::abs(poly.rangeRange[0] - 10.0) < 0.1);
        QVERIFY(std::abs(poly.rangeRange[1] - 20.05) < 0.05);

        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        view.setCloud(poly);
        topDownCamera(view);
        view.setColorMode(ColorMode::Range);
        QImage img = view.grabFramebuffer();
        const int y = img.height() / 2;
        QColor left = img.pixelColor(img.width() * 3 / 8, y);
        QColor right = img.pixelColor(img.width() * 5 / 8, y);
        QVERIFY2(near(left, fromUnit(turbo(kTurboStart)), 4), qPrintable(left.name()));
        QVERIFY2(near(right, fromUnit(turbo(1.0)), 4), qPrintable(right.name()));
        view.setColorMode(ColorMode::Height);
        img = view.grabFramebuffer();
        left = img.pixelColor(img.width() * 3 / 8, y);
        right = img.pixelColor(img.width() * 5 / 8, y);
        QVERIFY2(near(left, fromUnit(turbo(1.0)), 4), qPrintable(left.name()));
        QVERIFY2(near(right, fromUnit(turbo(kTurboStart)), 4), qPrintable(right.name()));
    }

    void instanceModeGivesEachObjectItsOwnColour() {
        // Left half: car instance 7; right half: car instance 8; one row of road (no instance).
        PointCloud c = patch(10);
        for (std::size_t i = 0; i < c.size(); ++i) {
            const Vec3f& p = c.xyz[i];
            if (p[1] < -0.9f) {
                c.label[i] = 40;  // road, instance 0
            } else {
                c.label[i] = 10u | ((p[0] < 0.f ? 7u : 8u) << 16);
            }
        }
        const CloudPolyData poly = toPolyData(c);
        QCOMPARE(poly.instanceCount, std::size_t{2});
        const Rgb8 a = instanceColor(10u | (7u << 16));
        const Rgb8 b = instanceColor(10u | (8u << 16));
        QVERIFY(!(a == b));
        QCOMPARE(instanceColor(40), kNoInstanceColor);
        QCOMPARE(instanceColor(10u | (7u << 16)), a);  // stable
        PointCloudView view;
        QVERIFY(showView(view));
        view.setCloud(poly);
        topDownCamera(view);
        view.setColorMode(ColorMode::Instance);
        const QImage img = view.grabFramebuffer();
        const QColor left = img.pixelColor(img.width() * 3 / 8, img.height() / 2);
        const QColor right = img.pixelColor(img.width() * 5 / 8, img.height() / 2);
        // y = -1 is the bottom edge of the patch (y up in this camera): row 223 of 300.
        const QColor road = img.pixelColor(img.width() / 2, img.height() * 3 / 4 - 1);
        QVERIFY2(near(left, QColor(a.r, a.g, a.b), 2), qPrintable(left.name()));
        QVERIFY2(near(right, QColor(b.r, b.g, b.b), 2), qPrintable(right.name()));
        QVERIFY2(near(road, QColor(kNoInstanceColor.r, kNoInstanceColor.g, kNoInstanceColor.b), 2),
                 qPrintable(road.name()));
    }

    void pointSizeChangesCoverage() {
        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        // A sparse grid: 21 x 21 points, 0.1 m apart (7.5 px at this camera).
        PointCloud sparse;
        for (int i = -10; i <= 10; ++i) {
            for (int j = -10; j <= 10; ++j) {
                sparse.xyz.push_back({0.1f * i, 0.1f * j, 0.f});
            }
        }
        view.setCloud(toPolyData(sparse));
        topDownCamera(view);
        const QColor bg = backgroundOf(view);
        const double small = test::litShare(view.grabFramebuffer(), bg);
        QSignalSpy spy(&view, &PointCloudView::pointSizeChanged);
        QTest::keyClick(&view, Qt::Key_Plus);
        QTest::keyClick(&view, Qt::Key_Plus);
        QCOMPARE(view.pointSize(), 4.0);
        QCOMPARE(spy.count(), 2);
        const double big = test::litShare(view.grabFramebuffer(), bg);
        // 441 points of 2x2 vs 4x4 pixels: four times the area.
        const double px = kSide * kSide;
        QVERIFY2(std::abs(small * px - 441 * 4) < 100, qPrintable(QString::number(small * px)));
        QVERIFY2(std::abs(big * px - 441 * 16) < 400, qPrintable(QString::number(big * px)));
        QTest::keyClick(&view, Qt::Key_Minus);
        QCOMPARE(view.pointSize(), 3.0);
    }

    void realScanRendersPaletteColours() {
        const auto seq = test::semanticKittiSeq00();
        if (!std::filesystem::exists(seq)) QSKIP("shared data not found");
        const PointCloud scan =
            io::readKittiScan(seq / "velodyne" / "000000.bin", seq / "labels" / "000000.label");
        PointCloudView view;
        QVERIFY(showView(view, QSize(600, 400)));
        view.setColorMode(ColorMode::SemanticClass);
        view.setCloud(toPolyData(scan));
        QVERIFY(view.cloud().hasLabels);
        QCOMPARE(view.cloud().pointCount, scan.size());
        view.resetCamera();
        view.setLegendVisible(false);
        view.setAxisTriadVisible(false);  // measured areas exclude the triad
        QImage img = view.grabFramebuffer();
        const QRect scene = img.rect();
        const double share = test::litShare(img, backgroundOf(view), 8, scene);
        QVERIFY2(share > 0.15 && share < 0.85,
                 qPrintable(QStringLiteral("%1, see %2")
                                .arg(share)
                                .arg(test::saveForInspection(img, "frame0"))));
        // Unlit points: nearly every lit pixel is exactly one of the palette's colours.
        std::set<QRgb> palette;
        for (const std::uint16_t cls : semanticKittiClasses()) {
            const Rgb8 c = semanticKittiColor(cls);
            palette.insert(qRgb(c.r, c.g, c.b));
        }
        const QColor bg = backgroundOf(view);
        long lit = 0;
        long inPalette = 0;
        std::set<QRgb> seen;
        for (int y = 40; y < scene.height(); ++y) {  // below the title
            for (int x = 0; x < scene.width(); ++x) {
                const QColor c = img.pixelColor(x, y);
                if (near(c, bg, 8)) continue;
                ++lit;
                if (palette.count(c.rgb() | 0xff000000u)) {
                    ++inPalette;
                    seen.insert(c.rgb());
                }
            }
        }
        QVERIFY(lit > 0);
        QVERIFY2(static_cast<double>(inPalette) / lit > 0.95,
                 qPrintable(QString::number(static_cast<double>(inPalette) / lit)));
        QVERIFY2(seen.size() >= 5, "a street scene shows at least five classes");
        // The legend lists the classes present, at the right.
        const QRect legendArea(img.width() * 7 / 10, 0, img.width() * 3 / 10, img.height());
        const double withoutLegend = test::litShare(img, bg, 8, legendArea);
        view.setLegendVisible(true);
        img = view.grabFramebuffer();
        QVERIFY(test::litShare(img, bg, 8, legendArea) > withoutLegend + 0.02);
    }

    void birdsEyeIsTopDownOrthographicAndToggles() {
        // Patch A ahead of the sensor (x 10..12), patch B to its left (y 10..12), a lone
        // point behind on the right: the frame box is [-12, 12]^2 around the sensor.
        PointCloud c;
        for (int i = 0; i <= 40; ++i) {
            for (int j = 0; j <= 40; ++j) {
                const float u = 10.f + 0.05f * i;
                const float v = -1.f + 0.05f * j;
                c.xyz.push_back({u, v, 0.f});
                c.xyz.push_back({v, u, 0.f});
            }
        }
        c.xyz.push_back({-12.f, -12.f, 0.f});
        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        view.setCloud(toPolyData(c));
        vtkCamera* cam = view.renderer()->GetActiveCamera();
        const CameraState before = captureCamera(cam);
        QVERIFY(!view.isBirdsEye());

        view.toggleBirdsEye();
        QVERIFY(view.isBirdsEye());
        double dop[3];
        cam->GetDirectionOfProjection(dop);
        QVERIFY(std::abs(dop[2] + 1.0) < 1e-9);
        double up[3];
        cam->GetViewUp(up);
        QVERIFY(std::abs(up[0] - 1.0) < 1e-9);
        QVERIFY(std::abs(cam->GetParallelScale() - 12.0 * 1.05) < 1e-6);  // fits the box
        const QImage img = view.grabFramebuffer();
        const QColor bg = backgroundOf(view);
        // Forward is up on screen, left is left: A at the top centre, B at the left middle.
        const auto lit = [&](int x, int y) {
            return test::litShare(img, bg, 8, QRect(x, y, 20, 18));
        };
        const QString where = test::saveForInspection(img, "bev");
        QVERIFY2(lit(140, 10) > 0.8, qPrintable(where));    // A
        QVERIFY2(lit(10, 141) > 0.8, qPrintable(where));    // B
        QVERIFY2(lit(270, 141) < 0.01, qPrintable(where));  // mirror of B (right): empty
        QVERIFY2(lit(140, 272) < 0.01, qPrintable(where));  // mirror of A (behind): empty

        view.toggleBirdsEye();  // back to the camera it came from
        QVERIFY(!view.isBirdsEye());
        const CameraState after = captureCamera(cam);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(std::abs(after.position[i] - before.position[i]) < 1e-9);
            QVERIFY(std::abs(after.focalPoint[i] - before.focalPoint[i]) < 1e-9);
            QVERIFY(std::abs(after.viewUp[i] - before.viewUp[i]) < 1e-9);
        }
        QCOMPARE(after.viewAngle, before.viewAngle);
    }

    void presetsLookAlongTheAxes() {
        PointCloudView view;
        QVERIFY(showView(view));
        view.setCloud(toPolyData(patch(40)));
        vtkCamera* cam = view.renderer()->GetActiveCamera();
        const auto check = [&](ViewPreset p, std::array<double, 3> dir, std::array<double, 3> up) {
            view.setViewPreset(p);
            double d[3];
            double u[3];
            cam->GetDirectionOfProjection(d);
            cam->GetViewUp(u);
            for (int i = 0; i < 3; ++i) {
                if (std::abs(d[i] - dir[i]) > 1e-9 || std::abs(u[i] - up[i]) > 1e-9) return false;
            }
            return true;
        };
        QVERIFY(check(ViewPreset::Front, {1, 0, 0}, {0, 0, 1}));
        QVERIFY(check(ViewPreset::Side, {0, 1, 0}, {0, 0, 1}));
        QVERIFY(check(ViewPreset::Top, {0, 0, -1}, {1, 0, 0}));
        QVERIFY(!view.isBirdsEye());  // presets keep the projection
        // Every preset frames the patch: it is in view, centred.
        const QImage img = view.grabFramebuffer();
        QVERIFY(!near(img.pixelColor(img.width() / 2, img.height() / 2), backgroundOf(view), 8));
    }

    void doubleClickSetsTheRotationCentre() {
        // Two small patches: one at the origin, one centred on (1, 0, 0).
        PointCloud c;
        for (int i = -10; i <= 10; ++i) {
            for (int j = -10; j <= 10; ++j) {
                c.xyz.push_back({0.02f * i, 0.02f * j, 0.f});
                c.xyz.push_back({1.f + 0.02f * i, 0.02f * j, 0.f});
            }
        }
        PointCloudView view;
        QVERIFY(showView(view));
        hideOverlays(view);  // measured areas exclude the legend and the triad
        view.setCloud(toPolyData(c));
        topDownCamera(view);  // 75 px per metre, x to the right
        vtkCamera* cam = view.renderer()->GetActiveCamera();
        QSignalSpy spy(&view, &PointCloudView::rotationCentreChanged);
        // Empty background: nothing picked, camera unchanged.
        QTest::mouseDClick(&view, Qt::LeftButton, {}, QPoint(40, 40));
        QCOMPARE(spy.count(), 0);
        double f[3];
        cam->GetFocalPoint(f);
        QCOMPARE(f[0], 0.0);
        // On the right patch (x = +1 m is 75 px right of the centre).
        QTest::mouseDClick(&view, Qt::LeftButton, {}, QPoint(kSide / 2 + 75, kSide / 2));
        QCOMPARE(spy.count(), 1);
        cam->GetFocalPoint(f);
        QVERIFY2(std::abs(f[0] - 1.0) < 0.05 && std::abs(f[1]) < 0.05 && std::abs(f[2]) < 1e-6,
                 qPrintable(QString("%1 %2 %3").arg(f[0]).arg(f[1]).arg(f[2])));
        double p[3];
        cam->GetPosition(p);
        QVERIFY(std::abs(p[0] - f[0]) < 1e-9 && std::abs(p[2] - 10.0) < 1e-9);  // same direction
        // The picked patch is now in the middle; the origin patch moved 75 px left.
        const QImage img = view.grabFramebuffer();
        const QColor bg = backgroundOf(view);
        const int shift = static_cast<int>(std::lround((f[0] - 1.0) * 75));
        QVERIFY(test::litShare(img, bg, 8, QRect(kSide / 2 - 5 + shift, kSide / 2 - 5, 10, 10)) >
                0.9);
        QVERIFY(test::litShare(img, bg, 8, QRect(kSide / 2 - 80 + shift, kSide / 2 - 5, 10, 10)) >
                0.9);
        QVERIFY(test::litShare(img, bg, 8, QRect(kSide / 2 + 70, kSide / 2 - 5, 10, 10)) < 0.01);
    }

    void axisTriadTurnsWithTheCamera() {
        PointCloudView view;
        QVERIFY(showView(view));
        view.setLegendVisible(false);
        view.setCloud(toPolyData(patch(10)));
        topDownCamera(view);  // x to the right, y up, z towards the viewer
        const int box = AxisTriad::kSidePixels;
        // Centroids of the clearly red, green and blue pixels in the bottom-left box.
        const auto centroids = [&](const QImage& img) {
            std::array<QPointF, 3> sum{};
            std::array<int, 3> n{};
            for (int y = img.height() - box; y < img.height(); ++y) {
                for (int x = 0; x < box; ++x) {
                    const QColor c = img.pixelColor(x, y);
                    const int r = c.red(), g = c.green(), b = c.blue();
                    const int k = (r > 110 && r > 2 * g && r > 2 * b)    ? 0
                                  : (g > 90 && g > 2 * r && g > 2 * b)   ? 1
                                  : (b > 110 && b > 2 * r && b > g + 40) ? 2
                                                                         : -1;
                    if (k < 0) continue;
                    sum[k] += QPointF(x, y);
                    ++n[k];
                }
            }
            std::array<QPointF, 3> mean{};
            for (int k = 0; k < 3; ++k) mean[k] = n[k] > 20 ? sum[k] / n[k] : QPointF(-1, -1);
            return std::make_pair(mean, n);
        };
        QImage img = view.grabFramebuffer();
        auto [m, n] = centroids(img);
        const QString where = test::saveForInspection(img, "triad");
        QVERIFY2(n[0] > 20 && n[1] > 20 && n[2] > 20,
                 qPrintable(QString("%1 %2 %3, see %4").arg(n[0]).arg(n[1]).arg(n[2]).arg(where)));
        // x points right: red lies right of green; y points up: green lies above red.
        QVERIFY2(m[0].x() > m[1].x() + 10, qPrintable(where));
        QVERIFY2(m[1].y() < m[0].y() - 10, qPrintable(where));
        // Looking along +y with z up: x still points right, and z now points up.
        vtkCamera* cam = view.renderer()->GetActiveCamera();
        cam->SetPosition(0, -10, 0);
        cam->SetViewUp(0, 0, 1);
        img = view.grabFramebuffer();
        std::tie(m, n) = centroids(img);
        QVERIFY2(n[0] > 20 && n[2] > 20, qPrintable(test::saveForInspection(img, "triad2")));
        QVERIFY(m[0].x() > m[2].x() + 10);  // x right of z
        QVERIFY(m[2].y() < m[0].y() - 10);  // z above x
        // Hidden: no coloured axis pixels left in the corner.
        view.setAxisTriadVisible(false);
        img = view.grabFramebuffer();
        std::tie(m, n) = centroids(img);
        QVERIFY2(n[0] + n[1] + n[2] < 5, qPrintable(QString::number(n[0] + n[1] + n[2])));
    }

    void lightBackgroundKeepsEverythingReadable() {
        PointCloudView view;
        QVERIFY(showView(view));
        view.setTitle("Scan");
        view.setAxisTriadVisible(false);
        view.setColorMode(ColorMode::SemanticClass);
        view.setCloud(toPolyData(patch(10)));
        topDownCamera(view);
        view.setLightBackground(true);
        QVERIFY(view.lightBackground());
        QImage img = view.grabFramebuffer();
        const QColor corner = img.pixelColor(img.width() - 3, img.height() - 3);
        QVERIFY2(corner.lightness() > 230, qPrintable(corner.name()));
        // Points keep their palette colour.
        QVERIFY(near(img.pixelColor(img.width() / 2, img.height() / 2), QColor(100, 150, 245), 2));
        // The title is dark text on the light background.
        int dark = 0;
        for (int y = 0; y < 30; ++y) {
            for (int x = 0; x < 80; ++x) dark += img.pixelColor(x, y).lightness() < 80 ? 1 : 0;
        }
        QVERIFY2(dark > 20, qPrintable(test::saveForInspection(img, "light")));
        // The class legend panel (top right) is light, with dark labels.
        const QColor panel = img.pixelColor(img.width() - 15, 14);
        QVERIFY2(panel.lightness() > 200, qPrintable(panel.name()));
        view.setLightBackground(false);
        img = view.grabFramebuffer();
        QVERIFY(img.pixelColor(img.width() - 3, img.height() - 3).lightness() < 50);
    }

    void linkedViewsShareTheCamera() {
        QWidget window;
        auto* a = new PointCloudView(&window);
        auto* b = new PointCloudView(&window);
        a->setGeometry(0, 0, kSide, kSide);
        b->setGeometry(kSide, 0, kSide, kSide);
        window.resize(2 * kSide, kSide);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        a->linkCamera(b);
        QCOMPARE(a->renderer()->GetActiveCamera(), b->renderer()->GetActiveCamera());
        a->setLegendVisible(false);
        a->setAxisTriadVisible(false);  // measured areas exclude the triad
        b->setLegendVisible(false);
        b->setAxisTriadVisible(false);  // measured areas exclude the triad
        a->setCloud(toPolyData(patch(10)));
        b->setCloud(toPolyData(patch(10)));
        topDownCamera(*a);
        const QImage before = b->grabFramebuffer();
        // Drag in view a: the trackball rotates the shared camera, so view b changes too.
        const QPoint c(kSide / 2, kSide / 2);
        QTest::mousePress(a, Qt::LeftButton, {}, c);
        for (int i = 1; i <= 10; ++i) {
            QMouseEvent move(QEvent::MouseMove, QPointF(c + QPoint(8 * i, 3 * i)),
                             a->mapToGlobal(QPointF(c + QPoint(8 * i, 3 * i))), Qt::NoButton,
                             Qt::LeftButton, Qt::NoModifier);
            QApplication::sendEvent(a, &move);
        }
        QTest::mouseRelease(a, Qt::LeftButton, {}, c + QPoint(80, 30));
        const QImage after = b->grabFramebuffer();
        const QColor bg = backgroundOf(*b);
        QVERIFY(std::abs(test::litShare(before, bg) - test::litShare(after, bg)) > 0.01);
        QCOMPARE(a->grabFramebuffer(), after);
    }

    void survivesResizeAndReparent() {
        auto view = std::make_unique<PointCloudView>();
        view->resize(200, 150);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view.get()));
        view->setLegendVisible(false);
        view->setAxisTriadVisible(false);  // measured areas exclude the triad
        view->setColorMode(ColorMode::SemanticClass);
        view->setCloud(toPolyData(patch(10)));
        topDownCamera(*view);
        view->resize(400, 300);
        QTest::qWait(20);
        QImage img = view->grabFramebuffer();
        QCOMPARE(img.size(), QSize(400, 300) * view->devicePixelRatio());
        QVERIFY(near(img.pixelColor(img.width() / 2, img.height() / 2), QColor(100, 150, 245), 2));
        // Reparenting into a new top-level window recreates the GL context.
        QMainWindow window;
        window.setCentralWidget(view.release());
        window.resize(320, 240);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* moved = static_cast<PointCloudView*>(window.centralWidget());
        img = moved->grabFramebuffer();
        QVERIFY(near(img.pixelColor(img.width() / 2, img.height() / 2), QColor(100, 150, 245), 2));
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();  // before QApplication, as the studio does
    QApplication app(argc, argv);
    RenderTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "RenderTest.moc"
