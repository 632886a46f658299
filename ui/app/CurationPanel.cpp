// SPDX-License-Identifier: MIT
#include "ui/app/CurationPanel.h"

#include "core/base/Error.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "ui/app/MakePairsForm.h"
#include "ui/render/PointCloudView.h"
#include "ui/workers/PromiseProgress.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <filesystem>

namespace lidistill::ui {

namespace fs = std::filesystem;
using pairs::Verdict;

namespace {

QString sideWord(Side side) {
    return side == Side::Left ? QObject::tr("left") : QObject::tr("right");
}

QString letter(Verdict v) {
    return v == Verdict::A ? QStringLiteral("A") : QStringLiteral("B");
}

/// "left (A)", "a tie", "skip": a verdict in the words of the screen.
QString verdictWords(const pairs::Pair& p, Verdict v) {
    if (const auto side = sideOf(p, v))
        return QStringLiteral("%1 (%2)").arg(sideWord(*side), letter(v));
    switch (v) {
        case Verdict::Tie:
            return QObject::tr("a tie");
        case Verdict::Skip:
            return QObject::tr("skip");
        default:
            return QObject::tr("pending");
    }
}

/// The pair's metric as shown: its name, one candidate's value and the unit.
struct MetricValue {
    QString name;
    double value = 0;
    QString unit;
};

MetricValue metricValue(const pairs::Pair& p, const pairs::Candidate& c) {
    // The scores of `lidistill pairs make` (lower is better), shown in their own units.
    if (p.metric == "jsd") return {QObject::tr("BEV-JSD"), c.jsd, {}};
    if (p.metric == "iou") return {QObject::tr("IoU 0.5 m"), 100.0 * c.iou, QStringLiteral(" %")};
    if (p.metric == "weighted") return {QObject::tr("CD + JSD - IoU"), c.cd + c.jsd - c.iou, {}};
    return {QObject::tr("CD"), c.cd, QStringLiteral(" m")};
}

const pairs::Candidate& candidate(const pairs::Pair& p, Side side) {
    return candidateOn(p, side) == Verdict::A ? p.a : p.b;
}

/// "the metric (cd) prefers the left (A): CD 0.4120 vs 0.5200 m".
QString metricSentence(const pairs::Pair& p) {
    const MetricValue l = metricValue(p, candidate(p, Side::Left));
    const MetricValue r = metricValue(p, candidate(p, Side::Right));
    const QString values = QObject::tr("%1 %2 vs %3%4 (left vs right)")
                               .arg(l.name, QString::number(l.value, 'f', 4),
                                    QString::number(r.value, 'f', 4), l.unit);
    const QString metric = QString::fromStdString(p.metric);
    if (const auto side = sideOf(p, p.automatic)) {
        return QObject::tr("the metric (%1) prefers the %2: %3")
            .arg(metric, verdictWords(p, p.automatic), values);
    }
    return QObject::tr("the metric (%1) calls it a tie: %2").arg(metric, values);
}

QString agreementWords(const pairs::Pair& p) {
    const auto agrees = agreesWithMetric(p);
    if (!agrees) return {};
    return *agrees ? QObject::tr("you agree with it") : QObject::tr("you overrode it");
}

QString capitalised(QString s) {
    if (!s.isEmpty()) s[0] = s[0].toUpper();
    return s;
}

/// The index of `frame` in `seq`. @throws IoError when the sequence has no such frame.
std::size_t frameIndex(const Sequence& seq, const std::string& frame) {
    for (std::size_t i = 0; i < seq.size(); ++i) {
        if (seq.frameName(i) == frame) return i;
    }
    throw IoError(seq.dir(), "no frame " + frame + " in this sequence");
}

fs::path canonical(const QString& dir) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(dir.toStdString()), ec);
    if (ec) p = fs::absolute(fs::path(dir.toStdString()));
    p = p.lexically_normal();
    return p.has_filename() ? p : p.parent_path();
}

}  // namespace

