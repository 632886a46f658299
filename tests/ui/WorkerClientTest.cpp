// SPDX-License-Identifier: MIT
// WorkerClient against the real `lidistill worker`: a model stays loaded between jobs, a
// cancelled job leaves the worker alive, a killed worker is reported and replaced, the event
// loop stays responsive while a job runs, and through a command prefix the worker needs none
// of the studio's files (model and scan travel in the messages).

#include "core/io/CloudFile.h"
#include "tests/ui/BundledData.h"
#include "ui/workers/WorkerClient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <optional>

#ifndef LIDISTILL_CLI_BINARY
#error "LIDISTILL_CLI_BINARY must name the lidistill executable"
#endif

using namespace lidistill;
using namespace lidistill::ui;
using lidistill::ui::test::bundledScan;

namespace {

struct Done {
    CliOutcome outcome = CliOutcome::Failed;
    QString message, code;
    std::optional<events::Event> result;
};

// Waits for the finished() of `job`.
Done waitFor(QSignalSpy& finished, const QString& job, int timeoutMs = 120000) {
    QElapsedTimer clock;
    clock.start();
    for (;;) {
        for (const auto& args : finished) {
            if (args.at(0).toString() != job) continue;
            return {args.at(1).value<CliOutcome>(), args.at(2).toString(), args.at(3).toString(),
                    args.at(4).value<std::optional<events::Event>>()};
        }
        if (clock.elapsed() > timeoutMs) return {CliOutcome::Failed, "<timed out>", {}, {}};
        finished.wait(200);
    }
}

const QStringList kTiny{"--steps", "2", "--points", "150", "--tile", "2", "--seed", "3"};

}  // namespace

class WorkerClientTest : public QObject {
    Q_OBJECT

private:
    bool w_missingRefiner(const QString& model, QString* error) {
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        return w.complete(model, m_scan, kTiny, error, m_dir.filePath("nope.safetensors")).isEmpty();
    }

