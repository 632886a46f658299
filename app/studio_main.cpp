// SPDX-License-Identifier: MIT
// lidistill-studio: the desktop viewer. Sets up GL and Qt, parses the command line, shows
// MainWindow. Never links libtorch or Qt5 (models run in `lidistill` worker processes).

#include "core/base/Log.h"
#include "ui/app/CompletionPanel.h"
#include "ui/app/CurationPanel.h"
#include "ui/app/MainWindow.h"
#include "ui/app/MakePairsForm.h"
#include "ui/app/SequenceSession.h"
#include "ui/render/VtkViewport.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QProcess>
#include <QImage>
#include <QTimer>

#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

#ifndef LIDISTILL_DEFAULT_SEQUENCE
#define LIDISTILL_DEFAULT_SEQUENCE ""
#endif

namespace {

/// Saves a picture of the whole window to `file` and ends the event loop (exit code 1 if the file
/// cannot be written).
void saveWindowAndQuit(lidistill::ui::MainWindow& window, const QString& file) {
    const QImage image = window.grab().toImage();
    const bool ok = image.save(file);
    std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "screenshot saved to" : "cannot save",
                 qPrintable(file));
    QCoreApplication::exit(ok ? 0 : 1);
}

/// Saves a picture of the whole window once the first frame (with its ground truth, if the
/// sequence can have one) is on screen, then quits. Returns through the exit code.
void arrangeScreenshot(lidistill::ui::MainWindow& window, const QString& file, int frame) {
    auto take = [&window, file] { saveWindowAndQuit(window, file); };
    QObject::connect(&window, &lidistill::ui::MainWindow::frameShown, &window,
                     [&window, take, frame](int index, bool withGroundTruth) {
                         const auto& seq = window.session()->sequence();
                         const bool gtExpected = seq && seq->hasPoses() && seq->hasLabels();
                         if (index != frame) {
                             window.selectRow(frame);  // list and views stay in step
                             return;
                         }
                         if (withGroundTruth || !gtExpected) {
                             QTimer::singleShot(300, &window, take);  // let both views paint
                         }
                     });
    QObject::connect(&window, &lidistill::ui::MainWindow::errorShown, &window,
                     [](const QString& message) {
                         std::fprintf(stderr, "error: %s\n", qPrintable(message));
                         QCoreApplication::exit(1);
                     });
}

/// As arrangeScreenshot, for the Curate workspace (--pairs): once its first pair is on screen
/// with its ground truth (or without, when none is coming), or at once for an empty store.
void arrangeCurationScreenshot(lidistill::ui::MainWindow& window, const QString& file) {
    auto take = [&window, file] { saveWindowAndQuit(window, file); };
    lidistill::ui::CurationPanel* panel = window.curationPanel();
    QObject::connect(panel, &lidistill::ui::CurationPanel::pairShown, &window,
                     [panel, take](qlonglong, bool withGroundTruth) {
                         if (withGroundTruth || !panel->waitingForGroundTruth()) {
                             QTimer::singleShot(300, panel, take);  // let the views paint
                         }
                     });
    QObject::connect(panel, &lidistill::ui::CurationPanel::storeOpened, &window,
                     [panel, take](const QString&, int pairs) {
                         if (pairs == 0) QTimer::singleShot(300, panel, take);
                     });
    QObject::connect(&window, &lidistill::ui::MainWindow::errorShown, &window,
                     [](const QString& message) {
                         std::fprintf(stderr, "error: %s\n", qPrintable(message));
                         QCoreApplication::exit(1);
                     });
}

}  // namespace