CurationPanel::CurationPanel(SequenceSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_model(new PairListModel(this)),
      m_filter(new PairFilterModel(this)) {
    const QString user = qEnvironmentVariable("USER", qEnvironmentVariable("USERNAME"));
    m_who = user.isEmpty() ? QStringLiteral("studio") : QStringLiteral("studio:") + user;
    m_filter->setSourceModel(m_model);

    buildActions();  // the sidebar's buttons show the actions
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(buildSidebar());
    split->addWidget(buildViews());
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    split->setSizes({480, 1020});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);

    connect(&m_load, &QFutureWatcher<LoadedPair>::finished, this, &CurationPanel::onLoaded);
    connect(&m_mapWatcher, &QFutureWatcher<MapResult>::finished, this, &CurationPanel::onMapBuilt);
    connect(&m_mapWatcher, &QFutureWatcher<MapResult>::progressValueChanged, this, [this](int v) {
        if (!m_currentHasGroundTruth && currentPairData() &&
            QString::fromStdString(currentPairData()->recipe.sequence) == m_mapBuilding) {
            groundTruthView()->clearCloud(tr("Building the ground-truth map... %1%").arg(v / 10));
        }
    });
    connect(m_session, &SequenceSession::opened, this, [this](const QString& dir, int frames) {
        m_make->setSequence(m_session->sequence() ? dir : QString(), frames);
        m_sessionMapFailed = false;
    });
    connect(m_session, &SequenceSession::failed, this, [this] {
        // The map build's own failure comes after its worker ended, before any map.
        const auto& seq = m_session->sequence();
        if (seq && seq->hasPoses() && seq->hasLabels() && !m_session->hasMap() &&
            !m_session->isBuildingMap()) {
            m_sessionMapFailed = true;
        }
    });
    connect(m_session, &SequenceSession::mapProgress, this, [this](int permille) {
        const auto p = currentPairData();
        if (p && !m_currentHasGroundTruth &&
            sessionHasSequence(QString::fromStdString(p->recipe.sequence))) {
            groundTruthView()->clearCloud(
                tr("Building the ground-truth map... %1%").arg(permille / 10));
        }
    });
    connect(m_session, &SequenceSession::mapReady, this, [this] {
        const auto p = currentPairData();
        if (p && !m_currentHasGroundTruth &&
            sessionHasSequence(QString::fromStdString(p->recipe.sequence))) {
            startLoad(*p);
        }
    });
    connect(m_make, &MakePairsForm::pairStored, this, &CurationPanel::refresh);
    // Other processes decide and add pairs too; a count of both is one cheap query.
    m_poll = new QTimer(this);
    m_poll->setInterval(2000);
    connect(m_poll, &QTimer::timeout, this, &CurationPanel::pollStore);
    m_poll->start();
    connect(m_make, &MakePairsForm::finished, this, [this](CliOutcome outcome, const QString& m) {
        refresh();
        if (outcome == CliOutcome::Failed) Q_EMIT errorOccurred(tr("Make pairs failed: %1").arg(m));
    });
    showCurrent();
}

CurationPanel::~CurationPanel() {
    m_load.disconnect(this);
    m_mapWatcher.disconnect(this);
    m_mapWatcher.cancel();
    m_load.waitForFinished();
    m_mapWatcher.waitForFinished();
}

void CurationPanel::buildActions() {
    const auto add = [this](const QString& text, const QString& button,
                            const QList<QKeySequence>& keys) {
        auto* a = new QAction(text, this);
        a->setIconText(button);
        a->setShortcuts(keys);
        // Window-wide while this panel is visible; MainWindow disables its frame keys then.
        a->setShortcutContext(Qt::WindowShortcut);
        a->setToolTip(QStringLiteral("%1 (%2)").arg(
            text, QKeySequence::listToString(keys, QKeySequence::NativeText)));
        addAction(a);
        m_keyActions << a;
        return a;
    };
    connect(add(tr("Pick the left candidate"), tr("1 Left"), {Qt::Key_1, Qt::Key_Left}),
            &QAction::triggered, this, [this] { pick(Side::Left); });
    connect(add(tr("Pick the right candidate"), tr("2 Right"), {Qt::Key_2, Qt::Key_Right}),
            &QAction::triggered, this, [this] { pick(Side::Right); });
    connect(add(tr("Call it a tie"), tr("3 Tie"), {Qt::Key_3}), &QAction::triggered, this,
            [this] { decide(Verdict::Tie); });
    connect(add(tr("Skip this pair"), tr("S Skip"), {Qt::Key_S}), &QAction::triggered, this,
            [this] { decide(Verdict::Skip); });
    connect(add(tr("Undo the last decision"), tr("U Undo"),
                {QKeySequence(Qt::Key_U), QKeySequence(Qt::CTRL | Qt::Key_Z)}),
            &QAction::triggered, this, &CurationPanel::undo);
    connect(add(tr("Next pending pair"), tr("N Next"), {Qt::Key_N}), &QAction::triggered, this,
            &CurationPanel::nextPending);
    connect(add(tr("Previous pending pair"), tr("B Back"), {Qt::Key_B}), &QAction::triggered, this,
            &CurationPanel::previousPending);
    m_revealAction = add(tr("Reveal the metric before deciding"), tr("Reveal"), {Qt::Key_V});
    m_revealAction->setCheckable(true);
    connect(m_revealAction, &QAction::toggled, this, &CurationPanel::setRevealed);
}

