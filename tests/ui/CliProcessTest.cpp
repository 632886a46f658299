// SPDX-License-Identifier: MIT
// CliProcess against the real `lidistill` binary: progress, a completed run, the CLI's error
// message, and cancellation (SIGTERM: "cancelled", no output file).

#include "core/io/CloudFile.h"
#include "tests/ui/BundledData.h"
#include "ui/workers/CliProcess.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

#ifndef LIDISTILL_CLI_BINARY
#error "LIDISTILL_CLI_BINARY must name the lidistill executable"
#endif

using namespace lidistill;
using namespace lidistill::ui;

using lidistill::ui::test::bundledScan;

namespace {

/// Waits for the one finished() of a run; returns its outcome and message.
std::pair<CliOutcome, QString> waitFinished(QSignalSpy& finished, int timeoutMs) {
    if (!finished.wait(timeoutMs) && finished.isEmpty()) {
        return {CliOutcome::Failed, QStringLiteral("<timed out>")};
    }
    return {finished.first().at(0).value<CliOutcome>(), finished.first().at(1).toString()};
}

}  // namespace

class CliProcessTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFileInfo(bundledScan()).isFile(), qPrintable(bundledScan()));
        m_model = m_dir.filePath("tiny.pt");
        CliProcess init;
        init.setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        QSignalSpy finished(&init, &CliProcess::finished);
        QVERIFY(init.start({"model", "init", m_model, "--width", "0.25"}));
        const auto [outcome, message] = waitFinished(finished, 60000);
        QVERIFY2(outcome == CliOutcome::Succeeded, qPrintable(message));
        QVERIFY(message.isEmpty());
        QVERIFY(init.standardOutput().contains("wrote"));
        QVERIFY(QFileInfo(m_model).size() > 0);
    }

    void defaultProgramFollowsTheEnvironment() {
        qputenv("LIDISTILL_CLI", "/opt/somewhere/lidistill");
        QCOMPARE(CliProcess::defaultProgram(), QStringLiteral("/opt/somewhere/lidistill"));
        qunsetenv("LIDISTILL_CLI");
        // Next to this test binary there is no lidistill: the PATH lookup remains.
        QCOMPARE(CliProcess::defaultProgram(), QStringLiteral("lidistill"));
    }

    void completionReportsProgressInOrderAndWritesTheOutput() {
        const QString out = m_dir.filePath("done.bin");
        CliProcess p;
        p.setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        QSignalSpy progress(&p, &CliProcess::progress);
        QSignalSpy finished(&p, &CliProcess::finished);
        QVERIFY(p.start({"complete", m_model, bundledScan(), out, "--steps", "2", "--points", "200",
                         "--tile", "2"}));
        QVERIFY(p.isRunning());
        QVERIFY(!p.start({"info"}));  // one run at a time
        const auto [outcome, message] = waitFinished(finished, 60000);
        QVERIFY2(outcome == CliOutcome::Succeeded, qPrintable(message));
        QCOMPARE(finished.count(), 1);
        QVERIFY(!p.isRunning());
        QVERIFY(progress.count() >= 3);
        double last = -1.0;
        QStringList stages;
        for (const auto& args : progress) {
            const double f = args.at(0).toDouble();
            QVERIFY2(f >= last, qPrintable(QString("%1 after %2").arg(f).arg(last)));
            last = f;
            if (!stages.contains(args.at(1).toString())) stages << args.at(1).toString();
        }
        QCOMPARE(last, 1.0);
        QCOMPARE(progress.last().at(1).toString(), QStringLiteral("done"));
        QVERIFY2(stages.contains("denoising"), qPrintable(stages.join(", ")));
        QVERIFY(stages.indexOf("farthest point sampling") < stages.indexOf("denoising"));
        // The summary is for people; the result event names the output for the studio.
        QVERIFY(p.standardOutput().contains("wrote " + out));
        QVERIFY(p.result().has_value());
        QCOMPARE(QString::fromStdString(p.result()->outputs.at(0)), out);
        QCOMPARE(p.result()->number("partial_points").value_or(0), 200.0);
        const PointCloud cloud = io::readCloud(out.toStdString());
        QVERIFY(cloud.size() > 0);
        QVERIFY(cloud.size() <= 2 * 200);  // tile 2 x 200 samples, then filtered
    }

    void failureCarriesTheCliMessage() {
        const QString bad = m_dir.filePath("not-a-model.pt");
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("this is not a model file\n");
        }
        CliProcess p;
        p.setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        QSignalSpy finished(&p, &CliProcess::finished);
        const QString out = m_dir.filePath("never.bin");
        p.start({"complete", bad, bundledScan(), out, "--steps", "2"});
        const auto [outcome, message] = waitFinished(finished, 60000);
        QCOMPARE(outcome, CliOutcome::Failed);
        // The CLI's own line is "lidistill complete: error: MSG": only MSG is kept.
        QVERIFY2(!message.isEmpty() && !message.startsWith("lidistill"), qPrintable(message));
        QVERIFY2(p.diagnostics().contains("lidistill complete: error: " + message),
                 qPrintable(p.diagnostics().join('\n')));
        QVERIFY2(message.contains("not-a-model.pt"), qPrintable(message));
        QVERIFY(!QFileInfo::exists(out));

        // A usage error (exit 2) keeps its first line, not the help text after it.
        QSignalSpy usage(&p, &CliProcess::finished);
        p.start({"complete", m_model, bundledScan(), out, "--steps", "0"});
        const auto [usageOutcome, usageMessage] = waitFinished(usage, 30000);
        QCOMPARE(usageOutcome, CliOutcome::Failed);
        QCOMPARE(usageMessage, QStringLiteral("--steps must be in 1..1000, got 0"));

        // A program that cannot start fails with a reason, through the same signal.
        CliProcess missing;
        missing.setProgram(m_dir.filePath("no-such-lidistill"));
        QSignalSpy missingDone(&missing, &CliProcess::finished);
        QVERIFY(missing.start({"info"}));
        const auto [missingOutcome, missingMessage] = waitFinished(missingDone, 10000);
        QCOMPARE(missingOutcome, CliOutcome::Failed);
        QVERIFY2(missingMessage.contains("cannot start"), qPrintable(missingMessage));
        QVERIFY(!missing.isRunning());
    }

    void stopCancelsALongRunWithoutOutput() {
        const QString out = m_dir.filePath("cancelled.bin");
        CliProcess p;
        p.setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
        p.setGracePeriodMs(10000);  // the CLI must end by itself, not by the kill
        QSignalSpy progress(&p, &CliProcess::progress);
        QSignalSpy finished(&p, &CliProcess::finished);
        p.start({"complete", m_model, bundledScan(), out, "--steps", "1000", "--points", "200",
                 "--tile", "2"});
        // Stop in the middle of denoising, so that cancellation comes from the CLI's checkpoint.
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty() &&
                                     progress.last().at(1).toString() == "denoising" &&
                                     progress.last().at(0).toDouble() > 0.06,
                                 60000);
        QElapsedTimer clock;
        clock.start();
        p.stop();
        const auto [outcome, message] = waitFinished(finished, 20000);
        QCOMPARE(outcome, CliOutcome::Cancelled);
        QCOMPARE(message, QStringLiteral("cancelled"));
        QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY2(p.diagnostics().contains("lidistill complete: cancelled"),
                 qPrintable(p.diagnostics().join('\n')));
        QVERIFY(!QFileInfo::exists(out));
        QVERIFY(progress.last().at(0).toDouble() < 1.0);
        QCOMPARE(finished.count(), 1);
    }

    void destroyingARunningProcessEndsIt() {
        qint64 pid = 0;
        {
            CliProcess p;
            p.setProgram(QStringLiteral(LIDISTILL_CLI_BINARY));
            QSignalSpy progress(&p, &CliProcess::progress);
            p.start({"complete", m_model, bundledScan(), m_dir.filePath("orphan.bin"), "--steps",
                     "1000", "--points", "200", "--tile", "2"});
            QVERIFY(progress.wait(30000));
            pid = p.findChild<QProcess*>()->processId();
            QVERIFY(pid > 0);
        }
        // The process is gone (reaped): no /proc entry remains.
        QVERIFY(!QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid)));
    }
};

QTEST_GUILESS_MAIN(CliProcessTest)
#include "CliProcessTest.moc"
