// SPDX-License-Identifier: MIT
// Colormaps, fixed and automatic colour ranges, the colour bar, and the click readout of
// PointCloudView, checked on rendered pixels and picked values.

#include "core/base/Error.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/render/CloudToVtk.h"
#include "ui/render/ColorMaps.h"
#include "ui/render/PointCloudView.h"
#include "ui/render/PointPick.h"

#include <QApplication>
#include <QSignalSpy>
#include <QTest>

#include <vtkCamera.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkLookupTable.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>

#include <cmath>

using namespace lidistill;
using namespace lidistill::ui;

namespace {

constexpr int kSide = 300;

bool showView(PointCloudView& view) {
    view.resize(kSide, kSide);
    view.show();
    return QTest::qWaitForWindowExposed(&view);
}

/// A dense patch, x and y in [-1, 1]: z = zLeft where x < 0, zRight elsewhere; intensity
/// equal to z, so that the intensity mode sees the same values.
PointCloud twoStep(float zLeft, float zRight) {
    PointCloud c;
    constexpr int kN = 300;
    for (int i = 0; i < kN; ++i) {
        for (int j = 0; j < kN; ++j) {
            const float x = -1.f + 2.f * static_cast<float>(i) / (kN - 1);
            const float y = -1.f + 2.f * static_cast<float>(j) / (kN - 1);
            const float z = x < 0.f ? zLeft : zRight;
            c.xyz.push_back({x, y, z});
            c.intensity.push_back(z);
        }
    }
    return c;
}

/// Top-down orthographic camera: 4 m visible vertically, +x to the right, the patch in the
/// middle half of the view (clear of the colour bar at the right edge).
void topDownCamera(PointCloudView& view) {
    vtkCamera* cam = view.renderer()->GetActiveCamera();
    cam->ParallelProjectionOn();
    cam->SetFocalPoint(0, 0, 0);
    cam->SetPosition(0, 0, 10);
    cam->SetViewUp(0, 1, 0);
    cam->SetParallelScale(2.0);
    view.renderer()->ResetCameraClippingRange();
}

QColor fromUnit(const std::array<double, 3>& c) {
    return QColor::fromRgbF(static_cast<float>(c[0]), static_cast<float>(c[1]),
                            static_cast<float>(c[2]));
}

bool near(QColor a, QColor b, int tol) {
    return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
           std::abs(a.blue() - b.blue()) <= tol;
}

QString describe(QColor got, QColor want) {
    return QStringLiteral("got %1, want %2").arg(got.name(), want.name());
}

/// Left and right halves' colours at mid-height.
std::pair<QColor, QColor> halves(PointCloudView& view) {
    const QImage img = view.grabFramebuffer();
    const int y = img.height() / 2;
    return {img.pixelColor(img.width() * 3 / 8, y), img.pixelColor(img.width() * 5 / 8, y)};
}

/// Where world point `p` is drawn, in widget coordinates (the inverse of pickAt()'s mapping).
QPoint project(PointCloudView& view, const Vec3f& p) {
    vtkRenderer* r = view.renderer();
    r->SetWorldPoint(p[0], p[1], p[2], 1.0);
    r->WorldToDisplay();
    double d[3];
    r->GetDisplayPoint(d);
    const int* size = view.renderWindow()->GetSize();
    const double dpr = view.devicePixelRatioF();
    return QPoint(static_cast<int>(std::lround(d[0] / dpr)),
                  static_cast<int>(std::lround((size[1] - 1 - d[1]) / dpr)));
}

}  // namespace

class ColorScaleTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void colormapsMatchTheirReferences() {
        // matplotlib's viridis at 0, 0.5 and 1: #440154, #21918c, #fde725.
        const auto close = [](std::array<double, 3> c, QColor ref, double tol) {
            return std::abs(c[0] - ref.redF()) < tol && std::abs(c[1] - ref.greenF()) < tol &&
                   std::abs(c[2] - ref.blueF()) < tol;
        };
        QVERIFY(close(viridis(0.0), QColor("#440154"), 0.015));
        QVERIFY(close(viridis(0.5), QColor("#21918c"), 0.015));
        QVERIFY(close(viridis(1.0), QColor("#fde725"), 0.015));
        // MATLAB's jet: dark blue, cyan at 3/8, green-ish white-free middle, dark red.
        QVERIFY(close(jet(0.0), QColor::fromRgbF(0, 0, 0.5), 1e-4));
        QVERIFY(close(jet(0.375), QColor::fromRgbF(0, 1, 1), 1e-4));
        QVERIFY(close(jet(0.5), QColor::fromRgbF(0.5, 1, 0.5), 1e-4));
        QVERIFY(close(jet(1.0), QColor::fromRgbF(0.5, 0, 0), 1e-4));
        QVERIFY(close(colormapColor(Colormap::Gray, 0.3), QColor::fromRgbF(0.3, 0.3, 0.3), 1e-4));
        // Lookup tables skip the dark start of turbo and gray only.
        QCOMPARE(colormapAt(Colormap::Turbo, 0.0), turbo(kTurboStart));
        QCOMPARE(colormapAt(Colormap::Gray, 0.0), colormapColor(Colormap::Gray, kGrayStart));
        QCOMPARE(colormapAt(Colormap::Viridis, 0.0), viridis(0.0));
        QCOMPARE(colormapAt(Colormap::Jet, 0.5), jet(0.5));
        // The table itself samples the same function.
        auto lut = makeLookupTable(Colormap::Viridis, -2.0, 6.0);
        double rgb[3];
        lut->GetColor(2.0, rgb);  // half-way
        const auto want = colormapAt(Colormap::Viridis, 0.5);
        for (int k = 0; k < 3; ++k) QVERIFY(std::abs(rgb[k] - want[k]) < 0.01);
        // Names round-trip; unknown names are refused.
        for (const Colormap m : kColormaps) QCOMPARE(colormapFromName(colormapName(m)), m);
        QCOMPARE(colormapFromName(" JET "), Colormap::Jet);
        QCOMPARE(colormapFromName("grey"), Colormap::Gray);
        QVERIFY(!colormapFromName("rainbow"));
        QCOMPARE(colormapNames().size(), static_cast<qsizetype>(kColormaps.size()));
    }

    void rangeTextIsParsedStrictly() {
        QCOMPARE(parseColorRange("-2.5:3"), (ColorRange{-2.5, 3.0}));
        QCOMPARE(parseColorRange(" 0 : 255 "), (ColorRange{0.0, 255.0}));
        for (const char* bad : {"3:1", "1:1", "1", "a:b", "1:2:3", "nan:1", "0:inf", ""}) {
            bool threw = false;
            try {
                parseColorRange(QString::fromLatin1(bad));
            } catch (const InvalidArgument& e) {
                threw = QString::fromUtf8(e.what()).contains(QString::fromLatin1(bad));
            }
            QVERIFY2(threw, bad);
        }
    }

    void fixedRangeMapsValuesToTheirFractionAndSurvivesNewClouds() {
        LIDISTILL_REQUIRE_GL();
        PointCloudView view;
        QVERIFY(showView(view));
        view.setLegendVisible(false);
        view.setAxisTriadVisible(false);
        view.setColormap(Colormap::Viridis);
        view.setColorMode(ColorMode::Height);
        view.setCloud(toPolyData(twoStep(0.f, 1.f)));
        topDownCamera(view);
        // Automatic: the robust range is [0, 1], so the halves take the two ends.
        auto [left, right] = halves(view);
        QVERIFY2(near(left, fromUnit(colormapAt(Colormap::Viridis, 0.0)), 3),
                 qPrintable(describe(left, fromUnit(colormapAt(Colormap::Viridis, 0.0)))));
        QVERIFY2(near(right, fromUnit(colormapAt(Colormap::Viridis, 1.0)), 3),
                 qPrintable(describe(right, fromUnit(colormapAt(Colormap::Viridis, 1.0)))));

        // Fixed [-1, 3]: z = 0 is a quarter of the way up, z = 1 half-way.
        view.setFixedRange(ColorMode::Height, ColorRange{-1.0, 3.0});
        QCOMPARE(view.activeRange(), (ColorRange{-1.0, 3.0}));
        std::tie(left, right) = halves(view);
        QVERIFY2(near(left, fromUnit(colormapAt(Colormap::Viridis, 0.25)), 3),
                 qPrintable(describe(left, fromUnit(colormapAt(Colormap::Viridis, 0.25)))));
        QVERIFY2(near(right, fromUnit(colormapAt(Colormap::Viridis, 0.5)), 3),
                 qPrintable(describe(right, fromUnit(colormapAt(Colormap::Viridis, 0.5)))));

        // The next frame keeps the range: z = 2 is three quarters up, not the top.
        view.setCloud(toPolyData(twoStep(0.f, 2.f)));
        QCOMPARE(view.fixedRange(ColorMode::Height), (ColorRange{-1.0, 3.0}));
        std::tie(left, right) = halves(view);
        QVERIFY2(near(left, fromUnit(colormapAt(Colormap::Viridis, 0.25)), 3),
                 qPrintable(describe(left, fromUnit(colormapAt(Colormap::Viridis, 0.25)))));
        QVERIFY2(near(right, fromUnit(colormapAt(Colormap::Viridis, 0.75)), 3),
                 qPrintable(describe(right, fromUnit(colormapAt(Colormap::Viridis, 0.75)))));

        // Ranges are per mode: intensity (equal to z here) is still automatic.
        view.setColorMode(ColorMode::Intensity);
        QVERIFY(!view.fixedRange(ColorMode::Intensity));
        QCOMPARE(view.activeRange(), (ColorRange{0.0, 2.0}));
        std::tie(left, right) = halves(view);
        QVERIFY(near(right, fromUnit(colormapAt(Colormap::Viridis, 1.0)), 3));

        // Back to automatic height: the ends again.
        view.setColorMode(ColorMode::Height);
        view.setFixedRange(ColorMode::Height, std::nullopt);
        QCOMPARE(view.activeRange(), (ColorRange{0.0, 2.0}));
        std::tie(left, right) = halves(view);
        QVERIFY(near(left, fromUnit(colormapAt(Colormap::Viridis, 0.0)), 3));
        QVERIFY(near(right, fromUnit(colormapAt(Colormap::Viridis, 1.0)), 3));

        // Bad ranges and non-scalar modes are refused and change nothing.
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 view.setFixedRange(ColorMode::Height, ColorRange{2.0, 1.0}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 view.setFixedRange(ColorMode::SemanticClass, ColorRange{0, 1}));
        QVERIFY(!view.fixedRange(ColorMode::Height));
    }

    void switchingTheColormapChangesThePixels() {
        LIDISTILL_REQUIRE_GL();
        PointCloudView view;
        QVERIFY(showView(view));
        view.setLegendVisible(false);
        view.setAxisTriadVisible(false);
        view.setColorMode(ColorMode::Range);
        // Range 1..3 m from the sensor (points straight below it), fixed to [0, 4].
        view.setCloud(toPolyData(twoStep(-1.f, -3.f)));
        view.setFixedRange(ColorMode::Range, ColorRange{0.0, 4.0});
        topDownCamera(view);
        // Left points are about 1.0-1.4 m away: sample near x = -0.25, y = 0 (range ~1.03).
        const auto leftAt = [&view] {
            const QImage img = view.grabFramebuffer();
            return img.pixelColor(img.width() * 7 / 16, img.height() / 2);
        };
        QColor previous;
        for (const Colormap m : kColormaps) {
            view.setColormap(m);
            QCOMPARE(view.colormap(), m);
            const QColor got = leftAt();
            const double range = std::sqrt(0.25 * 0.25 + 1.0);
            const QColor want = fromUnit(colormapAt(m, range / 4.0));
            QVERIFY2(near(got, want, 6), qPrintable(colormapName(m) + ": " + describe(got, want)));
            QVERIFY2(!previous.isValid() || !near(got, previous, 20), qPrintable(got.name()));
            previous = got;
        }
    }

    void colourBarShowsTheRangeTheUnitAndTheColormap() {
        LIDISTILL_REQUIRE_GL();
        PointCloudView view;
        QVERIFY(showView(view));
        view.setAxisTriadVisible(false);
        view.setColormap(Colormap::Viridis);
        view.setColorMode(ColorMode::Height);
        view.setCloud(toPolyData(twoStep(0.f, 1.f)));
        topDownCamera(view);
        view.setFixedRange(ColorMode::Height, ColorRange{-2.0, 3.0});
        vtkScalarBarActor* bar = view.colorBar();
        QVERIFY(bar->GetVisibility());
        QCOMPARE(QString::fromUtf8(bar->GetTitle()), QStringLiteral("height [m]"));
        const double* r = bar->GetLookupTable()->GetRange();
        QCOMPARE(r[0], -2.0);
        QCOMPARE(r[1], 3.0);
        // The bar is drawn at the right edge, outside the patch: its top is the colormap's
        // end colour (viridis yellow, which nothing else in the view has).
        const QRect strip(kSide * 86 / 100, 0, kSide * 14 / 100, kSide);
        const auto yellowPixels = [&](const QImage& img) {
            const QColor top = fromUnit(colormapAt(Colormap::Viridis, 1.0));
            int n = 0;
            for (int y = strip.top(); y <= strip.bottom(); ++y) {
                for (int x = strip.left(); x <= strip.right(); ++x) {
                    n += near(img.pixelColor(x, y), top, 12) ? 1 : 0;
                }
            }
            return n;
        };
        const QImage shown = view.grabFramebuffer();
        QVERIFY2(yellowPixels(shown) > 20, qPrintable(test::saveForInspection(shown, "colorbar")));
        view.setColormap(Colormap::Gray);  // the bar follows the colormap
        QCOMPARE(yellowPixels(view.grabFramebuffer()), 0);
        view.setColormap(Colormap::Viridis);
        view.setLegendVisible(false);
        QCOMPARE(yellowPixels(view.grabFramebuffer()), 0);
        view.setLegendVisible(true);
        // Class modes have their own legend, not a bar.
        view.setColorMode(ColorMode::SemanticClass);
        QVERIFY(!bar->GetVisibility());
        view.setColorMode(ColorMode::Intensity);
        QVERIFY(bar->GetVisibility());
        QCOMPARE(QString::fromUtf8(bar->GetTitle()), QStringLiteral("intensity"));
    }

    void clickOnAPointReportsItsValues() {
        LIDISTILL_REQUIRE_GL();
        // A sparse 3D lattice: every point has its own intensity and label.
        PointCloud c;
        for (int i = 0; i < 5; ++i) {
            for (int j = 0; j < 5; ++j) {
                const auto k = static_cast<std::uint32_t>(c.size());
                c.xyz.push_back({4.f + 2.f * i, -4.f + 2.f * j, -1.5f + 0.3f * i});
                c.intensity.push_back(0.01f * static_cast<float>(k));
                c.label.push_back((k % 2 ? 10u : 40u) | ((k % 3) << 16));  // car / road
            }
        }
        PointCloudView view;
        QVERIFY(showView(view));
        view.setLegendVisible(false);
        view.setPointSize(4);
        view.setCloud(toPolyData(c));  // the default perspective chase view
        QSignalSpy picked(&view, &PointCloudView::pointPicked);
        QSignalSpy missed(&view, &PointCloudView::pickMissed);
        for (const std::size_t k : {std::size_t{7}, std::size_t{18}}) {
            const QPoint at = project(view, c.xyz[k]);
            QVERIFY(view.rect().contains(at));
            QTest::mouseClick(&view, Qt::LeftButton, {}, at);
            QCOMPARE(picked.count(), 1);
            const auto p = picked.takeFirst().at(0).value<PickedPoint>();
            QCOMPARE(p.index, static_cast<std::int64_t>(k));
            for (int a = 0; a < 3; ++a) QCOMPARE(p.xyz[a], static_cast<double>(c.xyz[k][a]));
            const double range =
                std::sqrt(p.xyz[0] * p.xyz[0] + p.xyz[1] * p.xyz[1] + p.xyz[2] * p.xyz[2]);
            QVERIFY(std::abs(p.range - range) < 1e-4);
            QCOMPARE(p.intensity, c.intensity[k]);
            QCOMPARE(p.label, c.label[k]);
            const QString text = describePoint(p);
            QVERIFY2(text.contains(QStringLiteral("point %1:").arg(k)), qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("x %1").arg(c.xyz[k][0], 0, 'f', 2)),
                     qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("z %1 m").arg(c.xyz[k][2], 0, 'f', 2)),
                     qPrintable(text));
            QVERIFY2(text.contains(k % 2 ? "car (class 10)" : "road (class 40)"), qPrintable(text));
            QCOMPARE(text.contains("instance"), k % 3 != 0);
        }
        // Empty background: a miss, not a pick.
        QTest::mouseClick(&view, Qt::LeftButton, {}, QPoint(5, 5));
        QCOMPARE(missed.count(), 1);
        QCOMPARE(picked.count(), 0);
        // A drag that ends on a point orbits; it does not pick.
        const QPoint on = project(view, c.xyz[12]);
        QTest::mousePress(&view, Qt::LeftButton, {}, on + QPoint(30, 0));
        QMouseEvent move(QEvent::MouseMove, QPointF(on + QPoint(15, 0)),
                         view.mapToGlobal(QPointF(on + QPoint(15, 0))), Qt::NoButton,
                         Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&view, &move);
        QTest::mouseRelease(&view, Qt::LeftButton, {}, on);
        QCOMPARE(picked.count(), 0);
        // Unlabelled clouds report no class.
        PointCloud plain;
        plain.xyz = {{5.f, 0.f, 0.f}};
        view.setCloud(toPolyData(plain));
        const auto p = view.pickAt(project(view, plain.xyz[0]));
        QVERIFY(p && !p->label && !p->intensity);
        QVERIFY(!describePoint(*p).contains("class"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, pointAt(view.cloud(), 1));
    }

    void clickPicksThePointInFrontNotTheOneNearestTheRay() {
        LIDISTILL_REQUIRE_GL();
        // B far away; A half-way to the camera, drawn two pixels beside B, so its 6-pixel
        // square covers B's centre. What the user clicks on there is A; a pick that takes
        // the point nearest the ray (in world units, as vtkPointPicker) would say B.
        PointCloud c;
        c.xyz = {{30.f, 2.f, 0.f}, {-5.f, 5.f, 0.f}, {20.f, -6.f, -1.f}};  // B, and framing
        PointCloudView view;
        QVERIFY(showView(view));
        view.setLegendVisible(false);
        view.setPointSize(6);
        view.setCloud(toPolyData(c));
        vtkRenderer* r = view.renderer();
        r->SetWorldPoint(c.xyz[0][0], c.xyz[0][1], c.xyz[0][2], 1.0);
        r->WorldToDisplay();
        double b[3];
        r->GetDisplayPoint(b);
        r->SetDisplayPoint(b[0] + 2.0, b[1], b[2]);
        r->DisplayToWorld();
        double w[4];
        r->GetWorldPoint(w);
        double cam[3];
        r->GetActiveCamera()->GetPosition(cam);
        const Vec3f a{static_cast<float>((cam[0] + w[0] / w[3]) / 2),
                      static_cast<float>((cam[1] + w[1] / w[3]) / 2),
                      static_cast<float>((cam[2] + w[2] / w[3]) / 2)};
        c.xyz.push_back(a);
        view.setCloud(toPolyData(c));  // same camera: it is kept after the first cloud
        r->ResetCameraClippingRange();
        const QPoint atB = project(view, c.xyz[0]);
        const auto picked = view.pickAt(atB);
        QVERIFY(picked);
        QCOMPARE(picked->index, std::int64_t{3});
        // Away from A's square, B is what is drawn.
        const QPoint beyond = atB - QPoint(4, 0);
        const auto far = view.pickAt(beyond);
        QVERIFY(far);
        QCOMPARE(far->index, std::int64_t{0});
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    ColorScaleTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "ColorScaleTest.moc"