int main(int argc, char** argv) {
    // VTK 9.1 on Debian initialises GL through GLEW/GLX: keep Qt on xcb (XWayland on
    // Wayland desktops) unless the user explicitly chose a platform.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "xcb");
    }
    lidistill::ui::VtkViewport::setDefaultSurfaceFormat();  // must precede QApplication
    QApplication app(argc, argv);
    QApplication::setApplicationName("lidistill-studio");
    QApplication::setOrganizationName("lidistill");
    QApplication::setApplicationVersion("0.1.0");

    QCommandLineParser parser;
    parser.setApplicationDescription(
        "LiDistill Studio: LiDAR scans, ground truth and completions.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        "sequence", "Sequence folder or single scan file (default: the bundled sample).");
    const QCommandLineOption screenshot(
        "screenshot", "Save a PNG of the window once the frame is shown, then exit.", "file");
    const QCommandLineOption frameOpt("frame", "Frame to show first (0-based).", "index", "0");
    const QCommandLineOption colorOpt(
        "color", "Colour mode: height, range, intensity, class or instance.", "mode", "class");
    const QCommandLineOption sizeOpt("size", "Window size WxH.", "size");
    const QCommandLineOption colormapOpt("colormap",
                                         "Colormap of height, range and intensity: " +
                                             lidistill::ui::colormapNames().join(", ") + ".",
                                         "name", "turbo");
    const QCommandLineOption rangeOpt(
        "range",
        "Fixed colour range MIN:MAX of the --color mode (height, range or intensity), kept "
        "for every frame. Default: 2-98 % of each scan.",
        "min:max");
    const QCommandLineOption axesOpt(
        "nuscenes-axes",
        "How nuScenes sweeps are shown: kitti (x forward, y left; default) or stored "
        "(x right, y forward).",
        "axes", "kitti");
    const QCommandLineOption teacherOpt(
        "teacher", "Teacher model file for the completion panel (shown when given).", "file");
    const QCommandLineOption refinerOpt(
        "refiner",
        "A separate refiner file for the --teacher and --student models (LiDiff's "
        "refine_net.ckpt, converted).",
        "file");
    const QCommandLineOption studentOpt(
        "student", "Student model file for the completion panel (shown when given).", "file");
    const QCommandLineOption workerOpt(
        "worker-prefix",
        "Run the completion workers through this command, e.g. \"ssh gpu-box\" (the model and "
        "the scans are sent to them; the remote machine needs only lidistill). Also "
        "$LIDISTILL_WORKER_PREFIX.",
        "command");
    const QCommandLineOption pairsOpt(
        "pairs",
        "Open this preference-pair store in the Curate workspace (with --screenshot: a picture "
        "of the workspace on its first pending pair).",
        "store");
    const QCommandLineOption workerProgramOpt(
        "worker-program", "lidistill as the worker's machine names it (with --worker-prefix).",
        "path", "lidistill");
    parser.addOptions({screenshot, frameOpt, colorOpt, sizeOpt, colormapOpt, rangeOpt, axesOpt,
                       teacherOpt, studentOpt, refinerOpt, workerOpt, workerProgramOpt, pairsOpt});
    parser.process(app);

    // Usage errors are reported before any window appears.
    const auto usageError = [](const QString& message) {
        std::fprintf(stderr, "lidistill-studio: %s\n", qPrintable(message));
        return 2;
    };
    const auto colormap = lidistill::ui::colormapFromName(parser.value(colormapOpt));
    if (!colormap) {
        return usageError(
            QStringLiteral("unknown colormap '%1' (use one of %2)")
                .arg(parser.value(colormapOpt), lidistill::ui::colormapNames().join(", ")));
    }
    const QString mode = parser.value(colorOpt).toLower();
    const lidistill::ui::ColorMode colorMode =
        mode == "height"      ? lidistill::ui::ColorMode::Height
        : mode == "range"     ? lidistill::ui::ColorMode::Range
        : mode == "intensity" ? lidistill::ui::ColorMode::Intensity
        : mode == "instance"  ? lidistill::ui::ColorMode::Instance
                              : lidistill::ui::ColorMode::SemanticClass;
    std::optional<lidistill::ui::ColorRange> range;
    if (parser.isSet(rangeOpt)) {
        if (!lidistill::ui::isScalarMode(colorMode)) {
            return usageError(QStringLiteral(
                "--range needs --color height, range or intensity (class colours have no range)"));
        }
        try {
            range = lidistill::ui::parseColorRange(parser.value(rangeOpt));
        } catch (const std::exception& e) {
            return usageError(QString::fromUtf8(e.what()));
        }
    }
    const QString axes = parser.value(axesOpt).toLower();
    if (axes != "kitti" && axes != "stored") {
        return usageError(
            QStringLiteral("--nuscenes-axes must be kitti or stored, not '%1'").arg(axes));
    }

    try {
        lidistill::ui::MainWindow window;
        if (parser.isSet(sizeOpt)) {
            const QStringList wh = parser.value(sizeOpt).split('x');
            if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
        }
        window.setColorMode(colorMode);
        window.setColormap(*colormap);
        if (range) window.setFixedRange(colorMode, range);
        window.setNuscenesAxes(axes == "stored" ? lidistill::io::NuscenesAxes::AsStored
                                                : lidistill::io::NuscenesAxes::KittiFrame);
        const QString prefix = parser.isSet(workerOpt)
                                   ? parser.value(workerOpt)
                                   : qEnvironmentVariable("LIDISTILL_WORKER_PREFIX");
        if (!prefix.trimmed().isEmpty()) {
            window.completionPanel()->setWorkerCommand(QProcess::splitCommand(prefix),
                                                       parser.value(workerProgramOpt));
            auto* pairsWorker = window.curationPanel()->makePairsForm()->worker();
            pairsWorker->setCommandPrefix(QProcess::splitCommand(prefix));
            if (parser.isSet(workerProgramOpt)) pairsWorker->setProgram(parser.value(workerProgramOpt));
        }
        for (const auto& [opt, role] :
             {std::pair{&teacherOpt, lidistill::ui::CompletionRole::Teacher},
              std::pair{&studentOpt, lidistill::ui::CompletionRole::Student}}) {
            if (!parser.isSet(*opt)) continue;
            lidistill::ui::CompletionSlot* slot = window.completionPanel()->slot(role);
            auto settings = slot->settings();
            settings.model = QFileInfo(parser.value(*opt)).absoluteFilePath();
            if (parser.isSet(refinerOpt)) {
                settings.refiner = QFileInfo(parser.value(refinerOpt)).absoluteFilePath();
            }
            slot->setSettings(settings);
            window.completionDock()->show();
        }
        const int frame = parser.value(frameOpt).toInt();
        const QString store = parser.value(pairsOpt);
        if (parser.isSet(screenshot) && !store.isEmpty()) {
            window.setErrorDialogsEnabled(false);
            arrangeCurationScreenshot(window, parser.value(screenshot));
        } else if (parser.isSet(screenshot)) {
            window.setErrorDialogsEnabled(false);
            arrangeScreenshot(window, parser.value(screenshot), frame);
        } else if (frame > 0) {
            QObject::connect(window.session(), &lidistill::ui::SequenceSession::opened, &window,
                             [&window, frame] { window.selectRow(frame); });
        }
        window.show();

        QString dir = parser.positionalArguments().value(0);
        if (dir.isEmpty() && QFileInfo(QStringLiteral(LIDISTILL_DEFAULT_SEQUENCE)).isDir()) {
            dir = QStringLiteral(LIDISTILL_DEFAULT_SEQUENCE);
        }
        // After show(): the window is up before the first scan arrives. The store after the
        // sequence: a pair of the open sequence then shares its ground-truth map.
        QTimer::singleShot(0, &window, [&window, dir, store] {
            if (!dir.isEmpty() && QFileInfo(dir).isFile()) {
                window.openFile(dir);
            } else if (!dir.isEmpty()) {
                window.openSequence(dir);
            }
            if (!store.isEmpty()) window.openPairStore(store);
        });
        return QApplication::exec();
    } catch (const std::exception& e) {
        // Last resort: everything expected is caught in the workers and shown in the window.
        lidistill::log::error("lidistill-studio: ", e.what());
        return 2;
    }
}
