// SPDX-License-Identifier: MIT
// The training panel in the studio window under Xvfb: D shows its dock, the open sequence is
// the default, the latest student goes to the completion panel's Student slot, and closing
// and destroying the window leaves a run going (found again and stopped by folder).

#include "tests/ui/BundledData.h"
#include "tests/ui/GlTestSupport.h"
#include "ui/app/CompletionPanel.h"
#include "ui/app/MainWindow.h"
#include "ui/app/TrainingPanel.h"
#include "ui/models/MetricsLog.h"
#include "ui/workers/TrainingRun.h"

#include <QApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>

#ifndef LIDISTILL_CLI_BINARY
#error "LIDISTILL_CLI_BINARY must name the lidistill executable"
#endif

using namespace lidistill::ui;

using lidistill::ui::test::bundledSequence;

namespace {

bool showActive(MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return false;
    w.activateWindow();
    return QTest::qWaitForWindowActive(&w);
}

}  // namespace

class TrainingDockTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_teacher;
    qint64 m_pid = 0;

    void tinyInto(TrainingPanel* panel, const QString& out, int steps) {
        TrainingSettings s = panel->settings();
        s.teacher = m_teacher;
        s.outDir = out;
        s.steps = steps;
        s.lr = 1e-2;
        s.points = 200;
        s.fullPoints = 2000;
        s.tile = 2;
        panel->setSettings(s);
        panel->setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        panel->run()->setPollIntervalMs(50);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_teacher = m_dir.filePath("teacher.safetensors");
        QProcess init;
        init.start(QStringLiteral(LIDISTILL_CLI_BINARY),
                   {"model", "init", m_teacher, "--width", "0.25"});
        QVERIFY(init.waitForFinished(60000));
        QVERIFY2(init.exitCode() == 0, init.readAllStandardError().constData());
    }

    void cleanupTestCase() {
        if (m_pid > 0 && ::kill(static_cast<pid_t>(m_pid), 0) == 0) {
            ::kill(static_cast<pid_t>(m_pid), SIGKILL);
        }
    }

    void dockRunsAndHandsTheStudentOver() {
        LIDISTILL_REQUIRE_GL();
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1300, 900);
        QVERIFY(showActive(w));
        QVERIFY(!w.trainingDock()->isVisible());
        QTest::keyClick(&w, Qt::Key_D);
        QVERIFY(w.trainingDock()->isVisible());

        QVERIFY(w.openSequence(bundledSequence()));
        TrainingPanel* panel = w.trainingPanel();
        QCOMPARE(QFileInfo(panel->settings().sequence).absoluteFilePath(), bundledSequence());
        tinyInto(panel, m_dir.filePath("dock"), 2);
        QVERIFY2(panel->start(), qPrintable(panel->statusText()));
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Finished, 60000);
        QVERIFY(panel->studentButton()->isEnabled());
        panel->studentButton()->click();
        QVERIFY(w.completionDock()->isVisible());
        QCOMPARE(w.completionPanel()->slot(CompletionRole::Student)->modelEdit()->text(),
                 panel->run()->latestStudent());
        QVERIFY(QFileInfo::exists(panel->run()->latestStudent()));
    }

    void closingTheWindowLeavesTheRunGoing() {
        LIDISTILL_REQUIRE_GL();
        const QString out = m_dir.filePath("survivor");
        QString outDir;
        {
            auto w = std::make_unique<MainWindow>();
            w->setErrorDialogsEnabled(false);
            QVERIFY(showActive(*w));
            TrainingPanel* panel = w->trainingPanel();
            tinyInto(panel, out, 1000);
            TrainingSettings s = panel->settings();
            s.sequence = bundledSequence();
            panel->setSettings(s);
            QVERIFY(panel->start());
            m_pid = panel->run()->pid();
            outDir = panel->run()->outDir();
            QTRY_VERIFY_WITH_TIMEOUT(panel->run()->metrics()->lastStep() >= 1, 60000);
            QVERIFY(w->close());
        }
        QTest::qWait(200);
        QVERIFY(TrainingRun::isTrainProcess(m_pid, outDir));

        TrainingRun run;
        run.setPollIntervalMs(50);
        QVERIFY(run.attach(out));
        QCOMPARE(run.pid(), m_pid);
        const int seen = run.metrics()->lastStep();
        QTRY_VERIFY_WITH_TIMEOUT(run.metrics()->lastStep() > seen, 60000);
        run.stop();
        QTRY_COMPARE_WITH_TIMEOUT(run.state(), TrainingState::Stopped, 30000);
        QVERIFY(QFileInfo::exists(out + "/student_latest.safetensors"));
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    TrainingDockTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "TrainingDockTest.moc"
