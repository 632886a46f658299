// SPDX-License-Identifier: MIT
// MetricsLog against a metrics.jsonl that the test writes piece by piece: partial lines wait
// for their newline, appends are read once, a replaced or shrunk file is read again from the
// start, a line cut by a killed run and continued by a resumed one keeps its last object;
// and the charts plot the series.

#include "ui/app/TrainingCharts.h"
#include "ui/models/MetricsLog.h"

#include <QApplication>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTableWidget>
#include <QTest>

#include <cmath>

using namespace lidistill::ui;

namespace {

QByteArray stepLine(int step, double lossG, double seconds) {
    return QStringLiteral(
               R"({"step":%1,"frame":"%2","loss_g":%3,"loss_aux":%4,"cd_winner":%5,)"
               R"("cd_loser":%6,"grad_g":0.5,"grad_aux":0.25,"scaled_won":%7,"seconds":%8})")
        .arg(step)
        .arg(step, 6, 10, QLatin1Char('0'))
        .arg(lossG)
        .arg(-lossG)
        .arg(0.1 * step)
        .arg(0.2 * step)
        .arg(step % 2 ? "true" : "false")
        .arg(seconds)
        .toUtf8();
}

void append(const QString& file, const QByteArray& bytes) {
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Append));
    QCOMPARE(f.write(bytes), bytes.size());
}

}  // namespace

class MetricsLogTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void piecewiseWrites() {
        QTemporaryDir dir;
        const QString file = dir.filePath("metrics.jsonl");
        MetricsLog log;
        log.setPollIntervalMs(20);
        QSignalSpy appended(&log, &MetricsLog::appended);
        log.follow(file);  // the file does not exist yet
        QCOMPARE(log.steps().size(), 0);

        const QByteArray l1 = stepLine(1, 0.75, 0.5);
        const QByteArray l2 = stepLine(2, 0.5, 1.0);
        append(file, l1.left(20));
        log.poll();
        QCOMPARE(log.steps().size(), 0);  // no newline yet
        append(file, l1.mid(20) + "\n" + l2.left(7));
        log.poll();
        QCOMPARE(log.steps().size(), 1);
        const TrainStepMetrics& s1 = log.steps()[0];
        QCOMPARE(s1.step, 1);
        QCOMPARE(s1.frame, QStringLiteral("000001"));
        QCOMPARE(s1.lossG, 0.75);
        QCOMPARE(s1.lossAux, -0.75);
        QCOMPARE(s1.cdWinner, 0.1);
        QCOMPARE(s1.cdLoser, 0.2);
        QCOMPARE(s1.gradG, 0.5);
        QCOMPARE(s1.gradAux, 0.25);
        QVERIFY(s1.scaledWon);
        QCOMPARE(s1.seconds, 0.5);
        QCOMPARE(appended.size(), 1);
        QCOMPARE(appended.last().at(0).toInt(), 1);

        // The rest of line 2, a validation line, a null (NaN) value, and a line that is
        // no metrics object: the timer or the watcher picks them up without a poll() here.
        append(file, l2.mid(7) + "\n" +
                         R"({"step":2,"val_frame":"000005","val_cd":0.125,"seconds":1.5})" + "\n" +
                         R"({"step":3,"frame":"000003","loss_g":null,"loss_aux":1,"cd_winner":1,)"
                         R"("cd_loser":2,"grad_g":0,"grad_aux":0,"scaled_won":false,"seconds":2})"
                         "\nnot json\n");
        QTRY_COMPARE_WITH_TIMEOUT(log.steps().size(), 3, 5000);
        QCOMPARE(log.steps()[1].lossG, 0.5);
        QVERIFY(!log.steps()[1].scaledWon);
        QVERIFY(std::isnan(log.steps()[2].lossG));
        QCOMPARE(log.validations().size(), 1);
        QCOMPARE(log.validations()[0].step, 2);
        QCOMPARE(log.validations()[0].frame, QStringLiteral("000005"));
        QCOMPARE(log.validations()[0].cd, 0.125);
        QCOMPARE(log.malformedLines(), 1);
        QCOMPARE(log.lastStep(), 3);
        // 2 steps in 1.5 s (steps 1 -> 3, seconds 0.5 -> 2).
        QCOMPARE(log.stepsPerSecond(), 2.0 / 1.5);

