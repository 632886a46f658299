// SPDX-License-Identifier: MIT
#include "ui/app/CompletionPanel.h"

#include "core/base/Error.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/CompletionMetrics.h"
#include "ui/app/SequenceSession.h"
#include "ui/render/CameraState.h"
#include "ui/render/CloudToVtk.h"
#include "ui/render/PointCloudView.h"
#include "ui/workers/PromiseProgress.h"

#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QScrollBar>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <vtkCamera.h>
#include <vtkRenderer.h>

#include <exception>

namespace lidistill::ui {

/// A result file read and converted for VTK on a worker.
struct LoadedCompletion {
    int token = 0;
    std::shared_ptr<const PointCloud> cloud;
    CloudPolyData polyData;
    QString error;
};

/// One result scored against its ground truth on a worker.
struct CompletionScore {
    int token = 0;
    std::optional<metrics::SequenceMetrics> metrics;
    QString error;  ///< empty on success or when cancelled
};

struct CompletionPanel::RoleState {
    QHash<int, QString> files;                // frame -> output, this generation
    QHash<int, double> seconds;               // frame -> wall time of the run
    int runGeneration = -1;                   // the generation the running job started in
    int token = 0;                            // bumped whenever the view changes: drops stale jobs
    std::shared_ptr<const PointCloud> cloud;  // the result on screen, for scoring
    QString shownFile;
    bool scored = false;
    QFutureWatcher<LoadedCompletion> load;
    QFutureWatcher<CompletionScore> score;
};

namespace {

QString headerText(int column) {
    switch (column) {
        case CompletionPanel::PointsColumn:
            return QObject::tr("Points");
        case CompletionPanel::TimeColumn:
            return QObject::tr("Time\n[s]");
        case CompletionPanel::ChamferColumn:
            return QObject::tr("CD\n[m]");
        case CompletionPanel::JsdBevColumn:
            return QObject::tr("BEV-\nJSD");
        case CompletionPanel::Iou05Column:
            return QObject::tr("IoU 0.5\n[%]");
        case CompletionPanel::Iou02Column:
            return QObject::tr("IoU 0.2\n[%]");
        case CompletionPanel::Iou01Column:
            return QObject::tr("IoU 0.1\n[%]");
        case CompletionPanel::PrecisionColumn:
            return QObject::tr("P\n[%]");
        case CompletionPanel::RecallColumn:
            return QObject::tr("R\n[%]");
        case CompletionPanel::FScoreColumn:
            return QObject::tr("F\n[%]");
        default:
            return {};
    }
}

QString headerTip(int column) {
    switch (column) {
        case CompletionPanel::TimeColumn:
            return QObject::tr("Wall time of the lidistill run, model loading included");
        case CompletionPanel::ChamferColumn:
            return QObject::tr(
                "Chamfer distance: 0.5 (mean GT->result + mean result->GT "
                "nearest-neighbour distance), metres; lower is better");
        case CompletionPanel::JsdBevColumn:
            return QObject::tr(
                "Jensen-Shannon distance of bird's-eye-view occupancy (0.5 m "
                "cells over +-50 m); lower is better");
        case CompletionPanel::Iou05Column:
        case CompletionPanel::Iou02Column:
        case CompletionPanel::Iou01Column:
            return QObject::tr(
                "Completion IoU of occupied 0.5 / 0.2 / 0.1 m voxels (current LiDiff definition), "
                "percent; higher is better");
        case CompletionPanel::PrecisionColumn:
        case CompletionPanel::RecallColumn:
        case CompletionPanel::FScoreColumn:
            return QObject::tr(
                "Area under the precision / recall / F-score curve over "
                "thresholds 0.05-0.10 m, percent; higher is better");
        default:
            return {};
    }
}

}  // namespace

CompletionPanel::CompletionPanel(SequenceSession* session, PointCloudView* teacherView,
                                 PointCloudView* studentView, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_views{teacherView, studentView},
      m_table(new QTableWidget(2, ColumnCount)),
      m_folderLabel(new QLabel),
      m_outputDir(QDir(QDir::tempPath()).filePath(QStringLiteral("lidistill-studio-XXXXXX"))) {
    auto* layout = new QVBoxLayout(this);
    auto* slots = new QVBoxLayout;  // stacked: the dock stays narrow beside the views
    for (const CompletionRole role : {CompletionRole::Teacher, CompletionRole::Student}) {
        auto* s = new CompletionSlot(role, this);
        s->setOutputFolder(m_outputDir.path());
        m_slots[index(role)] = s;
        m_state[index(role)] = std::make_unique<RoleState>();
        slots->addWidget(s, 1);
        connect(s, &CompletionSlot::completed, this,
                [this, role](int frame, const QString& file, double seconds) {
                    onCompleted(role, frame, file, seconds);
                });
        connect(s, &CompletionSlot::failed, this, &CompletionPanel::errorOccurred);
        connect(s, &CompletionSlot::runningChanged, this, [this, role](bool running) {
            if (running) m_state[index(role)]->runGeneration = m_generation;
        });
        RoleState& st = *m_state[index(role)];
        connect(&st.load, &QFutureWatcher<LoadedCompletion>::finished, this,
                [this, role] { onLoaded(role); });
        connect(&st.score, &QFutureWatcher<CompletionScore>::finished, this,
                [this, role] { onScored(role); });
        m_views[index(role)]->setTitle(roleName(role));
        m_views[index(role)]->clearCloud();
    }
    layout->addLayout(slots);

    auto* buttons = new QHBoxLayout;
    auto* both = new QPushButton(tr("Run both"));
    both->setToolTip(tr("Run the teacher and the student on the current frame (Ctrl+R)"));
    connect(both, &QPushButton::clicked, this, &CompletionPanel::runBoth);
    auto* stop = new QPushButton(tr("Stop both"));
    connect(stop, &QPushButton::clicked, this, &CompletionPanel::stopAll);
    buttons->addWidget(both);
    buttons->addWidget(stop);
    buttons->addStretch(1);
    layout->addLayout(buttons);

    for (int c = 0; c < ColumnCount; ++c) {
        auto* h = new QTableWidgetItem(headerText(c));
        h->setToolTip(headerTip(c));
        m_table->setHorizontalHeaderItem(c, h);
    }
    m_table->setVerticalHeaderLabels(
        {roleName(CompletionRole::Teacher), roleName(CompletionRole::Student)});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::ContiguousSelection);  // rows can be copied
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_table->setFixedHeight(m_table->horizontalHeader()->sizeHint().height() +
                            2 * m_table->verticalHeader()->defaultSectionSize() +
                            2 * m_table->frameWidth() +
                            m_table->horizontalScrollBar()->sizeHint().height());
    m_table->setToolTip(
        tr("Each result against the frame's ground truth (the static map "
           "cropped to the frame, as lidistill eval --sequence does)"));
    layout->addWidget(m_table);
    m_folderLabel->setWordWrap(true);
    m_folderLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_folderLabel->setText(m_outputDir.isValid()
                               ? tr("Results: %1").arg(m_outputDir.path())
                               : tr("Cannot create a temporary folder for the results: %1")
                                     .arg(m_outputDir.errorString()));
    layout->addWidget(m_folderLabel);
    layout->addStretch(1);
    clearRow(CompletionRole::Teacher);
    clearRow(CompletionRole::Student);

    connect(m_session, &SequenceSession::opened, this, &CompletionPanel::onOpened);
    connect(m_session, &SequenceSession::frameLoaded, this, &CompletionPanel::onFrameLoaded);
    connect(m_session, &SequenceSession::mapReady, this, [this] {
        for (const CompletionRole role : {CompletionRole::Teacher, CompletionRole::Student}) {
            RoleState& st = *m_state[index(role)];
            if (st.cloud && !st.scored && !st.score.isRunning()) startScoring(role);
        }
    });
}

CompletionPanel::~CompletionPanel() {
    for (auto& st : m_state) {
        st->load.disconnect(this);
        st->score.disconnect(this);
        st->score.cancel();
        st->load.waitForFinished();
        st->score.waitForFinished();
    }
    // The slots' CliProcess destructors end the running programs.
}

QString CompletionPanel::resultFile(CompletionRole role) const {
    return m_state[index(role)]->shownFile;
}

void CompletionPanel::setProgram(const QString& program) {
    for (CompletionSlot* s : m_slots) s->worker()->setProgram(program);
}

void CompletionPanel::setWorkerCommand(const QStringList& prefix, const QString& program) {
    for (CompletionSlot* s : m_slots) {
        s->worker()->setCommandPrefix(prefix);
        if (!program.isEmpty()) s->worker()->setProgram(program);
    }
}

void CompletionPanel::runBoth() {
    for (CompletionSlot* s : m_slots) {
        if (!s->isRunning() && !s->modelEdit()->text().trimmed().isEmpty()) s->run();
    }
}

void CompletionPanel::stopAll() {
    for (CompletionSlot* s : m_slots) s->stop();
}

void CompletionPanel::onOpened() {
    ++m_generation;
    m_frame = -1;
    for (auto& st : m_state) {
        st->files.clear();
        st->seconds.clear();
    }
}

void CompletionPanel::onFrameLoaded(const FrameData& frame) {
    for (auto* s : m_slots) {
        s->setNuscenesKittiAxes(m_session->nuscenesAxes() == io::NuscenesAxes::KittiFrame);
    }
    if (frame.index == m_frame) {
        return;  // the same frame again (its ground truth arrived): results stay
    }
    m_frame = frame.index;
    m_frameName = frame.name;
    QString scanFile;
    if (const auto& seq = m_session->sequence()) {
        scanFile =
            QString::fromStdString(seq->scanFile(static_cast<std::size_t>(m_frame)).string());
    } else if (!m_session->singleFile().empty()) {
        scanFile = QString::fromStdString(m_session->singleFile().string());
    }
    for (const CompletionRole role : {CompletionRole::Teacher, CompletionRole::Student}) {
        m_slots[index(role)]->setFrame(m_frame, m_frameName, scanFile);
        showStored(role);
    }
}

void CompletionPanel::onCompleted(CompletionRole role, int frame, const QString& file,
                                  double seconds) {
    RoleState& st = *m_state[index(role)];
    if (st.runGeneration != m_generation) {
        return;  // started on content that is no longer open
    }
    st.files.insert(frame, file);
    st.seconds.insert(frame, seconds);
    if (frame == m_frame) {
        showStored(role);
    }
}

void CompletionPanel::showStored(CompletionRole role) {
    RoleState& st = *m_state[index(role)];
    ++st.token;
    st.score.cancel();
    st.cloud.reset();
    st.shownFile.clear();
    st.scored = false;
    clearRow(role);
    PointCloudView* view = m_views[index(role)];
    const QString file = st.files.value(m_frame);
    if (file.isEmpty() || !QFileInfo::exists(file)) {
        view->clearCloud(tr("No %1 result for frame %2\n(Run in the completion panel, K)")
                             .arg(roleName(role).toLower(), m_frameName));
        return;
    }
    view->clearCloud(tr("Loading the %1 result...").arg(roleName(role).toLower()));
    startLoad(role, file);
}

void CompletionPanel::startLoad(CompletionRole role, const QString& file) {
    RoleState& st = *m_state[index(role)];
    st.shownFile = file;
    const int token = st.token;
    const std::string path = file.toStdString();
    st.load.setFuture(QtConcurrent::run([token, path] {
        LoadedCompletion out;
        out.token = token;
        try {
            auto cloud = std::make_shared<PointCloud>(io::readCloud(path));
            out.polyData = toPolyData(*cloud);
            out.cloud = std::move(cloud);
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void CompletionPanel::setCloudKeepingCamera(PointCloudView* view, LoadedCompletion& loaded) {
    // A view's first cloud resets the camera, which all views share: keep the user's.
    const CameraState camera = captureCamera(view->renderer()->GetActiveCamera());
    view->setCloud(std::move(loaded.polyData));
    applyCamera(view->renderer()->GetActiveCamera(), camera);
    view->updateLinked();
}

void CompletionPanel::onLoaded(CompletionRole role) {
    RoleState& st = *m_state[index(role)];
    LoadedCompletion loaded = st.load.result();
    if (loaded.token != st.token) {
        return;  // another frame (or a newer result) is on screen now
    }
    PointCloudView* view = m_views[index(role)];
    if (!loaded.error.isEmpty()) {
        view->clearCloud(tr("Cannot read the %1 result").arg(roleName(role).toLower()));
        setRowMessage(role, tr("Cannot read %1: %2").arg(st.shownFile, loaded.error));
        Q_EMIT errorOccurred(
            tr("Cannot read the %1 result: %2").arg(roleName(role).toLower(), loaded.error));
        return;
    }
    st.cloud = loaded.cloud;
    setCloudKeepingCamera(view, loaded);
    setCell(role, PointsColumn, QLocale().toString(static_cast<qulonglong>(st.cloud->size())));
    if (st.seconds.contains(m_frame)) {
        setCell(role, TimeColumn, QString::number(st.seconds.value(m_frame), 'f', 1));
    }
    Q_EMIT resultShown(role, m_frame);
    startScoring(role);
}

QString CompletionPanel::groundTruthUnavailable() const {
    if (!m_session->singleFile().empty()) {
        return tr("No ground truth for a single file (open its sequence folder)");
    }
    const auto& seq = m_session->sequence();
    if (!seq) {
        return tr("Nothing open");
    }
    if (!seq->hasPoses() || !seq->hasLabels()) {
        return tr("No ground truth: the sequence has no %1")
            .arg(!seq->hasPoses() ? tr("poses.txt") : tr("labels"));
    }
    if (!m_session->hasMap()) {
        return m_session->isBuildingMap() ? tr("Waiting for the ground-truth map...")
                                          : tr("No ground-truth map (its build failed)");
    }
    return {};
}

void CompletionPanel::startScoring(CompletionRole role) {
    RoleState& st = *m_state[index(role)];
    const QString why = groundTruthUnavailable();
    if (!why.isEmpty()) {
        setRowMessage(role, why);
        if (!m_session->isBuildingMap()) {
            st.scored = true;  // nothing will change for this frame
            Q_EMIT metricsShown(role, m_frame);
        }
        return;
    }
    setRowMessage(role, tr("Computing the metrics..."));
    const auto seq = m_session->sequence();
    const auto staticMap = m_session->staticMap();
    const auto pred = st.cloud;
    const auto frame = static_cast<std::size_t>(m_frame);
    const int token = st.token;
    st.score.setFuture(
        QtConcurrent::run([seq, staticMap, pred, frame, token](QPromise<CompletionScore>& promise) {
            CompletionScore out;
            out.token = token;
            PromiseProgress<CompletionScore> progress(promise);
            try {
                const PointCloud gt = map::groundTruthForFrame(*seq, *staticMap, frame);
                // One scan through the sequence accumulator: the AUCs and IoUs exactly as
                // `lidistill eval` reports them for a single prediction.
                const metrics::EvaluationOptions options;
                metrics::SequenceAccumulator acc(options);
                acc.add(metrics::evaluateScan(*pred, gt, options, &progress));
                out.metrics = acc.result();
            } catch (const Cancelled&) {
                // dropped: a newer result replaced this one
            } catch (const std::exception& e) {
                out.error = QString::fromUtf8(e.what());
            }
            promise.addResult(out);
        }));
}

void CompletionPanel::onScored(CompletionRole role) {
    RoleState& st = *m_state[index(role)];
    if (st.score.future().resultCount() == 0) {
        return;
    }
    const CompletionScore score = st.score.result();
    if (score.token != st.token || (!score.metrics && score.error.isEmpty())) {
        return;
    }
    st.scored = true;
    if (!score.metrics) {
        setRowMessage(role, tr("Cannot compute the metrics: %1").arg(score.error));
        Q_EMIT metricsShown(role, m_frame);
        return;
    }
    const metrics::SequenceMetrics& m = *score.metrics;
    unspan(role);
    setCell(role, ChamferColumn, QString::number(m.cdMean, 'f', 4));
    setCell(role, JsdBevColumn, QString::number(m.jsdBev, 'f', 4));
    const int iouColumns[] = {Iou05Column, Iou02Column, Iou01Column};
    for (std::size_t k = 0; k < 3 && k < m.iouCurrent.size(); ++k) {
        setCell(role, iouColumns[k], QString::number(100.0 * m.iouCurrent[k], 'f', 2));
    }
    setCell(role, PrecisionColumn, QString::number(m.auc.precision, 'f', 2));
    setCell(role, RecallColumn, QString::number(m.auc.recall, 'f', 2));
    setCell(role, FScoreColumn, QString::number(m.auc.fscore, 'f', 2));
    Q_EMIT metricsShown(role, m_frame);
}

void CompletionPanel::setCell(CompletionRole role, int column, const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_table->setItem(static_cast<int>(role), column, item);
}

void CompletionPanel::setRowMessage(CompletionRole role, const QString& message) {
    const int row = static_cast<int>(role);
    for (int c = ChamferColumn; c < ColumnCount; ++c) m_table->setItem(row, c, nullptr);
    if (m_table->columnSpan(row, ChamferColumn) == 1) {
        m_table->setSpan(row, ChamferColumn, 1, ColumnCount - ChamferColumn);
    }
    auto* item = new QTableWidgetItem(message);
    item->setToolTip(message);
    m_table->setItem(row, ChamferColumn, item);
}

void CompletionPanel::unspan(CompletionRole role) {
    const int row = static_cast<int>(role);
    if (m_table->columnSpan(row, ChamferColumn) > 1) {
        m_table->setSpan(row, ChamferColumn, 1, 1);  // removes the span
    }
}

void CompletionPanel::clearRow(CompletionRole role) {
    const int row = static_cast<int>(role);
    unspan(role);
    for (int c = 0; c < ColumnCount; ++c) {
        m_table->setItem(row, c, new QTableWidgetItem(QStringLiteral("-")));
    }
}

}  // namespace lidistill::ui
