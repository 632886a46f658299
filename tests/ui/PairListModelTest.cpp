// SPDX-License-Identifier: MIT
// The Curate workspace's item models on a real pair store, under QAbstractItemModelTester:
// blind cells, sides in the stored screen order, in-place updates as a store grows and
// decisions arrive, the filters of `lidistill pairs list`, sorting by margin; the Make pairs
// command line.

#include "tests/ui/BundledData.h"
#include "tests/ui/PairTestSupport.h"
#include "ui/app/MakePairsForm.h"
#include "ui/models/PairListModel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace lidistill;
using namespace lidistill::ui;
using pairs::Verdict;
namespace fs = std::filesystem;

namespace {

/// Pair 1: A left, metric A (margin 0.2). Pair 2: B left, metric A (0.05). Pair 3: B left,
/// metric B (0.4). Pair 4: A left, metric B (0.01).
const std::vector<test::PairSpec> kSpecs = {{"000000", true, 0.3, 0.5},
                                            {"000001", false, 0.40, 0.45},
                                            {"000002", false, 0.6, 0.2},
                                            {"000003", true, 0.52, 0.51}};

QString text(const QAbstractItemModel& m, int row, int column) {
    return m.data(m.index(row, column)).toString();
}

}  // namespace

class PairListModelTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sidesFollowTheStoredOrder() {
        pairs::Pair p;
        p.aShownLeft = false;
        QCOMPARE(candidateOn(p, Side::Left), Verdict::B);
        QCOMPARE(candidateOn(p, Side::Right), Verdict::A);
        QCOMPARE(sideOf(p, Verdict::A), std::optional<Side>(Side::Right));
        QVERIFY(!sideOf(p, Verdict::Tie));
        p.aShownLeft = true;
        QCOMPARE(candidateOn(p, Side::Left), Verdict::A);
        p.automatic = Verdict::B;
        p.human = Verdict::B;
        QCOMPARE(agreesWithMetric(p), std::optional<bool>(true));
        p.human = Verdict::A;
        QCOMPARE(agreesWithMetric(p), std::optional<bool>(false));
        p.human = Verdict::Tie;
        QVERIFY(!agreesWithMetric(p));
    }

    void blindUntilDecidedAndUpdatedInPlace() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        test::makeStore(file, test::bundledSequence(), kSpecs);
        auto store = pairs::PairStore::open(file);

        PairListModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setPairs(store.list());
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.columnCount(), int(PairListModel::ColumnCount));
        QCOMPARE(text(model, 1, PairListModel::FrameColumn), QStringLiteral("000001"));
        QCOMPARE(text(model, 1, PairListModel::StatusColumn), QStringLiteral("pending"));
        // Blind: nothing about the metric in a pending row, not even the margin.
        for (int c : {PairListModel::AgreementColumn, PairListModel::MarginColumn,
                      PairListModel::CdLeftColumn, PairListModel::CdRightColumn}) {
            QCOMPARE(text(model, 1, c), QString());
        }
        QVERIFY(model.isBlind(1));

        // A decision: the row shows it, in screen order (pair 2 has B on the left).
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        store.decide(2, Verdict::A, "t");
        model.setPairs(store.list());
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);  // that row only
        QCOMPARE(changed.first().at(0).value<QModelIndex>().row(), 1);
        QVERIFY(!model.isBlind(1));
        QCOMPARE(text(model, 1, PairListModel::StatusColumn), QStringLiteral("right (A)"));
        QCOMPARE(text(model, 1, PairListModel::CdLeftColumn), QStringLiteral("0.4500"));
        QCOMPARE(text(model, 1, PairListModel::CdRightColumn), QStringLiteral("0.4000"));
        QCOMPARE(text(model, 1, PairListModel::MarginColumn), QStringLiteral("0.0500"));
        QCOMPARE(text(model, 1, PairListModel::AgreementColumn), QStringLiteral("agrees"));
        store.decide(3, Verdict::A, "t");  // the metric said B
        QVERIFY(model.updatePair(*store.get(3)));
        QCOMPARE(text(model, 2, PairListModel::StatusColumn), QStringLiteral("right (A)"));
        QCOMPARE(text(model, 2, PairListModel::AgreementColumn), QStringLiteral("overrides"));

        // Revealed: pending rows show their values too, sides in screen order.
        model.setRevealed(true);
        QCOMPARE(text(model, 0, PairListModel::CdLeftColumn), QStringLiteral("0.3000"));
        QCOMPARE(text(model, 0, PairListModel::CdRightColumn), QStringLiteral("0.5000"));
        model.setRevealed(false);
        QCOMPARE(text(model, 0, PairListModel::CdLeftColumn), QString());

        // The store grows: rows are appended, the others stay put.
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        {
            pairs::Pair extra = *store.get(1);
            extra.recipe.seedA = extra.recipe.seedB = 99;  // another recipe: a new pair
            QCOMPARE(store.add(extra), 5LL);
        }
        model.setPairs(store.list());
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 4);
        QCOMPARE(inserted.first().at(2).toInt(), 4);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.rowOf(5), 4);
        QCOMPARE(model.rowOf(6), -1);
        // Another store's list is not a continuation: a reset.
        model.setPairs({});
        QCOMPARE(reset.count(), 1);
        QCOMPARE(model.rowCount(), 0);
    }

    void filtersMatchTheStoreAndMarginSorts() {
        QTemporaryDir dir;
        const fs::path file = dir.filePath("pairs.db").toStdString();
        test::makeStore(file, test::bundledSequence(), kSpecs);
        auto store = pairs::PairStore::open(file);
        store.decide(1, Verdict::A, "t");    // agrees
        store.decide(2, Verdict::B, "t");    // overrides
        store.decide(3, Verdict::Tie, "t");  // neither
        PairListModel model;
        PairFilterModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setPairs(store.list());
        for (const auto f : {pairs::Filter::All, pairs::Filter::Pending, pairs::Filter::Decided,
                             pairs::Filter::Agreeing, pairs::Filter::Overridden}) {
            proxy.setPairFilter(f);
            const auto want = store.list(f);
            QCOMPARE(proxy.rowCount(), static_cast<int>(want.size()));
            for (int r = 0; r < proxy.rowCount(); ++r) {
                QCOMPARE(proxy.index(r, 0).data(PairListModel::PairIdRole).toLongLong(),
                         want[static_cast<std::size_t>(r)].id);
            }
        }
        // Deciding the last pending pair empties the pending view at once.
        proxy.setPairFilter(pairs::Filter::Pending);
        store.decide(4, Verdict::Skip, "t");
        model.setPairs(store.list());
        QCOMPARE(proxy.rowCount(), 0);

        // Margins 0.2, 0.05, 0.4, 0.01: smallest (the metric least sure) first.
        proxy.setPairFilter(pairs::Filter::All);
        proxy.sort(PairListModel::MarginColumn, Qt::AscendingOrder);
        QList<qlonglong> order;
        for (int r = 0; r < proxy.rowCount(); ++r) {
            order << proxy.index(r, 0).data(PairListModel::PairIdRole).toLongLong();
        }
        QCOMPARE(order, (QList<qlonglong>{4, 2, 1, 3}));
        proxy.sort(PairListModel::MarginColumn, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 0).data(PairListModel::PairIdRole).toLongLong(), 3LL);
    }

    void makePairsCommandLine() {
        MakePairsSettings s;
        s.model = "m.safetensors";
        s.sequence = "/data/00";
        s.store = "/tmp/p.db";
        s.first = 2;
        s.last = 5;
        s.lambda = 1.25;
        QCOMPARE(makePairsArguments(s),
                 (QStringList{"pairs", "make", "m.safetensors", "/data/00", "/tmp/p.db", "--frames",
                              "2:5", "--lambda", "1.25", "--device", "cpu"}));
        s.steps = 1;
        s.points = 300;
        s.device = "cuda";
        const QStringList args = makePairsArguments(s);
        QCOMPARE(args.mid(args.size() - 6),
                 (QStringList{"--device", "cuda", "--steps", "1", "--points", "300"}));
        int a = -1, b = -1;
        QVERIFY(parseFrameRange(" 3 : 7 ", 10, a, b));
        QCOMPARE(a, 3);
        QCOMPARE(b, 7);
        QVERIFY(!parseFrameRange("7:3", 10, a, b));
        QVERIFY(!parseFrameRange("0:11", 10, a, b));
        QVERIFY(!parseFrameRange("4", 10, a, b));
        QVERIFY(!parseFrameRange("-1:3", 10, a, b));
        QCOMPARE(a, 3);  // untouched by refusals
    }
};

QTEST_MAIN(PairListModelTest)
#include "PairListModelTest.moc"