    QTemporaryDir m_dir;
    QString m_model;
    PointCloud m_scan;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_model = m_dir.filePath("lite.safetensors");
        QProcess init;
        init.start(LIDISTILL_CLI_BINARY, {"model", "init", m_model, "--width", "0.25", "--refiner"});
        QVERIFY(init.waitForFinished(60000));
        QCOMPARE(init.exitCode(), 0);
        m_scan = io::readCloud(bundledScan().toStdString());
    }

    void modelStaysLoadedAndCloudsMatchTheCommandLine() {
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        QSignalSpy finished(&w, &WorkerClient::finished);
        QSignalSpy progress(&w, &WorkerClient::progress);
        const QString a = w.complete(m_model, m_scan, kTiny);
        QVERIFY(!a.isEmpty());
        const Done da = waitFor(finished, a);
        QVERIFY2(da.outcome == CliOutcome::Succeeded, qPrintable(da.message));
        QVERIFY(progress.count() >= 3);
        const qint64 pid = w.pid();
        QVERIFY(pid > 0);
        const QString b = w.complete(m_model, m_scan, kTiny);
        const Done db = waitFor(finished, b);
        QVERIFY(db.outcome == CliOutcome::Succeeded);
        QCOMPARE(w.pid(), pid);           // the same process
        QCOMPARE(w.modelsLoaded(), 1);    // and one load
        // The refined cloud is `lidistill complete`'s, point for point.
        const QString out = m_dir.filePath("cli.bin");
        QProcess cli;
        cli.start(LIDISTILL_CLI_BINARY,
                  QStringList{"complete", m_model, bundledScan(), out, "--force"} + kTiny);
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 0);
        const PointCloud expected = io::readCloud(out.toStdString());
        const PointCloud got = WorkerClient::cloudOf(*db.result, "refined");
        QCOMPARE(got.size(), expected.size());
        QVERIFY(got.size() > 0);
        for (std::size_t i = 0; i < got.size(); ++i) QVERIFY(got.xyz[i] == expected.xyz[i]);
        QCOMPARE(WorkerClient::cloudOf(*db.result, "partial").size(), std::size_t{150});
    }

    void cancelLeavesTheWorkerAliveAndTheLoopResponsive() {
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        QSignalSpy finished(&w, &WorkerClient::finished);
        QSignalSpy progress(&w, &WorkerClient::progress);
        QStringList slow = kTiny;
        slow[1] = "1000";
        const QString job = w.complete(m_model, m_scan, slow);
        // The event loop while the job runs: a 10 ms timer must keep firing.
        QElapsedTimer clock, gap;
        clock.start();
        gap.start();
        qint64 worst = 0;
        QTimer tick;
        tick.setInterval(10);
        QObject::connect(&tick, &QTimer::timeout, [&] {
            worst = std::max(worst, gap.restart());
        });
        tick.start();
        QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 5, 60000);  // denoising has begun
        const qint64 pid = w.pid();
        QTest::qWait(1500);
        tick.stop();
        qInfo("worst event-loop gap while a job ran: %lld ms", static_cast<long long>(worst));
        QVERIFY2(worst < 500, qPrintable(QString::number(worst)));
        w.cancel(job);
        const Done d = waitFor(finished, job, 60000);
        QCOMPARE(d.outcome, CliOutcome::Cancelled);
        QVERIFY(clock.elapsed() < 60000);
        const QString next = w.complete(m_model, m_scan, kTiny);
        QVERIFY(waitFor(finished, next).outcome == CliOutcome::Succeeded);
        QCOMPARE(w.pid(), pid);  // cancelled, not restarted
    }

    void aKilledWorkerIsReportedAndReplaced() {
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        QSignalSpy finished(&w, &WorkerClient::finished);
        QSignalSpy progress(&w, &WorkerClient::progress);
        QSignalSpy died(&w, &WorkerClient::workerDied);
        QStringList slow = kTiny;
        slow[1] = "1000";
        const QString job = w.complete(m_model, m_scan, slow);
        QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 2, 60000);
        const qint64 pid = w.pid();
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        const Done d = waitFor(finished, job, 30000);
        QCOMPARE(d.outcome, CliOutcome::Failed);
        QCOMPARE(d.code, QStringLiteral("worker_died"));
        QVERIFY2(d.message.contains("worker"), qPrintable(d.message));
        QCOMPARE(died.count(), 1);
        const QString again = w.complete(m_model, m_scan, kTiny);
        QVERIFY(waitFor(finished, again).outcome == CliOutcome::Succeeded);
        QVERIFY(w.pid() != pid);
    }

    void throughAPrefixTheWorkerNeedsNoneOfTheStudiosFiles() {
        // The "remote" side: a folder of its own, an empty environment, a marker that the
        // prefix ran. The studio's model and scan are deleted as soon as the job is sent.
        QTemporaryDir remote;
        const QString script = m_dir.filePath("remote.sh");
        QVERIFY(test::writeRemotePrefix(script, remote.path()));
        QTemporaryDir studio;
        const QString model = studio.filePath("model.safetensors");
        QVERIFY(QFile::copy(m_model, model));
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        w.setCommandPrefix({script});
        QSignalSpy finished(&w, &WorkerClient::finished);
        const QString job = w.complete(model, m_scan, kTiny);
        QVERIFY(!job.isEmpty());
        QVERIFY(studio.remove());  // nothing of the studio's is left to read
        const Done d = waitFor(finished, job);
        QVERIFY2(d.outcome == CliOutcome::Succeeded, qPrintable(d.message));
        QVERIFY(QFile::exists(remote.filePath("prefix-ran")));
        QVERIFY(WorkerClient::cloudOf(*d.result, "refined").size() > 0);
    }

    // LiDiff's refiner comes as a file of its own: the worker attaches it, by path or uploaded,
    // and the result is the merged model's, point for point.
    void aSeparateRefinerFileRefinesAsTheMergedModel() {
        const QString diff = m_dir.filePath("diff.safetensors");
        const QString refiner = m_dir.filePath("refiner.safetensors");
        const QString merged = m_dir.filePath("merged.safetensors");
        for (const QStringList& args :
             {QStringList{"model", "init", diff, "--width", "0.25", "--seed", "5"},
              QStringList{"model", "merge", refiner, m_model, "--networks", "refiner"},
              QStringList{"model", "merge", merged, diff, refiner}}) {
            QProcess p;
            p.start(LIDISTILL_CLI_BINARY, args);
            QVERIFY(p.waitForFinished(60000));
            QCOMPARE(p.exitCode(), 0);
        }
        const QString out = m_dir.filePath("merged.bin");
        QProcess cli;
        cli.start(LIDISTILL_CLI_BINARY,
                  QStringList{"complete", merged, bundledScan(), out, "--force"} + kTiny);
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 0);
        const PointCloud expected = io::readCloud(out.toStdString());
        QVERIFY(expected.size() > 0);
        for (const bool upload : {false, true}) {
            WorkerClient w;
            w.setProgram(LIDISTILL_CLI_BINARY);
            w.setUploadModels(upload);
            QSignalSpy finished(&w, &WorkerClient::finished);
            const QString job = w.complete(diff, m_scan, kTiny, nullptr, refiner);
            const Done d = waitFor(finished, job);
            QVERIFY2(d.outcome == CliOutcome::Succeeded, qPrintable(d.message));
            const PointCloud got = WorkerClient::cloudOf(*d.result, "refined");
            QCOMPARE(got.size(), expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) QVERIFY(got.xyz[i] == expected.xyz[i]);
            // Without the refiner it is another model: loaded again, nothing refined.
            const QString plain = w.complete(diff, m_scan, kTiny);
            const Done dp = waitFor(finished, plain);
            QVERIFY(dp.outcome == CliOutcome::Succeeded);
            QCOMPARE(w.modelsLoaded(), 2);
            QCOMPARE(WorkerClient::cloudOf(*dp.result, "refined").size(), std::size_t{0});
        }
        QString error;
        QVERIFY(w_missingRefiner(diff, &error));
        QVERIFY2(error.contains("no such refiner file"), qPrintable(error));
    }

    void anUnreadableModelFailsWithItsReason() {
        WorkerClient w;
        w.setProgram(LIDISTILL_CLI_BINARY);
        QSignalSpy finished(&w, &WorkerClient::finished);
        const QString bad = m_dir.filePath("bad.safetensors");
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("not a model");
        }
        const QString job = w.complete(bad, m_scan, kTiny);
        const Done d = waitFor(finished, job, 60000);
        QCOMPARE(d.outcome, CliOutcome::Failed);
        QCOMPARE(d.code, QStringLiteral("io"));
        QVERIFY2(d.message.contains("bad.safetensors"), qPrintable(d.message));
        QString error;
        QVERIFY(w.complete(m_dir.filePath("missing.safetensors"), m_scan, kTiny, &error).isEmpty());
        QVERIFY(error.contains("no such model file"));
    }
};

QTEST_GUILESS_MAIN(WorkerClientTest)
#include "WorkerClientTest.moc"
