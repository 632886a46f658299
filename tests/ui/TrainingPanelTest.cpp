// SPDX-License-Identifier: MIT
// The training panel against the real `lidistill train-dpo` with tiny settings: a run plots
// the values it logs, a long run stops (and resumes) from the panel, a run outlives its panel
// and is found again by folder (with and without studio-run.json), a failing run shows the
// CLI's error from train.log, and a pid that is not the run's is never taken for it.

#include "tests/ui/BundledData.h"
#include "ui/app/TrainingCharts.h"
#include "ui/app/TrainingPanel.h"
#include "ui/models/MetricsLog.h"
#include "ui/workers/TrainingRun.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <unistd.h>

#ifndef LIDISTILL_CLI_BINARY
#error "LIDISTILL_CLI_BINARY must name the lidistill executable"
#endif

using namespace lidistill::ui;

using lidistill::ui::test::bundledSequence;

namespace {

QString readAll(const QString& file) {
    QFile f(file);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

bool alive(qint64 pid) {
    return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0;
}

}  // namespace

class TrainingPanelTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_teacher;
    QList<qint64> m_pids;  // killed at the end whatever happens

    TrainingSettings tiny(const QString& out, int steps) const {
        TrainingSettings s;
        s.teacher = m_teacher;
        s.sequence = bundledSequence();
        s.outDir = out;
        s.steps = steps;
        s.lr = 1e-2;
        s.points = 200;
        s.fullPoints = 2000;
        s.tile = 2;
        return s;
    }