QWidget* CurationPanel::buildSidebar() {
    auto* side = new QWidget;
    auto* layout = new QVBoxLayout(side);
    auto* storeRow = new QHBoxLayout;
    m_storeLabel = new QLabel(tr("No pair store"));
    m_storeLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    storeRow->addWidget(m_storeLabel, 1);
    const struct {
        const char* text;
        const char* tip;
        bool create;
    } buttons[] = {{QT_TR_NOOP("Open..."), QT_TR_NOOP("Open a pair store"), false},
                   {QT_TR_NOOP("New..."), QT_TR_NOOP("Create a new, empty pair store"), true}};
    for (const auto& b : buttons) {
        auto* button = new QPushButton(tr(b.text));
        button->setToolTip(tr(b.tip));
        button->setFocusPolicy(Qt::NoFocus);
        const bool create = b.create;
        connect(button, &QPushButton::clicked, this, [this, create] {
            const QString filter = tr("Pair stores (*.db *.sqlite);;All files (*)");
            const QString f =
                create ? QFileDialog::getSaveFileName(this, tr("New pair store"), {}, filter)
                       : QFileDialog::getOpenFileName(this, tr("Open a pair store"), {}, filter);
            if (!f.isEmpty()) openStore(f, create);
        });
        storeRow->addWidget(button);
    }
    auto* reload = new QPushButton(tr("Reload"));
    reload->setToolTip(tr("Read the store again (pairs and decisions made elsewhere)"));
    reload->setFocusPolicy(Qt::NoFocus);
    connect(reload, &QPushButton::clicked, this, &CurationPanel::refresh);
    storeRow->addWidget(reload);
    layout->addLayout(storeRow);

    m_filterBox = new QComboBox;
    m_filterBox->addItem(tr("All pairs"), static_cast<int>(pairs::Filter::All));
    m_filterBox->addItem(tr("Pending"), static_cast<int>(pairs::Filter::Pending));
    m_filterBox->addItem(tr("Decided"), static_cast<int>(pairs::Filter::Decided));
    m_filterBox->addItem(tr("Agreeing with the metric"), static_cast<int>(pairs::Filter::Agreeing));
    m_filterBox->addItem(tr("Overriding the metric"), static_cast<int>(pairs::Filter::Overridden));
    m_filterBox->setFocusPolicy(Qt::NoFocus);  // keep the keys for deciding
    connect(m_filterBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        setPairFilter(static_cast<pairs::Filter>(m_filterBox->itemData(i).toInt()));
    });
    auto* filterRow = new QHBoxLayout;
    filterRow->addWidget(new QLabel(tr("Show")));
    filterRow->addWidget(m_filterBox, 1);
    layout->addLayout(filterRow);

    m_table = new QTableView;
    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(PairListModel::IdColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setToolTip(tr("Click a column header to sort (Margin: how sure the metric is)"));
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (!current.isValid()) return;
                const long long id = current.data(PairListModel::PairIdRole).toLongLong();
                if (id != m_current) selectPair(id);
            });
    layout->addWidget(m_table, 1);

    m_progressLabel = new QLabel;
    m_agreementLabel = new QLabel;
    m_verdictLabel = new QLabel;
    m_verdictLabel->setWordWrap(true);
    m_verdictLabel->setMinimumHeight(m_verdictLabel->fontMetrics().lineSpacing() * 3);
    layout->addWidget(m_progressLabel);
    layout->addWidget(m_agreementLabel);
    layout->addWidget(m_verdictLabel);
    auto* keys = new QHBoxLayout;
    for (QAction* a : m_keyActions) {
        if (a == m_revealAction) continue;
        auto* b = new QToolButton;
        b->setDefaultAction(a);
        b->setToolButtonStyle(Qt::ToolButtonTextOnly);
        b->setFocusPolicy(Qt::NoFocus);
        keys->addWidget(b);
    }
    keys->addStretch(1);
    layout->addLayout(keys);
    auto* reveal = new QCheckBox(tr("Show the metric before deciding (V)"));
    reveal->setFocusPolicy(Qt::NoFocus);
    connect(reveal, &QCheckBox::toggled, m_revealAction, &QAction::setChecked);
    connect(m_revealAction, &QAction::toggled, reveal, &QCheckBox::setChecked);
    layout->addWidget(reveal);
    m_advance = new QCheckBox(tr("Go to the next pending pair after deciding"));
    m_advance->setChecked(true);
    m_advance->setFocusPolicy(Qt::NoFocus);
    layout->addWidget(m_advance);
    m_lastLabel = new QLabel;
    m_lastLabel->setWordWrap(true);
    m_lastLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_lastLabel);
    m_make = new MakePairsForm;
    layout->addWidget(m_make);
    return side;
}

