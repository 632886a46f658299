// SPDX-License-Identifier: MIT
// The completion panel in the studio window under Xvfb, with the real `lidistill` binary and
// a tiny random model: a student run fills its view with exactly the output's points and its
// metrics row with core's numbers; stepping the frame clears the result; failures, Stop and
// content without ground truth are reported in the panel.

#include "core/base/ShippedModels.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/CompletionMetrics.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/app/CompletionPanel.h"
#include "ui/app/MainWindow.h"
#include "ui/app/SequenceSession.h"

#include <QApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QLineEdit>
#include <QListView>
#include <QLocale>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <vtkCamera.h>
#include <vtkPoints.h>
#include <vtkRenderer.h>

#ifndef LIDISTILL_CLI_BINARY
#error "LIDISTILL_CLI_BINARY must name the lidistill executable"
#endif

using namespace lidistill;
using namespace lidistill::ui;
namespace fs = std::filesystem;

namespace {

fs::path bundledSequence() {
    const QByteArray src = qgetenv("LIDISTILL_SOURCE_DIR");
    return fs::path(src.isEmpty() ? "." : src.toStdString()) / "datasets" / "semantickitti-mini" /
           "sequences" / "00";
}

bool showActive(MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return false;
    w.activateWindow();
    return QTest::qWaitForWindowActive(&w);
}

/// Tiny settings: a run takes a few seconds on one core.
CompletionSettings tinySettings(CompletionRole role, const QString& model, int steps = 2) {
    CompletionSettings s = CompletionSettings::defaults(role);
    s.model = model;
    s.steps = steps;
    s.guidance = role == CompletionRole::Student ? 3.5 : 6.0;
    s.points = 200;
    s.tile = 2;
    return s;
}

QString cell(const CompletionPanel* panel, CompletionRole role, int column) {
    const QTableWidgetItem* item = panel->metricsTable()->item(static_cast<int>(role), column);
    return item ? item->text() : QString();
}

}  // namespace

class CompletionPanelTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        LIDISTILL_REQUIRE_GL();
        QVERIFY(fs::is_directory(bundledSequence()));
        m_model = m_dir.filePath("tiny.safetensors");
        QProcess init;
        init.start(LIDISTILL_CLI_BINARY, {"model", "init", m_model, "--width", "0.25"});
        QVERIFY(init.waitForFinished(60000));
        QCOMPARE(init.exitCode(), 0);
    }

    void defaultsAndArguments() {
        const auto teacher = CompletionSettings::defaults(CompletionRole::Teacher);
        const auto student = CompletionSettings::defaults(CompletionRole::Student);
        // Steps and guidance are the model file's own: no --steps / --guidance.
        QCOMPARE(teacher.steps, 0);
        QVERIFY(teacher.guidance < 0);
        QCOMPARE(student.steps, 0);
        QVERIFY(student.guidance < 0);
        const auto plain = completionArguments(student, "scan.bin", "out.bin");
        QVERIFY(!plain.contains("--steps"));
        QVERIFY(!plain.contains("--guidance"));
        QCOMPARE(student.device, QStringLiteral("auto"));  // GPU when there is one
        // The shipped lite models are the defaults; their scale is the model's (no --points).
        if (!lidistill::shippedModel(lidistill::kShippedStudent).empty()) {
            QVERIFY(student.model.endsWith(QStringLiteral("lite-student.safetensors")));
            QVERIFY(teacher.model.endsWith(QStringLiteral("lite-teacher.safetensors")));
        }
        QCOMPARE(student.points, 0);
        QVERIFY(!completionArguments(student, "s.bin", "o.bin").contains("--points"));
        CompletionSettings s = tinySettings(CompletionRole::Student, "m.safetensors", 3);
        s.seed = 7;
        s.device = "cuda";
        s.refine = false;
        QCOMPARE(completionArguments(s, "scan.bin", "out.bin"),
                 (QStringList{"complete", "m.safetensors", "scan.bin", "out.bin", "--force", "--steps", "3",
                              "--guidance", "3.5", "--seed", "7", "--points", "200", "--tile", "2",
                              "--device", "cuda", "--no-refine"}));
        // nuScenes sweeps come back in the axes the studio shows them in.
        const auto sweep = completionArguments(s, "a.pcd.bin", "out.bin", true);
        QCOMPARE(sweep.mid(sweep.size() - 2), (QStringList{"--nuscenes-axes", "kitti"}));
        const auto stored = completionArguments(s, "a.pcd.bin", "out.bin", false);
        QCOMPARE(stored.mid(stored.size() - 2), (QStringList{"--nuscenes-axes", "stored"}));
    }

    void studentRunShowsItsPointsAndCoreMetrics() {
        const fs::path seqDir = bundledSequence();
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1300, 800);
        QVERIFY(showActive(w));
        CompletionPanel* panel = w.completionPanel();
        panel->setProgram(LIDISTILL_CLI_BINARY);
        QVERIFY(!w.teacherView()->isVisible());  // the result row comes with the panel
        QTest::keyClick(&w, Qt::Key_K);
        QVERIFY(w.completionDock()->isVisible());
        QVERIFY(w.teacherView()->isVisible() && w.studentView()->isVisible());
        QCOMPARE(w.studentView()->renderer()->GetActiveCamera(),
                 w.scanView()->renderer()->GetActiveCamera());

        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(QString::fromStdString(seqDir.string())));
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last().at(1).toBool(), 60000);
        QCOMPARE(shown.last().at(0).toInt(), 0);

        CompletionSlot* student = panel->slot(CompletionRole::Student);
        auto none = student->settings();
        none.model.clear();
        student->setSettings(none);
        QVERIFY(!student->runButton()->isEnabled());  // no model yet
        student->setSettings(tinySettings(CompletionRole::Student, m_model));
        QVERIFY(student->runButton()->isEnabled());
        QSignalSpy results(panel, &CompletionPanel::resultShown);
        QSignalSpy scored(panel, &CompletionPanel::metricsShown);
        QTest::mouseClick(student->runButton(), Qt::LeftButton);
        QVERIFY(student->isRunning());
        QCOMPARE(student->runButton()->text(), QStringLiteral("Stop"));
        QTRY_COMPARE_WITH_TIMEOUT(scored.count(), 1, 60000);
        QCOMPARE(results.count(), 1);
        QCOMPARE(results.first().at(0).value<CompletionRole>(), CompletionRole::Student);
        QCOMPARE(scored.first().at(1).toInt(), 0);
        QCOMPARE(student->progressBar()->value(), student->progressBar()->maximum());
        QVERIFY2(student->statusText().startsWith("Wrote 000000_student.bin"),
                 qPrintable(student->statusText()));
        // "Auto" device: CUDA where lidistill has it, else (here, with Debian's CPU libtorch)
        // the CPU after lidistill said so; the run that wrote the file used that device.
        const QStringList args = student->worker()->lastOptions();
        QCOMPARE(args.value(args.indexOf("--device") + 1), student->runDevice());
        QVERIFY(student->runDevice() == "cpu" || student->runDevice() == "cuda");
        QVERIFY2(student->statusText().endsWith(student->runDevice() == "cpu" ? "on the CPU."
                                                                              : "on the GPU."),
                 qPrintable(student->statusText()));

        // The view holds exactly the points of the output file.
        const QString file = panel->resultFile(CompletionRole::Student);
        QCOMPARE(QFileInfo(file).absolutePath(),
                 QFileInfo(panel->outputFolder()).absoluteFilePath());
        QCOMPARE(QFileInfo(file).fileName(), QStringLiteral("000000_student.bin"));
        const PointCloud out = io::readCloud(file.toStdString());
        QVERIFY(out.size() > 0);
        const CloudPolyData& drawn = w.studentView()->cloud();
        QCOMPARE(drawn.pointCount, out.size());
        vtkPoints* pts = drawn.polyData->GetPoints();
        QCOMPARE(static_cast<std::size_t>(pts->GetNumberOfPoints()), out.size());
        for (vtkIdType i = 0; i < pts->GetNumberOfPoints(); ++i) {
            double p[3];
            pts->GetPoint(i, p);
            const Vec3f& q = out.xyz[static_cast<std::size_t>(i)];
            QVERIFY(static_cast<float>(p[0]) == q[0] && static_cast<float>(p[1]) == q[1] &&
                    static_cast<float>(p[2]) == q[2]);
        }
        QVERIFY(!w.teacherView()->hasCloud());

        // The row equals core's metrics of the same file against the frame's ground truth,
        // computed here from scratch (map built anew, not read from the studio's cache).
        const Sequence seq = Sequence::open(seqDir);
        const map::StaticMap staticMap = map::buildStaticMap(seq);
        const PointCloud gt = map::groundTruthForFrame(seq, staticMap, 0);
        metrics::SequenceAccumulator acc;
        acc.add(metrics::evaluateScan(out, gt));
        const metrics::SequenceMetrics m = acc.result();
        const auto s = CompletionRole::Student;
        QCOMPARE(cell(panel, s, CompletionPanel::PointsColumn),
                 QLocale().toString(static_cast<qulonglong>(out.size())));
        QCOMPARE(cell(panel, s, CompletionPanel::ChamferColumn), QString::number(m.cdMean, 'f', 4));
        QCOMPARE(cell(panel, s, CompletionPanel::JsdBevColumn), QString::number(m.jsdBev, 'f', 4));
        QCOMPARE(cell(panel, s, CompletionPanel::Iou05Column),
                 QString::number(100.0 * m.iouCurrent.at(0), 'f', 2));
        QCOMPARE(cell(panel, s, CompletionPanel::Iou02Column),
                 QString::number(100.0 * m.iouCurrent.at(1), 'f', 2));
        QCOMPARE(cell(panel, s, CompletionPanel::Iou01Column),
                 QString::number(100.0 * m.iouCurrent.at(2), 'f', 2));
        QCOMPARE(cell(panel, s, CompletionPanel::PrecisionColumn),
                 QString::number(m.auc.precision, 'f', 2));
        QCOMPARE(cell(panel, s, CompletionPanel::RecallColumn),
                 QString::number(m.auc.recall, 'f', 2));
        QCOMPARE(cell(panel, s, CompletionPanel::FScoreColumn),
                 QString::number(m.auc.fscore, 'f', 2));
        QVERIFY(m.cdMean > 0.0);
        QCOMPARE(cell(panel, CompletionRole::Teacher, CompletionPanel::ChamferColumn), "-");
        QVERIFY(!cell(panel, s, CompletionPanel::TimeColumn).isEmpty());
        QVERIFY(cell(panel, s, CompletionPanel::TimeColumn) != "-");

        // Another frame: the result does not belong to it.
        w.frameList()->setFocus();
        QTest::keyClick(&w, Qt::Key_N);
        QTRY_COMPARE(shown.last().at(0).toInt(), 1);
        QVERIFY(!w.studentView()->hasCloud());
        QVERIFY2(w.studentView()->message().contains("No student result for frame 000001"),
                 qPrintable(w.studentView()->message()));
        QVERIFY(panel->resultFile(s).isEmpty());
        QCOMPARE(cell(panel, s, CompletionPanel::ChamferColumn), "-");
        QCOMPARE(cell(panel, s, CompletionPanel::PointsColumn), "-");
        // Back on frame 0, its result (and its metrics) come back.
        QTest::keyClick(&w, Qt::Key_B);
        QTRY_COMPARE_WITH_TIMEOUT(scored.count(), 2, 30000);
        QCOMPARE(w.studentView()->cloud().pointCount, out.size());
        QCOMPARE(cell(panel, s, CompletionPanel::ChamferColumn), QString::number(m.cdMean, 'f', 4));
    }

    void aRunThatEndsOnAnotherFrameWaitsForItsFrame() {
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1200, 700);
        QVERIFY(showActive(w));
        CompletionPanel* panel = w.completionPanel();
        panel->setProgram(LIDISTILL_CLI_BINARY);
        w.completionDock()->show();
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(QString::fromStdString(bundledSequence().string())));
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last().at(1).toBool(), 60000);
        w.selectRow(2);
        QTRY_COMPARE(shown.last().at(0).toInt(), 2);

        CompletionSlot* teacher = panel->slot(CompletionRole::Teacher);
        teacher->setSettings(tinySettings(CompletionRole::Teacher, m_model));
        QSignalSpy running(teacher, &CompletionSlot::runningChanged);
        QSignalSpy results(panel, &CompletionPanel::resultShown);
        QVERIFY(teacher->run());
        w.selectRow(3);  // while frame 2 is being completed
        QTRY_COMPARE(shown.last().at(0).toInt(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(running.count(), 2, 60000);
        QCOMPARE(teacher->runFrame(), 2);
        QVERIFY(QFileInfo::exists(teacher->outputFile("000002")));
        QCOMPARE(results.count(), 0);  // frame 3 is on screen: nothing shown
        QVERIFY(!w.teacherView()->hasCloud());
        QVERIFY(panel->resultFile(CompletionRole::Teacher).isEmpty());
        w.selectRow(2);
        QTRY_COMPARE_WITH_TIMEOUT(results.count(), 1, 30000);
        QCOMPARE(results.first().at(1).toInt(), 2);
        QCOMPARE(panel->resultFile(CompletionRole::Teacher), teacher->outputFile("000002"));
        QCOMPARE(w.teacherView()->cloud().pointCount,
                 io::readCloud(teacher->outputFile("000002").toStdString()).size());
    }

    void failureAndStopAreReportedInTheSlot() {
        QTemporaryDir tmp;
        const QString bad = tmp.filePath("broken.safetensors");
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("not a model");
        }
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1200, 700);
        QVERIFY(showActive(w));
        CompletionPanel* panel = w.completionPanel();
        panel->setProgram(LIDISTILL_CLI_BINARY);
        w.completionDock()->show();
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QSignalSpy errors(&w, &MainWindow::errorShown);
        const fs::path scan = bundledSequence() / "velodyne" / "000001.bin";
        QVERIFY(w.openFile(QString::fromStdString(scan.string())));
        QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 1, 30000);

        CompletionSlot* teacher = panel->slot(CompletionRole::Teacher);
        teacher->setSettings(tinySettings(CompletionRole::Teacher, bad));
        QSignalSpy running(teacher, &CompletionSlot::runningChanged);
        QVERIFY(teacher->run());
        QTRY_COMPARE_WITH_TIMEOUT(running.count(), 2, 30000);
        QVERIFY2(teacher->statusText().startsWith("Failed: ") &&
                     teacher->statusText().contains("broken.safetensors"),
                 qPrintable(teacher->statusText()));
        QCOMPARE(errors.count(), 1);
        QVERIFY(errors.first().at(0).toString().contains("Teacher completion failed"));
        QVERIFY(!w.teacherView()->hasCloud());

        // Stop a long run: cancelled, nothing written, nothing shown.
        teacher->setSettings(tinySettings(CompletionRole::Teacher, m_model, 1000));
        QVERIFY(teacher->run());
        QTRY_VERIFY_WITH_TIMEOUT(teacher->progressBar()->value() > 60, 60000);
        QTest::mouseClick(teacher->runButton(), Qt::LeftButton);  // the button says Stop
        QTRY_VERIFY_WITH_TIMEOUT(!teacher->isRunning(), 20000);
        QCOMPARE(teacher->statusText(), QStringLiteral("Cancelled."));
        QCOMPARE(teacher->runButton()->text(), QStringLiteral("Run"));
        QVERIFY(!QFileInfo::exists(teacher->outputFile("000001")));
        QVERIFY(!w.teacherView()->hasCloud());
        QCOMPARE(errors.count(), 1);  // a cancel is no error

        // A single file has no ground truth: the table says so instead of numbers.
        CompletionSlot* student = panel->slot(CompletionRole::Student);
        student->setSettings(tinySettings(CompletionRole::Student, m_model));
        QSignalSpy scored(panel, &CompletionPanel::metricsShown);
        QVERIFY(student->run());
        QTRY_COMPARE_WITH_TIMEOUT(scored.count(), 1, 60000);
        QVERIFY(w.studentView()->hasCloud());
        QVERIFY2(cell(panel, CompletionRole::Student, CompletionPanel::ChamferColumn)
                     .contains("No ground truth for a single file"),
                 qPrintable(cell(panel, CompletionRole::Student, CompletionPanel::ChamferColumn)));
        QCOMPARE(panel->metricsTable()->columnSpan(1, CompletionPanel::ChamferColumn),
                 CompletionPanel::ColumnCount - CompletionPanel::ChamferColumn);
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    CompletionPanelTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "CompletionPanelTest.moc"
