// SPDX-License-Identifier: MIT
// The studio window under Xvfb: frame navigation keys, colour modes, drops, bad folders.

#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/app/ColorScaleControls.h"
#include "ui/app/MainWindow.h"
#include "ui/app/SequenceSession.h"
#include "ui/app/ShortcutHelp.h"
#include "ui/app/ViewCapture.h"
#include "ui/models/FrameListModel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QListView>
#include <QMessageBox>
#include <QMimeData>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <vtkCamera.h>
#include <vtkRenderer.h>

using namespace lidistill;
using namespace lidistill::ui;
namespace fs = std::filesystem;

namespace {

/// Three scans; scan k has 10 * (k + 1) points.
void writeScans(const fs::path& dir) {
    for (int k = 0; k < 3; ++k) {
        PointCloud c;
        for (int i = 0; i < 10 * (k + 1); ++i) {
            c.xyz.push_back({static_cast<float>(i) * 0.5f, 1.f, -1.f});
            c.intensity.push_back(0.5f);
        }
        io::writeKittiBin(dir / ("00000" + std::to_string(k) + ".bin"), c);
    }
}

/// Shows the window and makes it active (shortcuts only fire in the active window).
bool showActive(MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return false;
    w.activateWindow();
    return QTest::qWaitForWindowActive(&w);
}

int currentRow(MainWindow& w) {
    return w.frameList()->currentIndex().row();
}

/// Where world point `p` is drawn in `view`, in widget coordinates.
QPoint project(PointCloudView* view, const Vec3f& p) {
    vtkRenderer* r = view->renderer();
    r->SetWorldPoint(p[0], p[1], p[2], 1.0);
    r->WorldToDisplay();
    double d[3];
    r->GetDisplayPoint(d);
    const double dpr = view->devicePixelRatioF();
    const double height = view->height() * dpr;
    return QPoint(static_cast<int>(std::lround(d[0] / dpr)),
                  static_cast<int>(std::lround((height - 1 - d[1]) / dpr)));
}

}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        LIDISTILL_REQUIRE_GL();
    }

    void keysMoveTheSelectionAndLoadFrames() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(900, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        QCOMPARE(shown.last().at(0).toInt(), 0);
        QCOMPARE(w.scanView()->cloud().pointCount, std::size_t{10});
        QVERIFY(!shown.last().at(1).toBool());  // no poses: no ground truth

        w.frameList()->setFocus();
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(currentRow(w), 1);
        QTRY_COMPARE(shown.last().at(0).toInt(), 1);
        QCOMPARE(w.scanView()->cloud().pointCount, std::size_t{20});
        QTest::keyClick(&w, Qt::Key_Right);
        QCOMPARE(currentRow(w), 2);
        QTest::keyClick(&w, Qt::Key_N);  // stays on the last frame
        QCOMPARE(currentRow(w), 2);
        QTRY_COMPARE(w.scanView()->cloud().pointCount, std::size_t{30});
        QTest::keyClick(&w, Qt::Key_B);
        QCOMPARE(currentRow(w), 1);
        QTest::keyClick(&w, Qt::Key_Left);
        QCOMPARE(currentRow(w), 0);
        QTest::keyClick(&w, Qt::Key_B);
        QCOMPARE(currentRow(w), 0);
        QTRY_COMPARE(w.scanView()->cloud().pointCount, std::size_t{10});
        // Keys work with the focus in a viewport too.
        w.scanView()->setFocus();
        QTest::keyClick(w.scanView(), Qt::Key_N);
        QCOMPARE(currentRow(w), 1);
    }

    void colourAndPointSizeApplyToBothViews() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        QVERIFY(showActive(w));
        w.setColorMode(ColorMode::Intensity);
        QCOMPARE(w.scanView()->colorMode(), ColorMode::Intensity);
        QCOMPARE(w.groundTruthView()->colorMode(), ColorMode::Intensity);
        QTest::keyClick(&w, Qt::Key_C);  // cycles to the next mode
        QCOMPARE(w.scanView()->colorMode(), ColorMode::SemanticClass);
        QCOMPARE(w.groundTruthView()->colorMode(), ColorMode::SemanticClass);
        QTest::keyClick(&w, Qt::Key_Plus);
        QCOMPARE(w.scanView()->pointSize(), 3.0);
        QCOMPARE(w.groundTruthView()->pointSize(), 3.0);
        QCOMPARE(w.scanView()->renderer()->GetActiveCamera(),
                 w.groundTruthView()->renderer()->GetActiveCamera());
    }

    void colourScaleKeysDriveBothViewsAndFixedRangesSurviveFrames() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(900, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        QCOMPARE(w.scanView()->colormap(), Colormap::Turbo);
        QTest::keyClick(&w, Qt::Key_M);  // next colormap, in both views and the toolbar box
        QCOMPARE(w.scanView()->colormap(), Colormap::Viridis);
        QCOMPARE(w.groundTruthView()->colormap(), Colormap::Viridis);
        QCOMPARE(w.colorScale()->colormapBox()->currentText(), QStringLiteral("viridis"));
        w.colorScale()->colormapBox()->setCurrentIndex(3);
        QCOMPARE(w.groundTruthView()->colormap(), Colormap::Jet);
        QTest::keyClick(&w, Qt::Key_M);  // wraps round
        QCOMPARE(w.scanView()->colormap(), Colormap::Turbo);

        // L in a class mode fixes nothing and says why.
        QTest::keyClick(&w, Qt::Key_L);
        QVERIFY(!w.scanView()->fixedRange(ColorMode::Range));
        QVERIFY(w.statusBar()->currentMessage().contains("height, range and intensity"));
        QVERIFY(!w.colorScale()->fixRangeAction()->isChecked());

        // Range mode: scan k reaches 5 (k + 1) m, so automatic ranges differ per frame.
        w.setColorMode(ColorMode::Range);
        const auto frame0 = w.scanView()->activeRange();
        QVERIFY(frame0);
        QTest::keyClick(&w, Qt::Key_L);  // fix it to what is on screen
        QVERIFY(w.colorScale()->fixRangeAction()->isChecked());
        QCOMPARE(w.scanView()->fixedRange(ColorMode::Range), frame0);
        QCOMPARE(w.groundTruthView()->fixedRange(ColorMode::Range), frame0);
        QVERIFY(w.statusBar()->currentMessage().contains("fixed"));
        QTest::keyClick(&w, Qt::Key_N);
        QTRY_COMPARE(shown.last().at(0).toInt(), 1);
        QCOMPARE(w.scanView()->cloud().pointCount, std::size_t{20});
        QCOMPARE(w.scanView()->activeRange(), frame0);  // kept for the next scan
        QVERIFY(w.scanView()->cloud().rangeRange[1] > (*frame0)[1] + 2.0);
        // Other modes keep their own (automatic) range; the tick follows the mode.
        w.setColorMode(ColorMode::Height);
        QVERIFY(!w.colorScale()->fixRangeAction()->isChecked());
        w.setColorMode(ColorMode::Range);
        QVERIFY(w.colorScale()->fixRangeAction()->isChecked());
        QTest::keyClick(&w, Qt::Key_L);  // and back to automatic
        QVERIFY(!w.scanView()->fixedRange(ColorMode::Range));
        QCOMPARE(w.scanView()->activeRange(), w.scanView()->cloud().rangeRange);
        // The public setter (what --range uses) reaches both views.
        w.setFixedRange(ColorMode::Intensity, ColorRange{0.0, 2.0});
        QCOMPARE(w.groundTruthView()->fixedRange(ColorMode::Intensity), (ColorRange{0.0, 2.0}));
    }

    void clickOnAPointShowsItsValuesInTheStatusBar() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(900, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        QVERIFY(w.pointReadout().isEmpty());
        // Scan 0 has points (0.5 i, 1, -1), intensity 0.5: click point 6 at (3, 1, -1).
        const QPoint at = project(w.scanView(), {3.f, 1.f, -1.f});
        QVERIFY(w.scanView()->rect().contains(at));
        QTest::mouseClick(w.scanView(), Qt::LeftButton, {}, at);
        const QString text = w.pointReadout();
        QVERIFY2(text.startsWith("Scan point 6: x 3.00  y 1.00  z -1.00 m"), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("range %1 m").arg(std::sqrt(11.0), 0, 'f', 2)),
                 qPrintable(text));
        QVERIFY2(text.contains("intensity 0.5"), qPrintable(text));
        // A new frame makes the readout stale: it is cleared.
        QTest::keyClick(&w, Qt::Key_N);
        QTRY_COMPARE(shown.last().at(0).toInt(), 1);
        QVERIFY(w.pointReadout().isEmpty());
    }

    void cameraKeysDriveTheSharedCamera() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        vtkCamera* cam = w.groundTruthView()->renderer()->GetActiveCamera();
        const auto dop = [cam] {
            std::array<double, 3> d{};
            cam->GetDirectionOfProjection(d.data());
            return d;
        };
        const auto along = [&](std::array<double, 3> e) {
            const auto d = dop();
            return std::abs(d[0] - e[0]) < 1e-9 && std::abs(d[1] - e[1]) < 1e-9 &&
                   std::abs(d[2] - e[2]) < 1e-9;
        };
        w.scanView()->setFocus();
        QTest::keyClick(&w, Qt::Key_T);
        QVERIFY(cam->GetParallelProjection());
        QVERIFY(along({0, 0, -1}));
        QTest::keyClick(&w, Qt::Key_T);
        QVERIFY(!cam->GetParallelProjection());
        QTest::keyClick(&w, Qt::Key_1);
        QVERIFY(along({1, 0, 0}));
        QTest::keyClick(&w, Qt::Key_3);
        QVERIFY(along({0, 1, 0}));
        QTest::keyClick(&w, Qt::Key_7);
        QVERIFY(along({0, 0, -1}));
        QTest::keyClick(&w, Qt::Key_R);
        QVERIFY(!along({0, 0, -1}));
        QVERIFY(!cam->GetParallelProjection());
    }

    void screenshotKeySavesViewsAndCamera() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        QTemporaryDir shots;
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.setScreenshotFolder(shots.path() + "/sub");  // created on demand
        w.resize(900, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        w.setColorMode(ColorMode::Height);
        QTest::keyClick(&w, Qt::Key_P);
        const QStringList files = QDir(shots.path() + "/sub").entryList({"*.png"});
        QCOMPARE(files.size(), 1);
        QVERIFY(files[0].startsWith("lidistill-"));
        const QString png = shots.path() + "/sub/" + files[0];
        QVERIFY(w.statusBar()->currentMessage().contains(png));
        const QImage img(png);
        QCOMPARE(img.size(), w.viewsWidget()->size() * w.devicePixelRatio());
        // The left part is the scan view: same pixels as its own framebuffer.
        const QImage scan = w.scanView()->grabFramebuffer();
        long same = 0;
        long total = 0;
        for (int y = 0; y < scan.height(); y += 7) {
            for (int x = 0; x < scan.width(); x += 7) {
                ++total;
                if (img.pixel(x, y) == scan.pixel(x, y)) ++same;
            }
        }
        QVERIFY2(same > total * 0.98, qPrintable(QString("%1 of %2").arg(same).arg(total)));
        // The camera JSON beside it restores the same camera.
        QFile json(cameraFileFor(png));
        QVERIFY(json.open(QIODevice::ReadOnly));
        const CameraState saved = cameraFromJson(QString::fromUtf8(json.readAll()));
        QCOMPARE(saved, captureCamera(w.scanView()->renderer()->GetActiveCamera()));
        // A second shot in the same second gets a new name, never overwrites.
        QTest::keyClick(&w, Qt::Key_P);
        QTRY_COMPARE(QDir(shots.path() + "/sub").entryList({"*.png"}).size(), 2);
    }

    void cameraCopyPasteThroughTheClipboard() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        vtkCamera* cam = w.scanView()->renderer()->GetActiveCamera();
        cam->SetPosition(3, -4, 5);
        cam->SetFocalPoint(1, 2, 0.5);
        cam->SetViewUp(0, 0, 1);
        cam->SetViewAngle(33);
        const CameraState copied = captureCamera(cam);
        w.scanView()->setFocus();
        QTest::keyClick(&w, Qt::Key_C, Qt::ControlModifier);
        QVERIFY(QGuiApplication::clipboard()->text().contains("focal_point"));
        QCOMPARE(cameraFromJson(QGuiApplication::clipboard()->text()), copied);
        QTest::keyClick(&w, Qt::Key_R);  // move away
        QVERIFY(!(captureCamera(cam) == copied));
        QTest::keyClick(&w, Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(captureCamera(cam), copied);
        // The ground-truth view shares it.
        QCOMPARE(captureCamera(w.groundTruthView()->renderer()->GetActiveCamera()), copied);
        // Garbage on the clipboard: the camera stays, the status bar says why, no error box.
        QGuiApplication::clipboard()->setText("hello");
        QTest::keyClick(&w, Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(captureCamera(cam), copied);
        QVERIFY(w.statusBar()->currentMessage().contains("not valid JSON"));
        QCOMPARE(errors.count(), 0);
    }

    void viewMenuBackgroundAxesAndPointSize() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const auto action = [&w](const QString& text) -> QAction* {
            for (QAction* a : w.findChildren<QAction*>()) {
                if (a->text() == text) return a;
            }
            return nullptr;
        };
        QAction* light = action("&Light background");
        QVERIFY(light && light->isCheckable());
        light->trigger();
        QVERIFY(w.scanView()->lightBackground() && w.groundTruthView()->lightBackground());
        QVERIFY(w.scanView()->grabFramebuffer().pixelColor(3, 300).lightness() > 230);
        light->trigger();
        QVERIFY(!w.scanView()->lightBackground() && !w.groundTruthView()->lightBackground());
        QAction* axes = action("Show &axes");
        QVERIFY(axes && axes->isChecked());
        axes->trigger();
        QVERIFY(!w.scanView()->axisTriadVisible() && !w.groundTruthView()->axisTriadVisible());
        QAction* four = action("4 px");
        QVERIFY(four && !four->isChecked());
        QVERIFY(action("2 px")->isChecked());  // the default size
        four->trigger();
        QCOMPARE(w.scanView()->pointSize(), 4.0);
        QCOMPARE(w.groundTruthView()->pointSize(), 4.0);
        QVERIFY(four->isChecked());
        action("Larger points")->trigger();  // 5 px: not in the list, nothing ticked
        QCOMPARE(w.groundTruthView()->pointSize(), 5.0);
        QVERIFY(!four->isChecked() && !action("6 px")->isChecked());
        action("Larger points")->trigger();
        QVERIFY(action("6 px")->isChecked());
    }

    void helpListsEveryShortcutFromTheActions() {
        MainWindow w;
        QVERIFY(showActive(w));
        QVERIFY(!w.helpDialog());
        QTest::keyClick(&w, Qt::Key_H);
        QVERIFY(w.helpDialog() && w.helpDialog()->isVisible());
        const QTableWidget* table = w.helpDialog()->table();
        QMap<QString, QString> shown;  // keys -> what
        for (int r = 0; r < table->rowCount(); ++r) {
            shown.insert(table->item(r, 1)->text(), table->item(r, 2)->text());
        }
        // Every action of the window that has a shortcut is listed with its keys.
        int withShortcut = 0;
        for (QAction* a : w.findChildren<QAction*>()) {
            if (a->shortcuts().isEmpty()) continue;
            ++withShortcut;
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            const QString k = keys.join(" / ");
            QVERIFY2(shown.contains(k), qPrintable(k + " missing for " + a->text()));
            QVERIFY2(!shown.value(k).contains('&'), qPrintable(shown.value(k)));
        }
        QCOMPARE(table->rowCount(), withShortcut + static_cast<int>(mouseEntries().size()));
        // The bindings users look for, spelled out.
        for (const char* k :
             {"T", "P", "R", "1", "3", "7", "Ctrl+C", "Ctrl+V", "N / Right", "B / Left", "F1 / H",
              "+ / =", "-", "C", "Shift+C", "M", "L", "Ctrl+L"}) {
            QVERIFY2(shown.contains(QString::fromLatin1(k)), k);
        }
        QCOMPARE(shown.value("T"), QStringLiteral("Bird's-eye view (orthographic, toggle)"));
        QVERIFY(shown.contains("Double-click on a point"));
        QVERIFY(shown.value("Click on a point").contains("status bar"));
        w.helpDialog()->close();
        QTest::keyClick(&w, Qt::Key_F1);
        QVERIFY(w.helpDialog()->isVisible());
    }

    void badFolderGivesAnErrorNotACrash() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        QVERIFY(!w.openSequence(tmp.path() + "/missing"));
        QCOMPARE(errors.count(), 1);
        QVERIFY(errors.at(0).at(0).toString().contains("missing"));
        QCOMPARE(w.session()->frames()->rowCount(), 3);  // the open sequence stays
        // A corrupt scan in an otherwise good folder: the error is shown, the app goes on.
        QFile bad(tmp.path() + "/000003.bin");
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("123");
        bad.close();
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 2);
        QTest::keyClick(&w, Qt::Key_N);
        QTest::keyClick(&w, Qt::Key_N);
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(currentRow(w), 3);
        QTRY_COMPARE(errors.count(), 2);
        QVERIFY(errors.at(1).at(0).toString().contains("000003.bin"));
        QVERIFY(!w.scanView()->hasCloud());
        QTest::keyClick(&w, Qt::Key_B);
        QTRY_VERIFY(w.scanView()->hasCloud());
    }

    void droppingAFolderOpensIt() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(tmp.path())});
        const QPoint pos(w.width() / 2, w.height() / 2);
        QDragEnterEvent enter(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QTRY_COMPARE(shown.count(), 1);
        QCOMPARE(w.session()->frames()->rowCount(), 3);
        // A file that is not a scan is refused at drag time.
        QFile text(tmp.path() + "/notes.txt");
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.close();
        QMimeData textMime;
        textMime.setUrls({QUrl::fromLocalFile(tmp.path() + "/notes.txt")});
        QDragEnterEvent refuse(pos, Qt::CopyAction, &textMime, Qt::LeftButton, Qt::NoModifier);
        refuse.setAccepted(false);
        QApplication::sendEvent(&w, &refuse);
        QVERIFY(!refuse.isAccepted());
        // A scan file is opened on its own: one frame, no ground truth.
        QMimeData fileMime;
        fileMime.setUrls({QUrl::fromLocalFile(tmp.path() + "/000002.bin")});
        QDragEnterEvent accept(pos, Qt::CopyAction, &fileMime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &accept);
        QVERIFY(accept.isAccepted());
        QDropEvent dropFile(pos, Qt::CopyAction, &fileMime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &dropFile);
        QTRY_COMPARE(shown.count(), 2);
        QCOMPARE(w.session()->frames()->rowCount(), 1);
        QCOMPARE(w.scanView()->cloud().pointCount, std::size_t{30});
    }

    void plainFoldersAndSingleFilesShowAMessageNotAnError() {
        const fs::path data = test::sharedData();
        const fs::path nuscenes = data / "nuscenes-sweep";
        const fs::path kitti = data / "kitti-object";
        if (!fs::exists(nuscenes) || !fs::exists(kitti)) QSKIP("shared data not found");
        MainWindow w;
        w.setErrorDialogsEnabled(true);  // an error box would be a failure here
        w.resize(900, 500);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        QSignalSpy shown(&w, &MainWindow::frameShown);
        for (const fs::path& dir : {nuscenes, kitti}) {
            const int before = shown.count();
            QVERIFY(w.openSequence(QString::fromStdString(dir.string())));
            QTRY_COMPARE_WITH_TIMEOUT(shown.count(), before + 1, 20000);
            QVERIFY(!shown.last().at(1).toBool());
            QCOMPARE(w.session()->frames()->rowCount(), 1);
            // The reference count: the same file read by core directly.
            fs::path scanFile;
            for (const auto& e : fs::directory_iterator(dir)) scanFile = e.path();
            QCOMPARE(w.scanView()->cloud().pointCount, io::readCloud(scanFile).size());
            QVERIFY(w.scanView()->cloud().pointCount > 10000);
            QVERIFY(!w.groundTruthView()->hasCloud());
            const QString msg = w.groundTruthView()->message();
            QVERIFY2(msg.contains("No ground truth") && msg.contains("poses.txt") &&
                         msg.contains("labels"),
                     qPrintable(msg));
        }
        // The nuScenes sweep opened as a single file.
        fs::path sweep;
        for (const auto& e : fs::directory_iterator(nuscenes)) sweep = e.path();
        const int before = shown.count();
        QVERIFY(w.openFile(QString::fromStdString(sweep.string())));
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), before + 1, 20000);
        QCOMPARE(w.session()->frames()->rowCount(), 1);
        QCOMPARE(w.session()->frames()->index(0).data().toString(),
                 QString::fromStdString(sweep.filename().string()));
        QCOMPARE(w.scanView()->cloud().pointCount, io::readCloud(sweep).size());
        QVERIFY(w.scanView()->cloud().hasIntensity);
        QVERIFY(w.groundTruthView()->message().contains("single file"));
        QVERIFY(w.windowTitle().contains(QString::fromStdString(sweep.filename().string())));
        QCOMPARE(errors.count(), 0);
        QVERIFY(w.findChildren<QMessageBox*>().isEmpty());
        // An unsupported file is an error (status bar + signal), and the sweep stays.
        w.setErrorDialogsEnabled(false);
        QVERIFY(!w.openFile(QString::fromStdString((data / "README.md").string())));
        QCOMPARE(errors.count(), 1);
        QVERIFY(errors.at(0).at(0).toString().contains("README.md"));
        QCOMPARE(w.session()->frames()->rowCount(), 1);
    }

    void nuscenesSweepsAreShownInKittiAxesUnlessAskedOtherwise() {
        const fs::path dir = test::sharedData() / "nuscenes-sweep";
        if (!fs::exists(dir)) QSKIP("shared data not found");
        fs::path sweep;
        for (const auto& e : fs::directory_iterator(dir)) sweep = e.path();
        // References straight from core: the file's own axes, and core's KITTI rotation.
        const PointCloud stored = io::readNuscenesBin(sweep, io::NuscenesAxes::AsStored);
        const PointCloud kitti = io::readNuscenesBin(sweep, io::NuscenesAxes::KittiFrame);
        const auto shows = [](MainWindow& w, const PointCloud& ref) {
            const CloudPolyData& cloud = w.scanView()->cloud();
            if (cloud.pointCount != ref.size()) return false;
            for (const std::size_t i : {std::size_t{0}, ref.size() / 3, ref.size() - 1}) {
                double p[3];
                cloud.polyData->GetPoint(static_cast<vtkIdType>(i), p);
                for (int a = 0; a < 3; ++a) {
                    if (p[a] != static_cast<double>(ref.xyz[i][a])) return false;
                }
            }
            return true;
        };
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(900, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QCOMPARE(w.session()->nuscenesAxes(), io::NuscenesAxes::KittiFrame);  // the default
        QVERIFY(w.openFile(QString::fromStdString(sweep.string())));
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 1, 20000);
        QVERIFY(shows(w, kitti));
        // Forward (stored +y) is now +x: the sweep's y extent became its x extent.
        double b[6];
        w.scanView()->cloud().polyData->GetBounds(b);
        double sb[4] = {1e9, -1e9, 1e9, -1e9};
        for (const Vec3f& p : stored.xyz) {
            sb[0] = std::min(sb[0], double(p[0])), sb[1] = std::max(sb[1], double(p[0]));
            sb[2] = std::min(sb[2], double(p[1])), sb[3] = std::max(sb[3], double(p[1]));
        }
        QCOMPARE(b[0], sb[2]);   // x min = stored y min
        QCOMPARE(b[3], -sb[0]);  // y max = - stored x min
        // Switching back reloads the frame in its stored axes; and again.
        w.setNuscenesAxes(io::NuscenesAxes::AsStored);
        QCOMPARE(w.session()->nuscenesAxes(), io::NuscenesAxes::AsStored);
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 2, 20000);
        QVERIFY(shows(w, stored));
        QAction* toggle = nullptr;
        for (QAction* a : w.findChildren<QAction*>()) {
            if (a->text().contains("KITTI axes")) toggle = a;
        }
        QVERIFY(toggle && !toggle->isChecked());
        toggle->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 3, 20000);
        QVERIFY(shows(w, kitti));
        // KITTI scans are never turned.
        const fs::path kittiScan = test::sharedData() / "kitti-object" / "000008.bin";
        QVERIFY(w.openFile(QString::fromStdString(kittiScan.string())));
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 4, 20000);
        QVERIFY(shows(w, io::readKittiBin(kittiScan)));
    }

    void realSequenceShowsScanAndGroundTruth() {
        const fs::path seq = test::semanticKittiSeq00();
        if (!fs::exists(seq)) QSKIP("shared data not found");
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1000, 500);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(QString::fromStdString(seq.string())));
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last().at(1).toBool(), 120000);
        QVERIFY(w.scanView()->cloud().pointCount > 100000);
        QVERIFY(w.groundTruthView()->cloud().pointCount > 50000);
        // Both views draw: well lit, and differently (the crop is denser than the scan).
        const QImage scan = w.scanView()->grabFramebuffer();
        const QImage gt = w.groundTruthView()->grabFramebuffer();
        double bg[3];
        w.scanView()->renderer()->GetBackground(bg);
        const QColor back = QColor::fromRgbF(bg[0], bg[1], bg[2]);
        const double scanLit = test::litShare(scan, back);
        const double gtLit = test::litShare(gt, back);
        QVERIFY2(scanLit > 0.2 && gtLit > scanLit,
                 qPrintable(QString("%1 %2").arg(scanLit).arg(gtLit)));
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    MainWindowTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "MainWindowTest.moc"