QWidget* CurationPanel::buildViews() {
    for (auto& v : m_views) {
        v = new PointCloudView;
        v->setColorMode(ColorMode::Height);  // completions carry no labels
    }
    for (std::size_t i = 1; i < m_views.size(); ++i) m_views[0]->linkCamera(m_views[i]);
    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(m_views[0]);
    top->addWidget(m_views[1]);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(m_views[2]);
    bottom->addWidget(m_views[3]);
    for (QSplitter* s : {top, bottom}) s->setChildrenCollapsible(false);
    connect(top, &QSplitter::splitterMoved, bottom,
            [top, bottom] { bottom->setSizes(top->sizes()); });
    connect(bottom, &QSplitter::splitterMoved, top,
            [top, bottom] { top->setSizes(bottom->sizes()); });
    auto* grid = new QSplitter(Qt::Vertical);
    grid->addWidget(top);
    grid->addWidget(bottom);
    grid->setChildrenCollapsible(false);
    m_viewsWidget = grid;
    return grid;
}

QString CurationPanel::storeFile() const {
    return m_store ? QString::fromStdString(m_store->file().string()) : QString();
}

bool CurationPanel::openStore(const QString& file, bool create) {
    std::unique_ptr<pairs::PairStore> store;
    try {
        store = std::make_unique<pairs::PairStore>(
            pairs::PairStore::open(fs::path(file.toStdString()), create));
    } catch (const std::exception& e) {
        fail(tr("Cannot open the pair store %1: %2").arg(file, QString::fromUtf8(e.what())));
        return false;
    }
    m_store = std::move(store);
    m_undo.clear();  // its steps name another store's pairs
    m_current = -1;
    m_model->clear();
    m_lastLabel->clear();
    m_storeLabel->setText(tr("Store: %1").arg(QFileInfo(file).fileName()));
    m_storeLabel->setToolTip(QFileInfo(file).absoluteFilePath());
    m_make->setStore(QFileInfo(file).absoluteFilePath());
    refresh();
    if (m_current < 0) showCurrent();  // an empty store: say so in the views
    Q_EMIT storeOpened(file, m_model->rowCount());
    return true;
}

void CurationPanel::pollStore() {
    if (!m_store || !isVisible()) return;
    try {
        const auto st = m_store->stats();
        if (st.pairs == m_seenPairs && st.decisions == m_seenDecisions) return;
    } catch (const std::exception&) {
        return;  // a busy or vanished file: the next tick or Reload says more
    }
    refresh();
}

