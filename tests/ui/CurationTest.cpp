// SPDX-License-Identifier: MIT
// The Curate workspace in the studio window under Xvfb: G shows it in place of the frame
// views; its keys decide pairs (one against the metric), undo restores the earlier verdict,
// and the store read afresh holds exactly those decisions; blind captions and cells until a
// decision or the reveal toggle; the frame's ground truth from the sequence's map; the
// command line's --pairs screenshot; Make pairs against a real `lidistill` when one with the
// models is at hand.

#include "core/dataset/Sequence.h"
#include "core/io/ScanIo.h"
#include "tests/ui/BundledData.h"
#include "tests/ui/GlTestSupport.h"
#include "tests/ui/PairTestSupport.h"
#include "ui/app/CurationPanel.h"
#include "ui/app/MainWindow.h"
#include "ui/app/MakePairsForm.h"
#include "ui/app/SequenceSession.h"
#include "ui/app/ShortcutHelp.h"
#include "ui/render/PointCloudView.h"

#include <csignal>
#include <signal.h>

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace lidistill;
using namespace lidistill::ui;
using pairs::Verdict;
namespace fs = std::filesystem;
namespace pt = lidistill::ui::test;

namespace {

/// Pair 1: A left, metric A. Pair 2: B left, metric A. Pair 3: B left, metric B. Pair 4: A
/// left, metric B.
const std::vector<pt::PairSpec> kSpecs = {{"000000", true, 0.3, 0.5},
                                          {"000001", false, 0.40, 0.45},
                                          {"000002", false, 0.6, 0.2},
                                          {"000003", true, 0.52, 0.51}};

bool showActive(MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return false;
    w.activateWindow();
    return QTest::qWaitForWindowActive(&w);
}

/// Whether `spy` (CurationPanel::pairShown) last showed pair `id`.
bool lastShown(const QSignalSpy& spy, long long id) {
    return !spy.isEmpty() && spy.last().at(0).toLongLong() == id;
}

/// Three plain scans (no poses): a sequence whose frames the keys could move through.
void writeScans(const fs::path& dir) {
    for (int k = 0; k < 3; ++k) {
        io::writeKittiBin(dir / ("00000" + std::to_string(k) + ".bin"), pt::patch(10, 0.f));
    }
}

}  // namespace

class CurationTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // the ground-truth map goes to a test cache
        LIDISTILL_REQUIRE_GL();
        QVERIFY(QFileInfo(pt::bundledSequence()).isDir());
    }

    void keysDecideUndoAndTheStoreHoldsIt() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, pt::bundledSequence(), kSpecs);
        const auto reader = pairs::PairStore::open(file);  // another connection, as training

        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1400, 850);
        QVERIFY(showActive(w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        CurationPanel* c = w.curationPanel();
        c->setWho(QStringLiteral("tester"));
        QSignalSpy shown(c, &CurationPanel::pairShown);
        QVERIFY(w.openPairStore(QString::fromStdString(file.string())));
        QVERIFY(w.isCurating());
        QVERIFY(c->isVisible() && !w.scanView()->isVisible());
        QTRY_VERIFY(lastShown(shown, 1));

        // Pair 1 has A on the left: A's points there, the frame's scan below.
        QCOMPARE(c->candidateView(Side::Left)->cloud().pointCount, pt::pointsOfA(0));
        QCOMPARE(c->candidateView(Side::Right)->cloud().pointCount, pt::pointsOfA(0) + 100);
        const Sequence seq = Sequence::open(pt::bundledSequence().toStdString());
        QCOMPARE(c->scanView()->cloud().pointCount, seq.loadScan(0).size());
        // Blind: no side named, no value, no verdict.
        QCOMPARE(c->captions().mid(0, 2), (QStringList{"Left", "Right"}));
        QVERIFY2(
            c->verdictText().contains("V shows it now") && !c->verdictText().contains("prefers"),
            qPrintable(c->verdictText()));
        QCOMPARE(c->progressText(), QStringLiteral("0 of 4 decided, 4 pending"));

        QTest::keyClick(&w, Qt::Key_1);  // left = A, the metric's choice
        QCOMPARE(reader.get(1)->human, Verdict::A);
        QCOMPARE(reader.get(1)->who, std::string("tester"));
        QVERIFY2(c->lastDecisionText().contains("you chose left (A); the metric (cd) prefers the "
                                                "left (A): CD 0.3000 vs 0.5000 m"),
                 qPrintable(c->lastDecisionText()));
        QVERIFY(c->lastDecisionText().endsWith("you agree with it."));
        QCOMPARE(c->currentPair(), 2LL);  // on to the next pending pair
        QTRY_VERIFY(lastShown(shown, 2));
        // Pair 2 has B on the left.
        QCOMPARE(c->candidateView(Side::Left)->cloud().pointCount, pt::pointsOfA(1) + 100);

        QTest::keyClick(&w, Qt::Key_Right);  // right = A, the metric's choice
        QCOMPARE(reader.get(2)->human, Verdict::A);
        QCOMPARE(c->currentPair(), 3LL);
        QTest::keyClick(&w, Qt::Key_2);  // pair 3: right = A, the metric said B
        QCOMPARE(reader.get(3)->human, Verdict::A);
        QVERIFY2(c->lastDecisionText().contains("you chose right (A); the metric (cd) prefers "
                                                "the left (B): CD 0.2000 vs 0.6000 m"),
                 qPrintable(c->lastDecisionText()));
        QVERIFY(c->lastDecisionText().endsWith("you overrode it."));
        QCOMPARE(c->progressText(), QStringLiteral("3 of 4 decided, 1 pending"));
        QCOMPARE(c->agreementText(),
                 QStringLiteral("Agreement with the metric: 66.7 % (2 of 3 A/B decisions)"));
        QCOMPARE(c->currentPair(), 4LL);

        // Undo: pair 3 pending again, back on screen, blind again.
        QTest::keyClick(&w, Qt::Key_U);
        QCOMPARE(reader.get(3)->human, Verdict::None);
        QCOMPARE(c->currentPair(), 3LL);
        QCOMPARE(c->undoDepth(), 2);
        QCOMPARE(c->progressText(), QStringLiteral("2 of 4 decided, 2 pending"));
        QCOMPARE(c->agreementText(),
                 QStringLiteral("Agreement with the metric: 100.0 % (2 of 2 A/B decisions)"));
        QVERIFY(c->verdictText().contains("V shows it now"));
        QCOMPARE(c->captions().at(0), QStringLiteral("Left"));

        // A changed verdict undone is the earlier verdict, not pending.
        QVERIFY(c->selectPair(1));
        QVERIFY2(c->verdictText().contains("prefers the left (A)") &&
                     c->verdictText().contains("You: left (A), you agree with it."),
                 qPrintable(c->verdictText()));
        QCOMPARE(c->captions().at(0),
                 QStringLiteral("Left (A): CD 0.3000 m, metric's pick, your pick"));
        QTest::keyClick(&w, Qt::Key_2);
        QCOMPARE(reader.get(1)->human, Verdict::B);
        QCOMPARE(c->currentPair(), 3LL);  // the next pending one after pair 1
        QTest::keyClick(&w, Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(reader.get(1)->human, Verdict::A);
        QCOMPARE(c->currentPair(), 1LL);

        // N / B walk the pending pairs (3 and 4), wrapping around.
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(c->currentPair(), 3LL);
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(c->currentPair(), 4LL);
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(c->currentPair(), 3LL);
        QTest::keyClick(&w, Qt::Key_B);
        QCOMPARE(c->currentPair(), 4LL);
        QTest::keyClick(&w, Qt::Key_B);
        QCOMPARE(c->currentPair(), 3LL);
        QTest::keyClick(&w, Qt::Key_3);  // tie, on to pair 4
        QCOMPARE(c->currentPair(), 4LL);
        QTest::keyClick(&w, Qt::Key_S);  // skip: nothing pending is left, it stays
        QCOMPARE(c->currentPair(), 4LL);
        QVERIFY(!c->nextPending());
        QCOMPARE(c->progressText(), QStringLiteral("4 of 4 decided, 0 pending"));

        // The store, opened afresh, holds exactly what the keys said.
        const auto fresh = pairs::PairStore::open(file);
        const Verdict want[] = {Verdict::A, Verdict::A, Verdict::Tie, Verdict::Skip};
        for (long long id = 1; id <= 4; ++id) {
            QCOMPARE(fresh.get(id)->human, want[id - 1]);
            QCOMPARE(fresh.get(id)->who, std::string("tester"));
        }
        const pairs::Stats st = fresh.stats();
        QCOMPARE(st.agreeing, 2LL);
        QCOMPARE(st.overridden, 0LL);
        QCOMPARE(st.ties, 1LL);
        QCOMPARE(st.skipped, 1LL);
        // 1 A, 2 A, 3 A, 3 undone, 1 B, 1 A again, 3 tie, 4 skip.
        QCOMPARE(st.decisions, 8LL);
        QCOMPARE(c->pairTable()->model()->rowCount(), 4);

        // The ground truth of the frame, from the sequence's map (built here on a worker).
        QTRY_VERIFY_WITH_TIMEOUT(lastShown(shown, 4) && shown.last().at(1).toBool(), 180000);
        QVERIFY(c->groundTruthView()->cloud().pointCount > 1000);
        QCOMPARE(c->captions().at(2), QStringLiteral("Ground truth, frame 000003"));
        QVERIFY2(errors.isEmpty(),
                 errors.isEmpty() ? "" : qPrintable(errors.first().at(0).toString()));
    }

    void revealShowsTheMetricBeforeDeciding() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, pt::bundledSequence(), kSpecs);
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        CurationPanel* c = w.curationPanel();
        QVERIFY(w.openPairStore(QString::fromStdString(file.string())));
        QCOMPARE(c->currentPair(), 1LL);
        const QAbstractItemModel* list = c->pairTable()->model();
        QCOMPARE(list->index(0, PairListModel::MarginColumn).data().toString(), QString());
        QTest::keyClick(&w, Qt::Key_V);
        QVERIFY(c->revealed());
        QCOMPARE(list->index(0, PairListModel::MarginColumn).data().toString(),
                 QStringLiteral("0.2000"));
        QCOMPARE(c->captions().at(0), QStringLiteral("Left (A): CD 0.3000 m, metric's pick"));
        QCOMPARE(c->captions().at(1), QStringLiteral("Right (B): CD 0.5000 m"));
        QVERIFY2(c->verdictText().contains("The metric (cd) prefers the left (A)"),
                 qPrintable(c->verdictText()));
        QTest::keyClick(&w, Qt::Key_V);
        QVERIFY(!c->revealed());
        QCOMPARE(c->captions().at(0), QStringLiteral("Left"));
        QCOMPARE(list->index(0, PairListModel::CdLeftColumn).data().toString(), QString());
        // The pending filter and margin sort reach the table.
        c->setPairFilter(pairs::Filter::Pending);
        QCOMPARE(list->rowCount(), 4);
        c->pick(Side::Left);
        QCOMPARE(list->rowCount(), 3);
        QCOMPARE(c->currentPair(), 2LL);
        c->pairTable()->sortByColumn(PairListModel::MarginColumn, Qt::AscendingOrder);
        QCOMPARE(list->index(0, 0).data(PairListModel::PairIdRole).toLongLong(), 4LL);
        QVERIFY(c->nextPending());  // in the order on screen: 4 (0.01), 2 (0.05), 3 (0.4)
        QCOMPARE(c->currentPair(), 3LL);
    }

    // A decision made by another process (here another connection, as `pairs decide` or a
    // second studio) shows in the list without Reload.
    void decisionsMadeElsewhereAppear() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, pt::bundledSequence(), kSpecs);
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        CurationPanel* c = w.curationPanel();
        QVERIFY(w.openPairStore(QString::fromStdString(file.string())));
        const QAbstractItemModel* list = c->pairTable()->model();
        QCOMPARE(list->index(2, PairListModel::StatusColumn).data().toString(),
                 QStringLiteral("pending"));
        auto other = pairs::PairStore::open(file);
        other.decide(3, pairs::Verdict::Tie, "cli");
        QTRY_COMPARE_WITH_TIMEOUT(list->index(2, PairListModel::StatusColumn).data().toString(),
                                  QStringLiteral("tie"), 10000);
        QCOMPARE(c->currentPair(), 1LL);  // the person's place is kept
    }

    void aPairOfTheOpenSequenceSharesItsGroundTruth() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, pt::bundledSequence(), kSpecs);
        // No cached map: the window's session builds it, and the workspace must wait for that
        // build (not start its own) and say it is waiting until the map is there.
        fs::remove(SequenceSession::mapCachePath(pt::bundledSequence().toStdString()));
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy frames(&w, &MainWindow::frameShown);
        CurationPanel* c = w.curationPanel();
        QList<bool> waitedWithout;  // waitingForGroundTruth() at each pairShown without it
        bool withGroundTruth = false;
        connect(c, &CurationPanel::pairShown, this, [&](qlonglong, bool gt) {
            if (!gt) waitedWithout << c->waitingForGroundTruth();
            withGroundTruth |= gt;
        });
        QVERIFY(w.openSequence(pt::bundledSequence()));
        QVERIFY(w.session()->isBuildingMap());
        QVERIFY(w.openPairStore(QString::fromStdString(file.string())));
        QTRY_VERIFY_WITH_TIMEOUT(withGroundTruth, 180000);
        QVERIFY(!waitedWithout.contains(false));
        // The frame views show frame 0 too: the same ground truth, point for point.
        QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty() && frames.last().at(1).toBool(), 60000);
        QCOMPARE(frames.last().at(0).toInt(), 0);
        QCOMPARE(c->groundTruthView()->cloud().pointCount, w.groundTruthView()->cloud().pointCount);
        // One height scale in all four views: the ground truth's own.
        const ColorRange gtRange = c->groundTruthView()->cloud().heightRange;
        for (PointCloudView* v : c->views()) {
            QCOMPARE(v->colorMode(), ColorMode::Height);
            QCOMPARE(v->activeRange(), std::optional<ColorRange>(gtRange));
        }
    }

    void aMissingSequenceStillShowsTheCandidatesAndIsReportedOnce() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, dir.filePath("moved/00"), {kSpecs[0], kSpecs[1]});
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        CurationPanel* c = w.curationPanel();
        QSignalSpy shown(c, &CurationPanel::pairShown);
        QVERIFY(w.openPairStore(QString::fromStdString(file.string())));
        QTRY_VERIFY(lastShown(shown, 1));
        QCOMPARE(c->candidateView(Side::Left)->cloud().pointCount, pt::pointsOfA(0));
        QVERIFY(!c->scanView()->hasCloud());
        QVERIFY2(c->scanView()->message().startsWith("Cannot read the input scan"),
                 qPrintable(c->scanView()->message()));
        QTRY_VERIFY(!c->waitingForGroundTruth());
        QVERIFY(!c->groundTruthView()->hasCloud());
        QVERIFY(c->groundTruthView()->message().startsWith("No ground truth"));
        QTest::keyClick(&w, Qt::Key_S);
        QTRY_VERIFY(lastShown(shown, 2));
        QCOMPARE(c->candidateView(Side::Left)->cloud().pointCount, pt::pointsOfA(1) + 100);
        QCOMPARE(errors.count(), 1);  // the sequence, once; not once a pair
        QVERIFY(errors.first().at(0).toString().contains("moved"));
    }

    void workspaceIsAModeThatKeepsFrameKeysApart() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString());
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        w.resize(1000, 600);
        QVERIFY(showActive(w));
        QSignalSpy shown(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(tmp.path()));
        QTRY_COMPARE(shown.count(), 1);
        QVERIFY(!w.isCurating());
        QVERIFY(!w.curationPanel()->isVisible());
        QTest::keyClick(&w, Qt::Key_G);
        QVERIFY(w.isCurating());
        QVERIFY(w.curationPanel()->isVisible() && !w.scanView()->isVisible());
        QVERIFY(w.curationPanel()->verdictText().contains("Open a pair store"));
        // N / Right / 1 belong to the workspace now: no frame moves, no error without a store.
        for (const Qt::Key k : {Qt::Key_N, Qt::Key_Right, Qt::Key_1}) QTest::keyClick(&w, k);
        QCOMPARE(w.frameList()->currentIndex().row(), 0);
        // Make pairs follows the open sequence.
        QCOMPARE(w.curationPanel()->makePairsForm()->settings().sequence,
                 QString::fromStdString(w.session()->sequence()->dir().string()));
        QCOMPARE(w.curationPanel()->makePairsForm()->framesEdit()->text(), QStringLiteral("0:3"));
        // P (and File > Save screenshot) captures the workspace's views now.
        const QString shot = w.saveScreenshot(tmp.filePath("curate.png"));
        QCOMPARE(shot, tmp.filePath("curate.png"));
        QCOMPARE(QImage(shot).size(), w.curationPanel()->viewsWidget()->size() *
                                          w.curationPanel()->viewsWidget()->devicePixelRatio());
        QVERIFY(w.curationPanel()->viewsWidget()->size() != w.viewsWidget()->size());
        QTest::keyClick(&w, Qt::Key_G);
        QVERIFY(!w.isCurating() && w.scanView()->isVisible());
        QTest::keyClick(&w, Qt::Key_N);
        QCOMPARE(w.frameList()->currentIndex().row(), 1);
        // The help lists the workspace's keys beside the window's.
        bool pickLeft = false, toggle = false;
        for (const ShortcutEntry& e : shortcutEntries(w.menuBar())) {
            pickLeft |= e.group == "Curate" && e.keys == "1 / Left" &&
                        e.action == "Pick the left candidate";
            toggle |= e.keys == "G" && e.action.startsWith("Curate preference pairs");
        }
        QVERIFY(pickLeft && toggle);
    }

    void commandLineOpensTheStoreForAScreenshot() {
#ifndef LIDISTILL_STUDIO_BINARY
        QSKIP("lidistill-studio is not built here");
#else
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        pt::makeStore(file, pt::bundledSequence(), kSpecs);
        const QString shot = dir.filePath("curate.png");
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(LIDISTILL_STUDIO_BINARY),
                {pt::bundledSequence(), "--pairs", QString::fromStdString(file.string()), "--size",
                 "1200x700", "--screenshot", shot});
        QVERIFY(p.waitForFinished(180000));
        const QString out = QString::fromLocal8Bit(p.readAll());
        QVERIFY2(p.exitCode() == 0, qPrintable(out));
        const QImage image(shot);
        QCOMPARE(image.size(), QSize(1200, 700));
        // A bad store is an error before any picture.
        p.start(QStringLiteral(LIDISTILL_STUDIO_BINARY),
                {pt::bundledSequence(), "--pairs", dir.filePath("none.db"), "--screenshot",
                 dir.filePath("no.png")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(!QFileInfo::exists(dir.filePath("no.png")));
        QVERIFY(QString::fromLocal8Bit(p.readAll()).contains("none.db"));
#endif
    }

    void makePairsStoresPairsThatAppearInTheList() {
#ifdef LIDISTILL_CLI_BINARY
        const QString program = QStringLiteral(LIDISTILL_CLI_BINARY);
#else
        // Without the models built here: a `lidistill` with them, when one is named.
        const QString program = qEnvironmentVariable("LIDISTILL_CLI");
        if (program.isEmpty()) QSKIP("no lidistill with the models (set LIDISTILL_CLI)");
#endif
        const QString model = QString::fromStdString(
            (fs::path(qEnvironmentVariable("LIDISTILL_SOURCE_DIR", ".").toStdString()) /
             "resources" / "models" / "lite-student.safetensors")
                .string());
        if (!QFileInfo::exists(model)) QSKIP("the shipped lite student is not here");
        QTemporaryDir dir;
        const QString store = dir.filePath("made.db");
        MainWindow w;
        w.setErrorDialogsEnabled(false);
        QVERIFY(showActive(w));
        QSignalSpy frames(&w, &MainWindow::frameShown);
        QVERIFY(w.openSequence(pt::bundledSequence()));
        QTRY_VERIFY(!frames.isEmpty());
        CurationPanel* c = w.curationPanel();
        QVERIFY(c->openStore(store, true));
        w.setCurationMode(true);
        MakePairsForm* form = c->makePairsForm();
        form->worker()->setProgram(program);
        MakePairsSettings s = form->settings();
        s.model = model;
        s.first = 1;
        s.last = 3;
        s.steps = 1;
        s.points = 200;
        form->setSettings(s);
        QSignalSpy stored(form, &MakePairsForm::pairStored);
        QSignalSpy done(form, &MakePairsForm::finished);
        QSignalSpy listed(c->pairModel(), &QAbstractItemModel::rowsInserted);
        QVERIFY(form->start());
        QVERIFY(!form->start());  // one run at a time
        QCOMPARE(form->startButton()->text(), QStringLiteral("Cancel"));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 240000);
        QVERIFY2(done.first().at(0).value<CliOutcome>() == CliOutcome::Succeeded,
                 qPrintable(done.first().at(1).toString() + " / " +
                            form->worker()->diagnostics().join('\n')));
        QCOMPARE(stored.count(), 2);
        // Each pair was listed when its event came, before the run ended.
        QVERIFY(listed.count() >= 2);
        QCOMPARE(c->pairModel()->rowCount(), 2);
        const auto list = pairs::PairStore::open(store.toStdString()).list();
        QCOMPARE(list.size(), std::size_t{2});
        QCOMPARE(list[0].recipe.frame, std::string("000001"));
        QCOMPARE(list[1].recipe.frame, std::string("000002"));
        QCOMPARE(list[0].recipe.steps, 1);
        QCOMPARE(stored.at(0).at(0).toLongLong(), list[0].id);
        QCOMPARE(form->progressBar()->value(), form->progressBar()->maximum());
        QVERIFY2(form->statusText().startsWith("Made 2 pair(s)"), qPrintable(form->statusText()));
        // The first pair is on screen (it was pending), with the candidates of the store.
        QCOMPARE(c->currentPair(), list[0].id);
        QSignalSpy shown(c, &CurationPanel::pairShown);
        QTRY_VERIFY_WITH_TIMEOUT(c->candidateView(Side::Left)->hasCloud(), 30000);
        const auto leftFile = pairs::PairStore::open(store.toStdString()).cloudDir() /
                              (list[0].aShownLeft ? list[0].a.cloud : list[0].b.cloud);
        QCOMPARE(c->candidateView(Side::Left)->cloud().pointCount, io::readCloud(leftFile).size());

        // A re-run of the same frames adds nothing: said so.
        QVERIFY(form->start());
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 120000);
        QVERIFY2(form->statusText().contains("2 already there"), qPrintable(form->statusText()));
        QCOMPARE(c->pairModel()->rowCount(), 2);

        // Cancel once the first new pair is stored: what was stored stays, and is listed.
        s.first = 3;
        s.last = 5;
        form->setSettings(s);
        stored.clear();
        connect(form, &MakePairsForm::pairStored, form, &MakePairsForm::cancel);
        QVERIFY(form->start());
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, 120000);
        QCOMPARE(done.last().at(0).value<CliOutcome>(), CliOutcome::Cancelled);
        QVERIFY(stored.count() >= 1);
        const auto kept = pairs::PairStore::open(store.toStdString()).list();
        QCOMPARE(kept.size(), std::size_t(2 + stored.count()));
        QCOMPARE(c->pairModel()->rowCount(), static_cast<int>(kept.size()));
        QCOMPARE(form->statusText(),
                 QStringLiteral("Cancelled: %1 pair(s) kept.").arg(stored.count()));
        QCOMPARE(form->startButton()->text(), QStringLiteral("Start"));
        disconnect(form, &MakePairsForm::pairStored, form, &MakePairsForm::cancel);

        // `lidistill pairs make` on the same frames makes the same pairs, cloud for cloud: the
        // studio completes in the worker and scores and stores with the CLI's code.
        const QString cliStore = dir.filePath("cli.db");
        QProcess cli;
        cli.start(program, {"pairs", "make", model, pt::bundledSequence(), cliStore, "--frames",
                            "1:3", "--steps", "1", "--points", "200", "--lambda", "1.1"});
        QVERIFY(cli.waitForFinished(240000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto cliStoreOpen = pairs::PairStore::open(cliStore.toStdString());
        const auto fromCli = cliStoreOpen.list();
        const auto studioStore = pairs::PairStore::open(store.toStdString());
        QCOMPARE(fromCli.size(), std::size_t{2});
        const auto bytes = [](const fs::path& f) {
            QFile file(QString::fromStdString(f.string()));
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        };
        for (std::size_t j = 0; j < 2; ++j) {
            const auto& a = list[j];
            const auto& b = fromCli[j];
            QCOMPARE(a.recipe.sequence, b.recipe.sequence);
            QCOMPARE(a.recipe.frame, b.recipe.frame);
            QCOMPARE(a.recipe.modelHash, b.recipe.modelHash);
            QCOMPARE(a.recipe.seedA, b.recipe.seedA);
            QCOMPARE(a.recipe.seedB, b.recipe.seedB);
            QCOMPARE(a.recipe.lambda, b.recipe.lambda);
            QCOMPARE(a.recipe.guidance, b.recipe.guidance);
            QCOMPARE(a.a.cd, b.a.cd);
            QCOMPARE(a.b.cd, b.b.cd);
            QVERIFY(a.a.cd != a.b.cd);  // two different samples (noise scales 1 and 1.1)
            QCOMPARE(a.automatic, b.automatic);
            QCOMPARE(a.aShownLeft, b.aShownLeft);
            for (const auto& [mine, theirs] :
                 {std::pair{a.a.cloud, b.a.cloud}, std::pair{a.b.cloud, b.b.cloud},
                  std::pair{a.a.raw, b.a.raw}, std::pair{a.partial, b.partial}}) {
                const QByteArray m = bytes(studioStore.cloudDir() / mine);
                QVERIFY(!m.isEmpty());
                QVERIFY2(m == bytes(cliStoreOpen.cloudDir() / theirs), mine.c_str());
            }
        }

        // A worker that dies fails the run, saying so; the next Start starts a new one.
        s.first = 0;
        s.last = 1;
        form->setSettings(s);
        QVERIFY(form->start());
        QVERIFY(form->worker()->pid() > 0);
        ::kill(static_cast<pid_t>(form->worker()->pid()), SIGKILL);
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 4, 60000);
        QCOMPARE(done.last().at(0).value<CliOutcome>(), CliOutcome::Failed);
        QVERIFY2(form->statusText().contains("worker"), qPrintable(form->statusText()));
        QVERIFY(!form->isRunning());

        // Through a command prefix (another machine): the worker runs in a folder of its own,
        // with an empty environment, and gets the model's bytes and the scans in the messages.
        QTemporaryDir remote;
        const QString script = dir.filePath("remote.sh");
        QVERIFY(pt::writeRemotePrefix(script, remote.path()));
        form->worker()->setCommandPrefix({script});
        QVERIFY(form->start());
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 5, 240000);
        QVERIFY2(done.last().at(0).value<CliOutcome>() == CliOutcome::Succeeded,
                 qPrintable(done.last().at(1).toString()));
        QVERIFY(QFile::exists(remote.filePath("prefix-ran")));
        QCOMPARE(pairs::PairStore::open(store.toStdString()).list().size(), kept.size() + 1);
    }
};

int main(int argc, char** argv) {
    VtkViewport::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    CurationTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "CurationTest.moc"
