// SPDX-License-Identifier: MIT
// Non-GL studio logic: the frame model, the map cache location, progress, the session.

#include "core/base/Error.h"
#include "core/io/ScanIo.h"
#include "ui/app/SequenceSession.h"
#include "ui/app/ViewCapture.h"
#include "ui/models/FrameListModel.h"
#include "ui/render/CameraState.h"
#include "ui/workers/PromiseProgress.h"

#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QtConcurrent/QtConcurrentRun>

#include <cstdlib>
#include <filesystem>

using namespace lidistill;
using namespace lidistill::ui;
namespace fs = std::filesystem;

namespace {

fs::path sharedSeq00() {
    const char* v = std::getenv("LIDISTILL_SHARED_DATA");
    return fs::path(v && *v ? v : "../shared/data") / "semantickitti-mini" / "sequences" / "00";
}

/// A plain folder of KITTI .bin scans; scan k has k + 1 points, so a load is identifiable.
void writeScans(const fs::path& dir, const QStringList& names) {
    int k = 0;
    for (const QString& name : names) {
        PointCloud c;
        for (int i = 0; i <= k; ++i) {
            c.xyz.push_back({static_cast<float>(i), 1.f, 0.f});
            c.intensity.push_back(0.25f);
        }
        io::writeKittiBin(dir / (name.toStdString() + ".bin"), c);
        ++k;
    }
}

}  // namespace

class ModelTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // caches go to a test folder
        QCoreApplication::setApplicationName("lidistill-studio-test");
    }

    void cameraJsonRoundTripsAndRejectsBadText() {
        CameraState s;
        s.position = {1.25, -3.0, 1e-7};
        s.focalPoint = {0.1, 0.2, 0.30000000000000004};  // full double precision survives
        s.viewUp = {0, 0, 1};
        s.viewAngle = 41.5;
        s.parallelScale = 12.75;
        s.parallelProjection = true;
        const QString json = cameraToJson(s);
        QCOMPARE(cameraFromJson(json), s);
        // Hand-written text without the optional fields.
        const CameraState h = cameraFromJson(
            R"({"position": [0, 0, 10], "focal_point": [0, 0, 0], "view_up": [1, 0, 0]})");
        QCOMPARE(h.position[2], 10.0);
        QCOMPARE(h.parallelProjection, false);
        const auto rejects = [](const char* text, const char* why) {
            try {
                cameraFromJson(QString::fromUtf8(text));
            } catch (const InvalidArgument& e) {
                return QString::fromUtf8(e.what()).contains(QString::fromUtf8(why));
            }
            return false;
        };
        QVERIFY(rejects("not json", "not valid JSON"));
        QVERIFY(rejects("[1, 2]", "expected an object"));
        QVERIFY(rejects(R"({"focal_point": [0,0,0], "view_up": [0,0,1]})", "missing \"position\""));
        QVERIFY(rejects(R"({"position": [0,0], "focal_point": [0,0,0], "view_up": [0,0,1]})",
                        "not an array of 3"));
        QVERIFY(rejects(R"({"position": [0,0,"a"], "focal_point": [0,0,0], "view_up": [0,0,1]})",
                        "not a finite number"));
        QVERIFY(rejects(R"({"position": [1,1,1], "focal_point": [1,1,1], "view_up": [0,0,1]})",
                        "coincide"));
        QVERIFY(rejects(R"({"position": [0,0,5], "focal_point": [0,0,0], "view_up": [0,0,2]})",
                        "parallel"));
        QVERIFY(rejects(
            R"({"position": [0,0,5], "focal_point": [0,0,0], "view_up": [0,1,0], "view_angle": 0})",
            "view_angle"));
        QVERIFY(rejects(
            R"({"format": "open3d", "position": [0,0,5], "focal_point": [0,0,0], "view_up": [0,1,0]})",
            "unknown format"));
    }

    void screenshotNamesAreFreshAndWritesAreAtomic() {
        QTemporaryDir tmp;
        const QDateTime when(QDate(2026, 3, 4), QTime(5, 6, 7));
        const QString first = nextScreenshotPath(tmp.path(), when);
        QCOMPARE(QFileInfo(first).fileName(), QStringLiteral("lidistill-20260304-050607.png"));
        QImage img(8, 4, QImage::Format_RGB32);
        img.fill(QColor(10, 20, 30));
        CameraState cam;
        saveScreenshot(img, first, &cam);
        QCOMPARE(QImage(first).pixelColor(3, 2), QColor(10, 20, 30));
        QVERIFY(QFileInfo::exists(tmp.path() + "/lidistill-20260304-050607.camera.json"));
        const QString second = nextScreenshotPath(tmp.path(), when);
        QCOMPARE(QFileInfo(second).fileName(), QStringLiteral("lidistill-20260304-050607-2.png"));
        // A folder that cannot be created (its parent is a file): IoError naming the file,
        // and nothing left behind.
        QFile blocker(tmp.path() + "/blocker");
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const QString bad = tmp.path() + "/blocker/shot.png";
        try {
            saveScreenshot(img, bad, &cam);
            QFAIL("expected an IoError");
        } catch (const IoError& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains("shot.png"));
        }
        QVERIFY(!QFileInfo::exists(bad));
        QCOMPARE(QDir(tmp.path()).entryList(QDir::Files).size(), 3);  // png, json, blocker
    }

    void frameModelListsFramesInNaturalOrder() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        // Written as 0..3 in this order; natural order is frame2, frame9, frame10, frame11.
        writeScans(tmp.path().toStdString(), {"frame10", "frame2", "frame11", "frame9"});
        FrameListModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        model.setSequence(
            std::make_shared<const Sequence>(Sequence::open(tmp.path().toStdString())));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.data(model.index(0, 0)).toString(), QStringLiteral("frame2"));
        QCOMPARE(model.data(model.index(1, 0)).toString(), QStringLiteral("frame9"));
        QCOMPARE(model.data(model.index(3, 0)).toString(), QStringLiteral("frame11"));
        QVERIFY(model.data(model.index(2, 0), FrameListModel::ScanPathRole)
                    .toString()
                    .endsWith(QStringLiteral("frame10.bin")));
        QVERIFY(model.data(model.index(2, 0), FrameListModel::LabelPathRole).toString().isEmpty());
        QVERIFY(!model.data(model.index(2, 0), FrameListModel::TimeRole).isValid());
        QCOMPARE(model.data(model.index(3, 0), FrameListModel::IndexRole).toInt(), 3);
        QVERIFY(!model.data(model.index(4, 0)).isValid());
        QCOMPARE(model.rowCount(model.index(0, 0)), 0);  // a list: items have no children
        model.setSequence(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void frameModelOnRealSequence() {
        if (!fs::exists(sharedSeq00())) QSKIP("shared data not found");
        FrameListModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSequence(std::make_shared<const Sequence>(Sequence::open(sharedSeq00())));
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.data(model.index(9, 0)).toString(), QStringLiteral("000009"));
        QVERIFY(model.data(model.index(0, 0), FrameListModel::LabelPathRole)
                    .toString()
                    .endsWith(QStringLiteral("labels/000000.label")));
        QVERIFY(model.data(model.index(1, 0), FrameListModel::TimeRole).toDouble() > 0.0);
    }

    void mapCacheIsInTheUserCacheKeyedByPath() {
        const fs::path a = SequenceSession::mapCachePath("/data/kitti/sequences/00");
        const fs::path b = SequenceSession::mapCachePath("/data/other/sequences/00");
        const fs::path cacheRoot =
            QStandardPaths::writableLocation(QStandardPaths::CacheLocation).toStdString();
        QVERIFY(!cacheRoot.empty());
        QCOMPARE(QString::fromStdString(a.parent_path().parent_path().string()),
                 QString::fromStdString(cacheRoot.string()));
        QVERIFY(a != b);  // same folder name, different sequence
        QCOMPARE(a, SequenceSession::mapCachePath("/data/kitti/sequences/00/"));
        QVERIFY(QString::fromStdString(a.filename().string()).startsWith("00-"));
        QCOMPARE(QString::fromStdString(a.extension().string()), QStringLiteral(".ldmap"));
    }

    void promiseProgressReportsAndCancels() {
        QPromise<int> promise;
        QFuture<int> future = promise.future();
        promise.start();
        PromiseProgress<int> sink(promise);
        QCOMPARE(future.progressMaximum(), PromiseProgress<int>::kProgressMax);
        sink.report(0.25, "scans");
        QCOMPARE(future.progressValue(), 250);
        QCOMPARE(future.progressText(), QStringLiteral("scans"));
        sink.report(2.0, "done");  // clamped
        QCOMPARE(future.progressValue(), PromiseProgress<int>::kProgressMax);
        QVERIFY(!sink.cancelled());
        future.cancel();
        QVERIFY(sink.cancelled());
        promise.finish();
    }

    void sessionRejectsABadFolderAndKeepsTheOldOne() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString(), {"a", "b"});
        SequenceSession session;
        QSignalSpy failed(&session, &SequenceSession::failed);
        QVERIFY(!session.open(tmp.path() + "/does-not-exist"));
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.at(0).at(0).toString().contains("does-not-exist"));
        QVERIFY(session.open(tmp.path()));
        QTemporaryDir empty;  // exists, but holds no scans
        QVERIFY(!session.open(empty.path()));
        QCOMPARE(failed.count(), 2);
        QCOMPARE(session.frames()->rowCount(), 2);
    }

    void sessionLoadsTheLatestRequestedFrame() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString(), {"s0", "s1", "s2", "s3", "s4"});
        SequenceSession session;
        QSignalSpy loaded(&session, &SequenceSession::frameLoaded);
        QVERIFY(session.open(tmp.path()));
        // No poses: no map build, so no ground truth.
        QVERIFY(!session.isBuildingMap());
        for (int i = 1; i <= 4; ++i) session.requestFrame(i);
        session.requestFrame(99);  // out of range: ignored
        QTRY_VERIFY_WITH_TIMEOUT(
            !loaded.isEmpty() && loaded.last().at(0).value<FrameData>().index == 4, 10000);
        const FrameData last = loaded.last().at(0).value<FrameData>();
        QCOMPARE(last.scan.pointCount, std::size_t{5});  // scan k has k + 1 points
        QCOMPARE(last.name, QStringLiteral("s4"));
        QVERIFY(!last.groundTruth);
        QVERIFY(last.error.isEmpty());
        // Superseded requests are not delivered: at most frame 0 came before.
        for (const auto& args : loaded) {
            const int index = args.at(0).value<FrameData>().index;
            QVERIFY(index == 0 || index == 4);
        }
    }

    void sessionOpensASingleFile() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString(), {"a", "b", "c"});  // c has 3 points
        SequenceSession session;
        QSignalSpy loaded(&session, &SequenceSession::frameLoaded);
        QSignalSpy failed(&session, &SequenceSession::failed);
        QVERIFY(session.openFile(tmp.path() + "/c.bin"));
        QVERIFY(!session.sequence());
        QCOMPARE(session.frameCount(), 1);
        QCOMPARE(session.frames()->rowCount(), 1);
        QAbstractItemModelTester tester(session.frames());
        QCOMPARE(session.frames()->index(0).data(FrameListModel::ScanPathRole).toString(),
                 tmp.path() + "/c.bin");
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 10000);
        const FrameData f = loaded.last().at(0).value<FrameData>();
        QCOMPARE(f.scan.pointCount, std::size_t{3});
        QVERIFY(!f.groundTruth && !session.isBuildingMap());
        session.requestFrame(1);  // out of range for one file
        QTest::qWait(50);
        QCOMPARE(loaded.count(), 1);
        // Unsupported or missing files: refused, the open file stays.
        QVERIFY(!session.openFile(tmp.path() + "/missing.bin"));
        QVERIFY(failed.last().at(0).toString().contains("no such file"));
        QVERIFY(!session.openFile(tmp.path()));  // a folder has no scan extension
        QCOMPARE(failed.count(), 2);
        QCOMPARE(session.singleFile().filename().string(), std::string("c.bin"));
        // Opening a folder afterwards replaces the single file.
        QVERIFY(session.open(tmp.path()));
        QVERIFY(session.singleFile().empty());
        QCOMPARE(session.frames()->rowCount(), 3);
    }

    void sessionReportsAnUnreadableScan() {
        QTemporaryDir tmp;
        writeScans(tmp.path().toStdString(), {"good"});
        {
            QFile bad(tmp.path() + "/zbad.bin");  // 6 bytes: not a multiple of 16
            QVERIFY(bad.open(QIODevice::WriteOnly));
            bad.write("abcdef");
        }
        SequenceSession session;
        QSignalSpy failed(&session, &SequenceSession::failed);
        QSignalSpy loaded(&session, &SequenceSession::frameLoaded);
        QVERIFY(session.open(tmp.path()));
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 10000);
        session.requestFrame(1);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, 10000);
        const FrameData frame = loaded.last().at(0).value<FrameData>();
        QVERIFY(!frame.error.isEmpty());
        QVERIFY(frame.error.contains("zbad.bin"));
        QCOMPARE(failed.count(), 1);
    }

    void sessionBuildsTheMapAndDeliversGroundTruth() {
        if (!fs::exists(sharedSeq00())) QSKIP("shared data not found");
        const fs::path cache = SequenceSession::mapCachePath(sharedSeq00());
        fs::remove(cache);
        SequenceSession session;
        QSignalSpy ready(&session, &SequenceSession::mapReady);
        QSignalSpy progress(&session, &SequenceSession::mapProgress);
        QSignalSpy loaded(&session, &SequenceSession::frameLoaded);
        QVERIFY(session.open(QString::fromStdString(sharedSeq00().string())));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 120000);
        QVERIFY(ready.at(0).at(0).value<qsizetype>() > 100000);
        QVERIFY(!progress.isEmpty());
        QVERIFY(fs::exists(cache));                                        // in the user cache...
        QVERIFY(!fs::exists(sharedSeq00() / fs::path(cache).filename()));  // ...not the dataset
        QTRY_VERIFY_WITH_TIMEOUT(
            !loaded.isEmpty() && loaded.last().at(0).value<FrameData>().groundTruth, 60000);
        const FrameData frame = loaded.last().at(0).value<FrameData>();
        QCOMPARE(frame.index, 0);
        QVERIFY(frame.groundTruth->hasLabels);
        // The crop keeps static classes only: no moving objects (>= 252), no unlabeled.
        for (const auto& [cls, count] : frame.groundTruth->classCounts) {
            QVERIFY2(cls > 1 && cls < 252, qPrintable(QString::number(cls)));
        }
        QVERIFY(frame.groundTruth->pointCount > 50000);
    }

    void closingCancelsTheMapBuild() {
        if (!fs::exists(sharedSeq00())) QSKIP("shared data not found");
        fs::remove(SequenceSession::mapCachePath(sharedSeq00()));
        auto session = std::make_unique<SequenceSession>();
        QVERIFY(session->open(QString::fromStdString(sharedSeq00().string())));
        QVERIFY(session->isBuildingMap());
        QElapsedTimer timer;
        timer.start();
        session.reset();  // cancels and waits
        QVERIFY2(timer.elapsed() < 20000, "cancel is seen between scans");
    }
};

QTEST_MAIN(ModelTest)
#include "ModelTest.moc"