void CurationPanel::refresh() {
    if (!m_store) return;
    try {
        const auto st = m_store->stats();
        m_seenPairs = st.pairs;
        m_seenDecisions = st.decisions;
        m_model->setPairs(m_store->list());
    } catch (const std::exception& e) {
        fail(tr("Cannot read the pair store: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    if (m_current < 0 && m_model->rowCount() > 0) {
        // The first pending pair, else the first pair.
        long long first = m_model->pairAt(0).id;
        for (const pairs::Pair& p : m_model->pairs()) {
            if (p.human == Verdict::None) {
                first = p.id;
                break;
            }
        }
        selectPair(first);
        return;
    }
    updateLabels();
    updateCaptions();
}

bool CurationPanel::selectPair(long long id) {
    const int row = m_model->rowOf(id);
    if (row < 0) return false;
    const bool changed = id != m_current;
    m_current = id;
    const QModelIndex proxy = m_filter->mapFromSource(m_model->index(row, 0));
    if (proxy.isValid()) {
        m_table->selectionModel()->setCurrentIndex(
            proxy, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        m_table->scrollTo(proxy);
    } else {
        m_table->selectionModel()->clearSelection();  // shown, but filtered out of the list
    }
    if (changed) {
        showCurrent();
    } else {
        updateCaptions();
        updateLabels();
    }
    return true;
}

std::optional<pairs::Pair> CurationPanel::currentPairData() const {
    const int row = m_model->rowOf(m_current);
    if (row < 0) return std::nullopt;
    return m_model->pairAt(row);
}

void CurationPanel::showCurrent() {
    ++m_token;
    m_currentHasGroundTruth = false;
    const auto p = currentPairData();
    if (!p) {
        const QString why = !m_store ? tr("Open a pair store (Open... or New...)")
                            : m_model->rowCount() == 0
                                ? tr("No pairs in the store yet\n(Make pairs)")
                                : QString();
        for (PointCloudView* v : m_views) v->clearCloud();
        m_views[0]->setMessage(why);
        updateCaptions();
        updateLabels();
        return;
    }
    for (PointCloudView* v : m_views) v->clearCloud(tr("Loading..."));
    updateCaptions();
    updateLabels();
    startLoad(*p);
}

bool CurationPanel::sessionHasSequence(const QString& sequence) const {
    const auto& seq = m_session->sequence();
    return seq && canonical(QString::fromStdString(seq->dir().string())) == canonical(sequence);
}

bool CurationPanel::sessionMapComing() const {
    // Not just isBuildingMap(): between the build's end and mapReady() neither it nor
    // hasMap() is true, and a second build of the same map must not start then.
    const auto& seq = m_session->sequence();
    return seq && !m_session->hasMap() &&
           (m_session->isBuildingMap() ||
            (seq->hasPoses() && seq->hasLabels() && !m_sessionMapFailed));
}

std::shared_ptr<const map::StaticMap> CurationPanel::mapFor(const QString& sequence,
                                                            const std::string& modelHash) {
    if (sessionHasSequence(sequence) && (m_session->hasMap() || sessionMapComing())) {
        return m_session->staticMap();  // null while the studio builds it: mapReady reloads
    }
    if (auto m = m_maps.value(sequence)) return m;
    if (m_mapErrors.contains(sequence) || m_mapWatcher.isRunning()) return nullptr;
    // `pairs make` leaves the map it scored against in the store's cloud folder: no rebuild.
    fs::path cache = m_store->cloudDir() /
                     (canonical(sequence).filename().string() + "-" + modelHash + ".ldmap");
    std::error_code ec;
    if (!fs::is_regular_file(cache, ec)) {
        cache = SequenceSession::mapCachePath(sequence.toStdString());
    }
    m_mapBuilding = sequence;
    const std::string dir = sequence.toStdString();
    m_mapWatcher.setFuture(QtConcurrent::run([dir, cache](QPromise<MapResult>& promise) {
        MapResult out;
        PromiseProgress<MapResult> progress(promise);
        try {
            const Sequence seq = Sequence::open(dir);
            if (!seq.hasPoses() || !seq.hasLabels()) {
                throw IoError(seq.dir(),
                              "the sequence has no poses.txt and labels/ (the map is "
                              "built from posed, labelled scans)");
            }
            out.map = std::make_shared<const map::StaticMap>(
                map::loadOrBuildStaticMap(seq, cache, {}, &progress));
        } catch (const Cancelled&) {
            out.cancelled = true;
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        promise.addResult(out);
    }));
    return nullptr;
}

void CurationPanel::startLoad(const pairs::Pair& p) {
    const int token = ++m_token;
    const QString sequence = QString::fromStdString(p.recipe.sequence);
    const auto staticMap = mapFor(sequence, p.recipe.modelHash);
    const fs::path clouds = m_store->cloudDir();
    const std::string left = candidate(p, Side::Left).cloud;
    const std::string right = candidate(p, Side::Right).cloud;
    const std::string dir = p.recipe.sequence;
    const std::string frame = p.recipe.frame;
    m_load.setFuture(QtConcurrent::run([=] {
        LoadedPair out;
        out.token = token;
        try {
            out.left = toPolyData(io::readCloud(clouds / left));
            out.right = toPolyData(io::readCloud(clouds / right));
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        try {
            const Sequence seq = Sequence::open(dir);
            const std::size_t i = frameIndex(seq, frame);
            out.scan = toPolyData(seq.loadScan(i));
            if (staticMap) {
                try {
                    out.groundTruth = toPolyData(map::groundTruthForFrame(seq, *staticMap, i));
                } catch (const std::exception& e) {
                    out.groundTruthError = QString::fromUtf8(e.what());
                }
            }
        } catch (const std::exception& e) {
            out.scanError = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void CurationPanel::onLoaded() {
    LoadedPair r = m_load.result();
    if (r.token != m_token) return;  // another pair (or a newer load) is on screen
    const auto p = currentPairData();
    if (!p) return;
    // Each cloud's own robust range first: the shared scale is taken from them below.
    for (PointCloudView* v : m_views) v->setFixedRange(ColorMode::Height, std::nullopt);
    const auto put = [](PointCloudView* view, CloudPolyData& cloud, const QString& why) {
        if (cloud.polyData) {
            view->setCloud(std::move(cloud));
        } else {
            view->clearCloud(why);
        }
    };
    put(m_views[0], r.left, tr("Cannot read the candidate"));
    put(m_views[1], r.right, tr("Cannot read the candidate"));
    put(m_views[3], r.scan, tr("Cannot read the input scan:\n%1").arg(r.scanError));
    m_currentHasGroundTruth = r.groundTruth.has_value();
    if (r.groundTruth) {
        m_views[2]->setCloud(std::move(*r.groundTruth));
    } else {
        const QString sequence = QString::fromStdString(p->recipe.sequence);
        QString why;
        if (!r.groundTruthError.isEmpty()) {
            why = tr("No ground truth: %1").arg(r.groundTruthError);
        } else if (m_mapErrors.contains(sequence)) {
            why = tr("No ground truth:\n%1").arg(m_mapErrors.value(sequence));
        } else if (!r.scanError.isEmpty()) {
            why = tr("No ground truth (the sequence cannot be read)");
        } else {
            why = tr("Building the ground-truth map...");
        }
        m_views[2]->clearCloud(why);
    }
    // One height scale for all four views, the ground truth's (else the scan's): a colour
    // means the same height on both sides, so colours never favour a candidate.
    auto range = groundTruthView()->activeRange();
    if (!range) range = scanView()->activeRange();
    if (range && (*range)[0] < (*range)[1]) {
        for (PointCloudView* v : m_views) v->setFixedRange(ColorMode::Height, range);
    }
    if (!r.error.isEmpty()) fail(tr("Pair %1: %2").arg(p->id).arg(r.error));
    // A moved or missing sequence fails every pair of it the same way: said once.
    if (!r.scanError.isEmpty() && !m_reported.contains(r.scanError)) {
        m_reported.insert(r.scanError);
        fail(tr("Pair %1: %2").arg(p->id).arg(r.scanError));
    }
    Q_EMIT pairShown(p->id, m_currentHasGroundTruth);
}

void CurationPanel::onMapBuilt() {
    const QString sequence = m_mapBuilding;
    m_mapBuilding.clear();
    if (m_mapWatcher.future().resultCount() == 0) return;
    const MapResult result = m_mapWatcher.result();
    if (result.cancelled) return;
    if (result.map) {
        m_maps.insert(sequence, result.map);
    } else {
        m_mapErrors.insert(sequence, result.error);
    }
    // The pair on screen waited for this map, or for the next build.
    if (const auto p = currentPairData(); p && !m_currentHasGroundTruth) startLoad(*p);
}

bool CurationPanel::pick(Side side) {
    const auto p = currentPairData();
    return p && decide(candidateOn(*p, side));
}

bool CurationPanel::record(long long id, Verdict verdict) {
    try {
        m_store->decide(id, verdict, m_who.toStdString());
        const auto now = m_store->get(id);
        if (!now) throw InvalidArgument("the pair left the store");
        // Its row may leave the filtered list: the table's current row must not pull the
        // screen to a neighbour; the caller chooses the next pair.
        const QSignalBlocker block(m_table->selectionModel());
        m_model->updatePair(*now);
    } catch (const std::exception& e) {
        fail(tr("Cannot record the decision on pair %1: %2")
                 .arg(id)
                 .arg(QString::fromUtf8(e.what())));
        return false;
    }
    return true;
}

bool CurationPanel::decide(Verdict verdict) {
    const auto p = currentPairData();
    if (!m_store || !p || verdict == Verdict::None) return false;
    const auto next = m_advance->isChecked() ? pendingNeighbour(p->id, +1) : std::nullopt;
    if (!record(p->id, verdict)) return false;
    m_undo.push_back({p->id, p->human});
    const auto now = currentPairData();
    const QString agreement = agreementWords(*now);
    m_lastLabel->setText(tr("Pair %1 (%2): you chose %3; %4%5")
                             .arg(now->id)
                             .arg(QString::fromStdString(now->recipe.frame),
                                  verdictWords(*now, verdict), metricSentence(*now),
                                  agreement.isEmpty() ? QStringLiteral(".")
                                                      : QStringLiteral(": %1.").arg(agreement)));
    Q_EMIT decided(now->id, verdict);
    if (!next || !selectPair(*next)) {
        selectPair(now->id);  // stays: its verdict and the metric's are shown now
    }
    updateLabels();
    return true;
}

bool CurationPanel::undo() {
    if (!m_store || m_undo.empty()) return false;
    const UndoStep step = m_undo.back();
    if (!record(step.id, step.before)) return false;
    m_undo.pop_back();
    selectPair(step.id);
    if (const auto p = currentPairData()) {
        m_lastLabel->setText(step.before == Verdict::None
                                 ? tr("Undone: pair %1 is pending again.").arg(step.id)
                                 : tr("Undone: pair %1 is %2 again.")
                                       .arg(step.id)
                                       .arg(verdictWords(*p, step.before)));
    }
    updateLabels();
    Q_EMIT decided(step.id, step.before);
    return true;
}

std::optional<long long> CurationPanel::pendingNeighbour(long long from, int direction) const {
    // In the order on screen (filter and sort) first; else in id order (a filter that hides
    // pending pairs must not stop N / B).
    const auto search =
        [&](const std::vector<std::pair<long long, bool>>& order) -> std::optional<long long> {
        const int n = static_cast<int>(order.size());
        int k = -1;
        for (int i = 0; i < n; ++i) {
            if (order[static_cast<std::size_t>(i)].first == from) k = i;
        }
        if (k < 0) k = direction > 0 ? -1 : n;
        for (int step = 1; step <= n; ++step) {
            const int j = ((k + direction * step) % n + n) % n;
            const auto& [id, pending] = order[static_cast<std::size_t>(j)];
            if (pending && id != from) return id;
        }
        return std::nullopt;
    };
    std::vector<std::pair<long long, bool>> shown;
    for (int r = 0; r < m_filter->rowCount(); ++r) {
        const QModelIndex i = m_filter->index(r, 0);
        shown.emplace_back(i.data(PairListModel::PairIdRole).toLongLong(),
                           i.data(PairListModel::PendingRole).toBool());
    }
    if (auto id = search(shown)) return id;
    std::vector<std::pair<long long, bool>> all;
    for (const pairs::Pair& p : m_model->pairs()) all.emplace_back(p.id, p.human == Verdict::None);
    return search(all);
}

bool CurationPanel::nextPending() {
    const auto id = pendingNeighbour(m_current, +1);
    return id && selectPair(*id);
}

bool CurationPanel::previousPending() {
    const auto id = pendingNeighbour(m_current, -1);
    return id && selectPair(*id);
}

void CurationPanel::setRevealed(bool revealed) {
    m_model->setRevealed(revealed);
    m_revealAction->setChecked(revealed);  // no signal when unchanged
    updateCaptions();
    updateLabels();
}

void CurationPanel::setPairFilter(pairs::Filter filter) {
    m_filterBox->setCurrentIndex(m_filterBox->findData(static_cast<int>(filter)));
    m_filter->setPairFilter(filter);
    if (m_current >= 0) {
        const QSignalBlocker block(m_table->selectionModel());
        selectPair(m_current);  // re-selects its row, if it is still listed
    }
}

QString CurationPanel::verdictText() const {
    return m_verdictLabel->text();
}

QString CurationPanel::lastDecisionText() const {
    return m_lastLabel->text();
}

QString CurationPanel::progressText() const {
    return m_progressLabel->text();
}

QString CurationPanel::agreementText() const {
    return m_agreementLabel->text();
}

QStringList CurationPanel::captions() const {
    return m_captions;
}

void CurationPanel::updateLabels() {
    if (!m_store) {
        m_progressLabel->clear();
        m_agreementLabel->clear();
        m_verdictLabel->setText(tr("Open a pair store to curate its pairs."));
        return;
    }
    pairs::Stats st;
    try {
        st = m_store->stats();
    } catch (const std::exception& e) {
        fail(tr("Cannot read the pair store: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    m_progressLabel->setText(
        tr("%1 of %2 decided, %3 pending").arg(st.decided).arg(st.pairs).arg(st.pending));
    const long long ab = st.agreeing + st.overridden;
    m_agreementLabel->setText(ab > 0
                                  ? tr("Agreement with the metric: %1 % (%2 of %3 A/B decisions)")
                                        .arg(100.0 * st.agreement(), 0, 'f', 1)
                                        .arg(st.agreeing)
                                        .arg(ab)
                                  : tr("Agreement with the metric: - (no A/B decision yet)"));
    const auto p = currentPairData();
    if (!p) {
        m_verdictLabel->setText(m_model->rowCount() == 0 ? tr("No pairs yet: Make pairs below.")
                                                         : tr("No pair selected."));
        return;
    }
    const QString head =
        tr("Pair %1, frame %2: ").arg(p->id).arg(QString::fromStdString(p->recipe.frame));
    if (p->human == Verdict::None && !revealed()) {
        m_verdictLabel->setText(
            head + tr("which completion is closer to the ground truth? The metric's verdict "
                      "shows once you decide (V shows it now)."));
        return;
    }
    QString text = head + capitalised(metricSentence(*p)) + QStringLiteral(".");
    if (p->human != Verdict::None) {
        const QString agreement = agreementWords(*p);
        text += tr(" You: %1%2")
                    .arg(verdictWords(*p, p->human), agreement.isEmpty()
                                                         ? QStringLiteral(".")
                                                         : QStringLiteral(", %1.").arg(agreement));
    }
    m_verdictLabel->setText(text);
}

void CurationPanel::updateCaptions() {
    const auto p = currentPairData();
    m_captions = {tr("Left"), tr("Right"), tr("Ground truth"), tr("Input scan")};
    if (p) {
        m_captions[2] = tr("Ground truth, frame %1").arg(QString::fromStdString(p->recipe.frame));
        // Blind: the sides carry no name, number or mark until the pair is decided or revealed.
        if (p->human != Verdict::None || revealed()) {
            for (const Side side : {Side::Left, Side::Right}) {
                const Verdict v = candidateOn(*p, side);
                const pairs::Candidate& c = candidate(*p, side);
                QString text = tr("%1 (%2): CD %3 m")
                                   .arg(capitalised(sideWord(side)), letter(v))
                                   .arg(c.cd, 0, 'f', 4);
                if (p->automatic == v) text += tr(", metric's pick");
                if (p->human == v) text += tr(", your pick");
                m_captions[side == Side::Left ? 0 : 1] = text;
            }
        }
    }
    for (std::size_t i = 0; i < m_views.size(); ++i) {
        m_views[i]->setTitle(m_captions[static_cast<int>(i)]);
    }
}

bool CurationPanel::waitingForGroundTruth() const {
    const auto p = currentPairData();
    if (!p || m_currentHasGroundTruth) return false;
    const QString sequence = QString::fromStdString(p->recipe.sequence);
    if (sessionHasSequence(sequence) && sessionMapComing()) return true;
    return !m_mapErrors.contains(sequence) && !m_maps.contains(sequence) &&
           (m_mapWatcher.isRunning() || m_load.isRunning());
}

void CurationPanel::fail(const QString& message) {
    Q_EMIT errorOccurred(message);
}

}  // namespace lidistill::ui