        // Nothing new: no second read of the same bytes.
        const int before = appended.size();
        log.poll();
        QCOMPARE(appended.size(), before);
        QCOMPARE(log.steps().size(), 3);
    }

    void recreatedAndShrunkFiles() {
        QTemporaryDir dir;
        const QString file = dir.filePath("metrics.jsonl");
        append(file, stepLine(1, 1.0, 1) + "\n" + stepLine(2, 2.0, 2) + "\n");
        MetricsLog log;
        log.setPollIntervalMs(20);
        QSignalSpy cleared(&log, &MetricsLog::cleared);
        log.follow(file);  // a run started earlier: its history at once
        QCOMPARE(log.steps().size(), 2);

        // A fresh run removes the file and writes a new one (another inode), here longer
        // than the old one so that only the inode tells.
        QVERIFY(QFile::remove(file));
        append(file, stepLine(1, 7.0, 1) + "\n" + stepLine(2, 8.0, 2) + "\n" + stepLine(3, 9.0, 3) +
                         "\n");
        QTRY_COMPARE_WITH_TIMEOUT(log.steps().size(), 3, 5000);
        QVERIFY(cleared.size() >= 2);  // follow() and the replacement
        QCOMPARE(log.steps()[0].lossG, 7.0);
        QCOMPARE(log.steps()[2].lossG, 9.0);

        // Truncated in place to a shorter content.
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(stepLine(1, 4.0, 1) + "\n");
        }
        QTRY_COMPARE_WITH_TIMEOUT(log.steps().size(), 1, 5000);
        QCOMPARE(log.steps()[0].lossG, 4.0);
    }

    void cutLineContinuedByResume() {
        QTemporaryDir dir;
        const QString file = dir.filePath("metrics.jsonl");
        const QByteArray cut = stepLine(5, 1.0, 5).left(30);
        append(file, stepLine(4, 0.5, 4) + "\n" + cut + stepLine(5, 2.5, 0.5) + "\n" +
                         stepLine(6, 3.5, 1.0) + "\n");
        MetricsLog log;
        log.follow(file);
        QCOMPARE(log.steps().size(), 3);
        QCOMPARE(log.steps()[1].step, 5);
        QCOMPARE(log.steps()[1].lossG, 2.5);
        QCOMPARE(log.malformedLines(), 0);
        // The resumed process's clock restarts: only its own two steps count for the rate.
        QCOMPARE(log.stepsPerSecond(), 1.0 / 0.5);
    }

    void chartsPlotTheSeries() {
        QTemporaryDir dir;
        const QString file = dir.filePath("metrics.jsonl");
        QByteArray text;
        for (int i = 1; i <= 10; ++i) text += stepLine(i, 0.1 * i, i) + "\n";
        text += R"({"step":10,"val_frame":"000001","val_cd":0.3,"seconds":11})"
                "\n";
        append(file, text);
        MetricsLog log;
        log.follow(file);
        TrainingCharts charts;
        charts.setLog(&log);
        const auto loss = charts.points(TrainingCurve::GeneratorLoss);
        QCOMPARE(loss.size(), 10);
        QCOMPARE(loss[3], QPointF(4, 0.1 * 4));
        QCOMPARE(charts.points(TrainingCurve::AuxLoss)[9], QPointF(10, -0.1 * 10));
        QCOMPARE(charts.points(TrainingCurve::WinnerChamfer)[1], QPointF(2, 0.1 * 2));
        QCOMPARE(charts.points(TrainingCurve::LoserChamfer)[1], QPointF(2, 0.2 * 2));
        QCOMPARE(charts.points(TrainingCurve::ValidationChamfer), QList<QPointF>{QPointF(10, 0.3)});

        // Thinned to at most 4 points a curve, the first and the last step kept.
        charts.setMaxPoints(4);
        charts.updateNow();
        const auto thin = charts.points(TrainingCurve::GeneratorLoss);
        QVERIFY(thin.size() <= 4 && thin.size() >= 2);
        QCOMPARE(thin.first().x(), 1.0);
        QCOMPARE(thin.last().x(), 10.0);

        // Coalesced live updates.
        append(file, stepLine(11, 5.0, 12) + "\n");
        log.poll();
        charts.setMaxPoints(100);
        QTRY_COMPARE_WITH_TIMEOUT(charts.points(TrainingCurve::GeneratorLoss).size(), 11, 5000);
        QCOMPARE(charts.points(TrainingCurve::GeneratorLoss).last(), QPointF(11, 5.0));
    }

    void chartsCompareRunsSmoothAndTabulate() {
        MetricsLog a, b;
        const double lossA[] = {1.0, 3.0, 0.5, 2.0, 0.25, 4.0};
        for (int i = 0; i < 6; ++i) QVERIFY(a.addLine(stepLine(i + 1, lossA[i], 10.0 * (i + 1))));
        QVERIFY(a.addLine(R"({"step":6,"val_frame":"000001","val_cd":0.3,"seconds":61})"));
        for (int i = 1; i <= 3; ++i) QVERIFY(b.addLine(stepLine(i, 7.0 * i, i)));
        TrainingCharts charts;
        charts.setLog(&a);
        QCOMPARE(charts.addRun("other", &b), 1);
        QCOMPARE(charts.runCount(), 2);
        QCOMPARE(charts.points(TrainingCurve::GeneratorLoss, 1).size(), 3);
        QCOMPARE(charts.points(TrainingCurve::GeneratorLoss, 1)[2], QPointF(3, 21.0));

        // TensorBoard's smoothing, written here its way (debias 1 - w^n), not the chart's.
        const double w = 0.6;
        charts.setSmoothing(w);
        const auto smooth = charts.points(TrainingCurve::GeneratorLoss);
        QCOMPARE(smooth.size(), 6);
        double last = 0;
        for (int i = 0; i < 6; ++i) {
            last = last * w + (1 - w) * lossA[i];
            const double expected = last / (1 - std::pow(w, i + 1));
            QVERIFY2(std::abs(smooth[i].y() - expected) < 1e-12,
                     qPrintable(QString("%1: %2 vs %3").arg(i).arg(smooth[i].y()).arg(expected)));
        }
        QCOMPARE(smooth[0].y(), 1.0);  // debiased: the first point is the first value
        const auto raw = charts.points(TrainingCurve::GeneratorLoss, 0, true);
        QCOMPARE(raw.size(), 6);
        QCOMPARE(raw[1], QPointF(2, 3.0));
        // Validation points are never smoothed.
        QCOMPARE(charts.points(TrainingCurve::ValidationChamfer), QList<QPointF>{QPointF(6, 0.3)});

        // Training time on x.
        charts.setSmoothing(0);
        charts.setAxis(TrainingAxis::WallTime);
        QCOMPARE(charts.points(TrainingCurve::GeneratorLoss)[2], QPointF(30.0, 0.5));
        QCOMPARE(charts.points(TrainingCurve::ValidationChamfer), QList<QPointF>{QPointF(61, 0.3)});

        // Last / min / max of every curve of every run.
        const QTableWidget* t = charts.summary();
        QCOMPARE(t->rowCount(), 5 + 4);  // run b has no validation
        QCOMPARE(t->item(0, 1)->text(), QStringLiteral("loss_g"));
        QCOMPARE(t->item(0, 2)->text().toDouble(), 4.0);   // last
        QCOMPARE(t->item(0, 3)->text().toDouble(), 0.25);  // min
        QCOMPARE(t->item(0, 4)->text().toDouble(), 4.0);   // max
        QCOMPARE(t->item(5, 0)->text(), QStringLiteral("other"));
        QCOMPARE(t->item(5, 2)->text().toDouble(), 21.0);

        charts.clearComparedRuns();
        QCOMPARE(charts.runCount(), 1);
        QCOMPARE(charts.summary()->rowCount(), 5);
        QVERIFY(charts.points(TrainingCurve::GeneratorLoss, 1).isEmpty());
    }
};

QTEST_MAIN(MetricsLogTest)
#include "MetricsLogTest.moc"