    std::unique_ptr<TrainingPanel> makePanel() {
        auto panel = std::make_unique<TrainingPanel>(nullptr);
        panel->setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        panel->run()->setPollIntervalMs(50);
        return panel;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFileInfo(bundledSequence() + "/poses.txt").isFile(),
                 qPrintable(bundledSequence()));
        m_teacher = m_dir.filePath("teacher.safetensors");
        QProcess init;
        init.start(QStringLiteral(LIDISTILL_CLI_BINARY),
                   {"model", "init", m_teacher, "--width", "0.25"});
        QVERIFY(init.waitForFinished(60000));
        QVERIFY2(init.exitCode() == 0, init.readAllStandardError().constData());
    }

    void cleanupTestCase() {
        for (qint64 pid : m_pids) {
            if (alive(pid)) ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
    }

    void tinyRunPlotsItsMetrics() {
        const QString out = m_dir.filePath("tiny");
        auto panel = makePanel();
        panel->setSettings(tiny(out, 3));
        QVERIFY2(panel->start(), qPrintable(panel->statusText()));
        m_pids << panel->run()->pid();
        QVERIFY(panel->run()->pid() > 0);
        const QJsonObject record =
            QJsonDocument::fromJson(readAll(out + "/studio-run.json").toUtf8()).object();
        QCOMPARE(static_cast<qint64>(record.value("pid").toDouble()), panel->run()->pid());
        QVERIFY(!panel->startButton()->isEnabled());

        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Finished, 60000);
        QVERIFY2(readAll(out + "/train.log").contains("trained 3 step"),
                 qPrintable(readAll(out + "/train.log")));
        QCOMPARE(panel->statusText(), QStringLiteral("finished: step 3 of 3"));
        QVERIFY(panel->startButton()->isEnabled() && !panel->stopButton()->isEnabled());

        // The plots hold what metrics.jsonl says, read here with another parser.
        std::ifstream in((out + "/metrics.jsonl").toStdString());
        std::vector<nlohmann::json> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(nlohmann::json::parse(line));
        QCOMPARE(lines.size(), std::size_t(3));
        QTRY_COMPARE(panel->charts()->points(TrainingCurve::GeneratorLoss).size(), 3);
        const auto lossG = panel->charts()->points(TrainingCurve::GeneratorLoss);
        const auto lossAux = panel->charts()->points(TrainingCurve::AuxLoss);
        const auto win = panel->charts()->points(TrainingCurve::WinnerChamfer);
        const auto lose = panel->charts()->points(TrainingCurve::LoserChamfer);
        QCOMPARE(lossAux.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const auto& j = lines[std::size_t(i)];
            QCOMPARE(lossG[i].x(), double(i + 1));
            QCOMPARE(lossG[i].y(), j.at("loss_g").get<double>());
            QCOMPARE(lossAux[i].y(), j.at("loss_aux").get<double>());
            QCOMPARE(win[i].y(), j.at("cd_winner").get<double>());
            QCOMPARE(lose[i].y(), j.at("cd_loser").get<double>());
            QVERIFY(win[i].y() <= lose[i].y());  // the winner is the lower Chamfer distance
        }
        QVERIFY(panel->charts()->points(TrainingCurve::ValidationChamfer).isEmpty());

        // The latest student goes to whoever listens (the main window's completion panel).
        QVERIFY(panel->studentButton()->isEnabled());
        QSignalSpy chosen(panel.get(), &TrainingPanel::studentChosen);
        panel->studentButton()->click();
        QCOMPARE(chosen.size(), 1);
        QCOMPARE(chosen[0][0].toString(), QDir::cleanPath(QFileInfo(out).absoluteFilePath()) +
                                              "/student_latest.safetensors");
    }

    void startAsksBeforeReusingAFolder() {
        const QString out = m_dir.filePath("reuse");
        auto panel = makePanel();
        panel->setSettings(tiny(out, 2));
        QVERIFY2(panel->start(), qPrintable(panel->statusText()));  // a fresh folder: no question
        m_pids << panel->run()->pid();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Finished, 60000);

        QStringList asked;
        auto answer = TrainingPanel::ReuseChoice::Cancel;
        panel->setReuseQuestion([&](const QString& dir) {
            asked << dir;
            return answer;
        });
        QVERIFY(!panel->start());
        QCOMPARE(asked.size(), 1);
        QVERIFY2(panel->statusText().contains("holds a run"), qPrintable(panel->statusText()));
        QCOMPARE(panel->run()->state(), TrainingState::Finished);  // nothing was started

        // Resume: the same run goes on to 3 steps.
        panel->setSettings(tiny(out, 3));
        answer = TrainingPanel::ReuseChoice::Resume;
        QVERIFY2(panel->start(), qPrintable(panel->statusText()));
        m_pids << panel->run()->pid();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Finished, 60000);
        QCOMPARE(panel->run()->metrics()->lastStep(), 3);
        QVERIFY(readAll(out + "/train.log").contains("--resume"));

        // Start over: --force, a new log of 1 step.
        panel->setSettings(tiny(out, 1));
        answer = TrainingPanel::ReuseChoice::StartOver;
        QVERIFY2(panel->start(), qPrintable(panel->statusText()));
        m_pids << panel->run()->pid();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Finished, 60000);
        QCOMPARE(asked.size(), 3);
        QVERIFY(readAll(out + "/train.log").contains("--force"));
        QCOMPARE(readAll(out + "/metrics.jsonl").count('\n'), 1);

        // Another panel overlays this run on its charts.
        auto other = makePanel();
        QVERIFY(!other->compareRun(m_dir.filePath("no-such-run")));
        QVERIFY(other->compareRun(out));
        QCOMPARE(other->charts()->runCount(), 2);
        QTRY_COMPARE(other->charts()->points(TrainingCurve::GeneratorLoss, 1).size(), 1);
        other->clearComparedRuns();
        QCOMPARE(other->charts()->runCount(), 1);
    }

    void longRunStopsAndResumes() {
        const QString out = m_dir.filePath("long");
        auto panel = makePanel();
        panel->setSettings(tiny(out, 1000));
        QVERIFY(panel->start());
        const qint64 pid = panel->run()->pid();
        m_pids << pid;
        QTRY_VERIFY_WITH_TIMEOUT(panel->run()->metrics()->lastStep() >= 2, 60000);
        QVERIFY(panel->statusText().startsWith("running: step "));
        QVERIFY(panel->statusText().contains(" of 1000"));
        QVERIFY(panel->stopButton()->isEnabled());
        panel->stopButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Stopped, 30000);
        QVERIFY(!alive(pid) || !TrainingRun::isTrainProcess(pid, panel->run()->outDir()));
        const int k = panel->run()->metrics()->lastStep();
        QVERIFY(k >= 2 && k < 1000);
        QCOMPARE(panel->run()->message(), QStringLiteral("stopped at step %1").arg(k));
        QVERIFY(panel->statusText().startsWith("stopped: stopped at step"));
        QVERIFY(QFileInfo::exists(out + "/student_latest.safetensors"));

        // Resume: the same folder, the steps go on from k.
        QVERIFY(panel->resumeButton()->isEnabled());
        panel->resumeButton()->click();
        QCOMPARE(panel->run()->state(), TrainingState::Running);
        m_pids << panel->run()->pid();
        QTRY_VERIFY_WITH_TIMEOUT(panel->run()->metrics()->lastStep() >= k + 1, 60000);
        panel->stop();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Stopped, 30000);
        const auto& steps = panel->run()->metrics()->steps();
        QVERIFY(steps.size() > k);
        for (int i = 0; i < steps.size(); ++i) QCOMPARE(steps[i].step, i + 1);
        // The first run's lines were kept (--resume appends to metrics.jsonl).
        QVERIFY(readAll(out + "/train.log").count("studio: started") == 2);
    }

    void runOutlivesItsPanel() {
        const QString out = m_dir.filePath("outlive");
        auto panel = makePanel();
        panel->setSettings(tiny(out, 1000));
        QVERIFY(panel->start());
        const qint64 pid = panel->run()->pid();
        const QString outDir = panel->run()->outDir();
        m_pids << pid;
        // Its own session: no signal meant for the studio's terminal or group reaches it.
        QVERIFY(::getsid(static_cast<pid_t>(pid)) != ::getsid(0));
        QTRY_VERIFY_WITH_TIMEOUT(panel->run()->metrics()->lastStep() >= 1, 60000);
        panel.reset();
        QTest::qWait(200);
        QVERIFY(alive(pid));
        QVERIFY(TrainingRun::isTrainProcess(pid, outDir));

        // Found again through studio-run.json: its history at once, then live.
        auto again = makePanel();
        QVERIFY(again->openRunFolder(out));
        QCOMPARE(again->run()->pid(), pid);
        QCOMPARE(again->run()->state(), TrainingState::Running);
        QCOMPARE(again->run()->totalSteps(), 1000);
        const int seen = again->run()->metrics()->lastStep();
        QVERIFY(seen >= 1);
        QCOMPARE(again->settings().teacher, QFileInfo(m_teacher).absoluteFilePath());
        QCOMPARE(again->settings().points, 200);
        QTRY_VERIFY(again->charts()->points(TrainingCurve::GeneratorLoss).size() >= seen);
        QTRY_VERIFY_WITH_TIMEOUT(again->run()->metrics()->lastStep() > seen, 60000);
        again.reset();

        // As a run started from a terminal: no studio-run.json, found by its command line.
        QVERIFY(QFile::remove(out + "/studio-run.json"));
        auto third = makePanel();
        QVERIFY(third->openRunFolder(out));
        QCOMPARE(third->run()->pid(), pid);
        QVERIFY(third->run()->isRunning());
        // Another panel cannot start a second run into the same folder.
        auto fourth = makePanel();
        fourth->setSettings(tiny(out, 5));
        QVERIFY(!fourth->start());
        QVERIFY2(fourth->statusText().contains("already going on"),
                 qPrintable(fourth->statusText()));
        QCOMPARE(fourth->run()->state(), TrainingState::Idle);
        third->stop();
        QTRY_COMPARE_WITH_TIMEOUT(third->run()->state(), TrainingState::Stopped, 30000);
        QVERIFY(QFileInfo::exists(out + "/student_latest.safetensors"));
        QTRY_VERIFY(!TrainingRun::isTrainProcess(pid, outDir));
    }

    void failingRunShowsTheLog() {
        const QString bad = m_dir.filePath("bad.safetensors");
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("this is no model");
        }
        const QString out = m_dir.filePath("failing");
        auto panel = makePanel();
        QSignalSpy errors(panel.get(), &TrainingPanel::errorOccurred);
        TrainingSettings s = tiny(out, 3);
        s.teacher = bad;
        panel->setSettings(s);
        QVERIFY(panel->start());
        m_pids << panel->run()->pid();
        QTRY_COMPARE_WITH_TIMEOUT(panel->run()->state(), TrainingState::Failed, 60000);
        const QString message = panel->run()->message();
        QVERIFY(!message.isEmpty());
        const QString log = readAll(out + "/train.log");
        QVERIFY2(log.contains("lidistill train-dpo: error: " + message), qPrintable(log));
        QVERIFY2(message.contains("bad.safetensors"), qPrintable(message));
        QVERIFY(panel->statusText().startsWith("failed: " + message));
        QVERIFY(panel->statusText().contains("lidistill train-dpo: error:"));  // the log tail
        QCOMPARE(errors.size(), 1);
        QVERIFY(!panel->studentButton()->isEnabled());
    }

    void foreignPidIsNotTheRun() {
        // studio-run.json names a live process that is not the run: this test itself.
        QTemporaryDir dir;
        QFile rec(dir.filePath("studio-run.json"));
        QVERIFY(rec.open(QIODevice::WriteOnly));
        rec.write(QJsonDocument(QJsonObject{{"pid", qint64(::getpid())}, {"steps", 10}}).toJson());
        rec.close();
        QFile metrics(dir.filePath("metrics.jsonl"));
        QVERIFY(metrics.open(QIODevice::WriteOnly));
        metrics.write(R"({"step":1,"frame":"000000","loss_g":1,"loss_aux":2,"cd_winner":0.5,)"
                      R"("cd_loser":0.75,"grad_g":1,"grad_aux":1,"scaled_won":true,"seconds":1})"
                      "\n");
        metrics.close();
        QVERIFY(!TrainingRun::isTrainProcess(::getpid(), dir.path()));
        TrainingRun run;
        QVERIFY(run.attach(dir.path()));
        QCOMPARE(run.pid(), qint64(0));
        QVERIFY(!run.isRunning());
        QCOMPARE(run.state(), TrainingState::Stopped);
        QCOMPARE(run.metrics()->lastStep(), 1);
        run.stop();  // nothing to signal: this process lives on
        run.kill();

        QTemporaryDir empty;
        TrainingRun none;
        QVERIFY(!none.attach(empty.path()));
        QVERIFY(none.message().contains("no training run"));
    }

    void missingProgramFails() {
        TrainingRun run;
        run.setProgram(m_dir.filePath("no-such-lidistill"));
        QVERIFY(!run.start(tiny(m_dir.filePath("noprog"), 3)));
        QCOMPARE(run.state(), TrainingState::Failed);
        QVERIFY2(run.message().startsWith("cannot start"), qPrintable(run.message()));
    }

    void argumentsOfTheSettings() {
        TrainingSettings s = tiny("/o", 7);
        s.teacher = "/t";
        s.sequence = "/s";
        s.validateEvery = 5;
        s.validationFrame = 2;
        s.objective = "released";
        QCOMPARE(trainArguments(s, true), QStringList({"train-dpo",
                                                       "/t",
                                                       "/s",
                                                       "/o",
                                                       "--events",
                                                       "/o/events.jsonl",
                                                       "--steps",
                                                       "7",
                                                       "--lr",
                                                       "0.01",
                                                       "--lambda",
                                                       "1.1",
                                                       "--objective",
                                                       "released",
                                                       "--device",
                                                       "cpu",
                                                       "--seed",
                                                       "0",
                                                       "--validate-every",
                                                       "5",
                                                       "--validation-frame",
                                                       "2",
                                                       "--points",
                                                       "200",
                                                       "--full-points",
                                                       "2000",
                                                       "--tile",
                                                       "2",
                                                       "--force-scale",
                                                       "--resume"}));
    }
};

QTEST_MAIN(TrainingPanelTest)
#include "TrainingPanelTest.moc"
