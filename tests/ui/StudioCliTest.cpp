// SPDX-License-Identifier: MIT
// lidistill-studio's command line, run as a process under the test's Xvfb display: the colour
// options reach the --screenshot picture, and bad values are usage errors (exit code 2).

#include "core/io/ScanIo.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/render/ColorMaps.h"

#include <QApplication>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#ifndef LIDISTILL_STUDIO_BINARY
#error "LIDISTILL_STUDIO_BINARY must name the lidistill-studio executable"
#endif

using namespace lidistill;
using namespace lidistill::ui;

namespace {

/// A flat 6 x 6 m patch at z = 0 around (8, 0): in front of the sensor, where the studio's
/// default chase camera looks, and wide enough to cover thousands of pixels.
void writeFlatScan(const QString& dir) {
    PointCloud c;
    for (int i = 0; i <= 120; ++i) {
        for (int j = 0; j <= 120; ++j) {
            c.xyz.push_back({5.f + 0.05f * i, -3.f + 0.05f * j, 0.f});
            c.intensity.push_back(0.5f);
        }
    }
    io::writeKittiBin(std::filesystem::path(dir.toStdString()) / "000000.bin", c);
}

struct Run {
    int exitCode = -1;
    QString output;
};

Run runStudio(const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(LIDISTILL_STUDIO_BINARY), args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return {-1, QStringLiteral("timed out: ") + QString::fromLocal8Bit(p.readAll())};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromLocal8Bit(p.readAll())};
}

/// Pixels of `img` within `tol` of `colour` in every channel.
long countNear(const QImage& img, const std::array<double, 3>& colour, int tol) {
    const QColor want =
        QColor::fromRgbF(static_cast<float>(colour[0]), static_cast<float>(colour[1]),
                         static_cast<float>(colour[2]));
    long n = 0;
    for (int y = 0; y < img.height(); ++y) {
        for (int x = 0; x < img.width(); ++x) {
            const QColor c = img.pixelColor(x, y);
            n += std::abs(c.red() - want.red()) <= tol &&
                         std::abs(c.green() - want.green()) <= tol &&
                         std::abs(c.blue() - want.blue()) <= tol
                     ? 1
                     : 0;
        }
    }
    return n;
}

}  // namespace

class StudioCliTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { LIDISTILL_REQUIRE_GL(); }

    void colormapAndRangeReachTheScreenshot() {
        QTemporaryDir tmp;
        writeFlatScan(tmp.path());
        const QString shot = tmp.path() + "/shot.png";
        const auto render = [&](const QStringList& extra) {
            QFile::remove(shot);
            const Run run = runStudio(QStringList{tmp.path(), "--color", "height", "--size",
                                                  "900x500", "--screenshot", shot} +
                                      extra);
            return run.exitCode == 0 ? QImage(shot) : QImage();
        };
        // The patch is all at z = 0. Fixed to -1:1 it sits half-way up the colormap; with the
        // automatic range (a constant field spans [0, 1]) it takes the bottom colour.
        const auto mid = colormapAt(Colormap::Viridis, 0.5);
        const QImage fixed = render({"--colormap", "viridis", "--range=-1:1"});
        QVERIFY(!fixed.isNull());
        const QImage automatic = render({"--colormap", "viridis"});
        QVERIFY(!automatic.isNull());
        const long fixedMid = countNear(fixed, mid, 6);
        // The colour bar holds a few rows of that colour in either picture; the patch
        // thousands of pixels.
        QVERIFY2(fixedMid > 3000, qPrintable(QString::number(fixedMid) + ", see " +
                                             test::saveForInspection(fixed, "cli-fixed")));
        QVERIFY2(countNear(automatic, mid, 6) < 300,
                 qPrintable(test::saveForInspection(automatic, "cli-auto")));
        QVERIFY2(countNear(automatic, colormapAt(Colormap::Viridis, 0.0), 6) > 3000,
                 qPrintable(test::saveForInspection(automatic, "cli-auto")));
        // Another colormap, same range: the patch takes jet's middle colour instead.
        const QImage jet = render({"--colormap", "jet", "--range", "-1:1"});
        QVERIFY(!jet.isNull());
        QVERIFY(countNear(jet, colormapAt(Colormap::Jet, 0.5), 6) > 3000);
        QVERIFY(countNear(jet, mid, 6) < 300);
    }

    void badColourOptionsAreUsageErrors() {
        const struct {
            QStringList args;
            const char* says;
        } cases[] = {
            {{"--colormap", "rainbow"}, "unknown colormap 'rainbow'"},
            {{"--color", "height", "--range", "3:1"}, "MIN < MAX"},
            {{"--color", "height", "--range", "x"}, "not MIN:MAX"},
            {{"--color", "class", "--range", "0:1"}, "--range needs --color"},
            {{"--nuscenes-axes", "sideways"}, "kitti or stored"},
        };
        for (const auto& c : cases) {
            const Run run = runStudio(c.args);
            QVERIFY2(run.exitCode == 2 && run.output.contains(QString::fromUtf8(c.says)),
                     qPrintable(c.args.join(' ') + " -> " + QString::number(run.exitCode) + ": " +
                                run.output));
        }
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    StudioCliTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "StudioCliTest.moc"
