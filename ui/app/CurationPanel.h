#pragma once
// SPDX-License-Identifier: MIT

#include "core/pairs/PairStore.h"
#include "ui/app/SequenceSession.h"
#include "ui/models/PairListModel.h"
#include "ui/render/CloudToVtk.h"

#include <QFutureWatcher>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <array>
#include <memory>
#include <optional>
#include <vector>

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QTableView;
class QTimer;

namespace lidistill::map {
class StaticMap;
}

namespace lidistill::ui {

class MakePairsForm;
class PointCloudView;

/// A pair's clouds read and converted for VTK on a worker.
struct LoadedPair {
    int token = 0;
    CloudPolyData left, right, scan;
    std::optional<CloudPolyData> groundTruth;
    QString error;             ///< a candidate could not be read
    QString scanError;         ///< the scan (its sequence or frame) could not be read
    QString groundTruthError;  ///< the crop failed (the rest is shown)
};

/// The studio's "Curate" workspace: people judge the preference pairs of a PairStore.
///
/// A pair list (PairListModel through a PairFilterModel: filter pending / decided / agreeing /
/// overridden, sort by any column, margin included), and four views on one camera: the two
/// candidates side by side in the pair's stored random order (Pair::aShownLeft), the frame's
/// ground truth and the input scan under them. Blind by default: until a pair is decided, no
/// caption, cell or label says which side the metric prefers, its margin or a candidate's
/// metric values; revealed() (V) shows them before. A decision reveals the metric's verdict and
/// whether the person agreed, and moves to the next pending pair. All four views colour by
/// height on one scale, the ground truth's (else the scan's), so a colour means the same height
/// on both sides.
///
/// Keys (actions in keyActions(), window shortcuts live while the panel is visible): 1 / Left
/// picks the left candidate, 2 / Right the right, 3 tie, S skip, U / Ctrl+Z undo, N / B the
/// next / previous pending pair, V the reveal toggle. Each decision is in the store when the
/// key's handler returns (PairStore::decide, synchronous); undo records the pair's earlier
/// verdict again (the store is append-only), from a stack that lives as long as the panel.
///
/// Clouds are read, and the ground truth cropped, on QtConcurrent workers. The ground truth
/// comes from the sequence's static map: the studio session's when the pair's sequence is the
/// one open (or being built there), else one loaded or built here (the map `pairs make` left in
/// the store's cloud folder, else the studio's user cache), cropped as the studio's
/// ground-truth view does. Make pairs (MakePairsForm) runs `lidistill pairs make` on the open
/// sequence into this store; new pairs are listed as they are stored. GUI thread only.
class CurationPanel : public QWidget {
    Q_OBJECT

public:
    /// `session`: the studio's open sequence (for Make pairs and its ground-truth map).
    explicit CurationPanel(SequenceSession* session, QWidget* parent = nullptr);
    /// Waits for the cloud and map workers.
    ~CurationPanel() override;

    /// Opens (with `create`, creates) a pair store and shows its first pending pair.
    /// @return false, keeping the open store, when it cannot (errorOccurred() says why).
    bool openStore(const QString& file, bool create = false);
    /// The open store's file, or an empty string.
    QString storeFile() const;

    PairListModel* pairModel() const noexcept { return m_model; }
    PairFilterModel* filterModel() const noexcept { return m_filter; }
    QTableView* pairTable() const noexcept { return m_table; }
    MakePairsForm* makePairsForm() const noexcept { return m_make; }
    PointCloudView* candidateView(Side side) const {
        return side == Side::Left ? m_views[0] : m_views[1];
    }
    PointCloudView* groundTruthView() const noexcept { return m_views[2]; }
    PointCloudView* scanView() const noexcept { return m_views[3]; }
    std::array<PointCloudView*, 4> views() const noexcept { return m_views; }
    /// The widget holding the four views (what screenshots capture).
    QWidget* viewsWidget() const noexcept { return m_viewsWidget; }
    /// The key actions (pick left / right, tie, skip, undo, next / previous pending, reveal),
    /// for menus and the help; enabling them is the caller's business.
    QList<QAction*> keyActions() const { return m_keyActions; }

    /// The pair on screen, or -1.
    long long currentPair() const noexcept { return m_current; }
    /// What the verdict line says about the pair on screen (blind: that it is hidden).
    QString verdictText() const;
    /// The last decision or undo and what the metric said ("Pair 3 (000002): you chose
    /// left (A); the metric chose right (B), CD 0.41 vs 0.52 m: you overrode it").
    QString lastDecisionText() const;
    /// "3 of 5 decided, 2 pending".
    QString progressText() const;
    /// "Agreement with the metric: 66.7 % (2 of 3 A/B decisions)".
    QString agreementText() const;
    /// The captions of views() (left, right, ground truth, input scan).
    QStringList captions() const;
    /// Whether the pair on screen waits for its ground truth (a map being built or loaded).
    bool waitingForGroundTruth() const;
    /// Decisions this panel can undo.
    int undoDepth() const noexcept { return static_cast<int>(m_undo.size()); }
    bool revealed() const noexcept { return m_model->revealed(); }
    /// Who decisions are recorded as (default "studio:$USER").
    void setWho(const QString& who) { m_who = who; }
    const QString& who() const noexcept { return m_who; }

public Q_SLOTS:
    /// Shows pair `id` (and selects its row). @return false if it is not in the list.
    bool selectPair(long long id);
    /// Records `verdict` (A, B, tie or skip) for the pair on screen, then moves to the next
    /// pending pair. @return false without a pair on screen or when the store refuses.
    bool decide(lidistill::pairs::Verdict verdict);
    /// The candidate on `side` wins.
    bool pick(lidistill::ui::Side side);
    /// Gives the last decision's pair back its earlier verdict and shows it.
    /// @return false when there is nothing to undo.
    bool undo();
    /// The next / previous pending pair in the list's order (wrapping around).
    bool nextPending();
    bool previousPending();
    /// Shows (true) or hides the metric's values of undecided pairs.
    void setRevealed(bool revealed);
    void setPairFilter(lidistill::pairs::Filter filter);
    /// Reads the store's pairs again (new pairs, others' decisions).
    void refresh();
    /// Refreshes when the store holds pairs or decisions this view has not seen (another
    /// studio, `pairs decide`, a `pairs make` elsewhere); a timer calls it while shown.
    void pollStore();

Q_SIGNALS:
    /// Pair `id`'s candidates and scan are in the views; withGroundTruth once its ground
    /// truth is too (emitted again when it arrives later).
    void pairShown(qlonglong id, bool withGroundTruth);
    /// Pair `id` now has verdict `verdict` in the store (decisions and undos).
    void decided(qlonglong id, lidistill::pairs::Verdict verdict);
    /// A store opened: `file`, with `pairs` pairs.
    void storeOpened(const QString& file, int pairs);
    void errorOccurred(const QString& message);

private:
    struct UndoStep {
        long long id;
        pairs::Verdict before;
    };

    void buildActions();
    QWidget* buildSidebar();
    QWidget* buildViews();
    void showCurrent();
    void updateLabels();
    void updateCaptions();
    /// Records `verdict` for `id` and refreshes its row. @return false on a store error.
    bool record(long long id, pairs::Verdict verdict);
    std::optional<long long> pendingNeighbour(long long from, int direction) const;
    std::optional<pairs::Pair> currentPairData() const;
    /// The map for `sequence`, null when there is none yet (a build may be started; a map
    /// `pairs make` left for `modelHash` is preferred to the user cache).
    std::shared_ptr<const map::StaticMap> mapFor(const QString& sequence,
                                                 const std::string& modelHash);
    bool sessionHasSequence(const QString& sequence) const;
    /// Whether the studio session's map is being built or about to be announced.
    bool sessionMapComing() const;
    void startLoad(const pairs::Pair& pair);
    void onLoaded();
    void onMapBuilt();
    void fail(const QString& message);

    SequenceSession* m_session;
    std::unique_ptr<pairs::PairStore> m_store;
    PairListModel* m_model;
    PairFilterModel* m_filter;
    QTableView* m_table = nullptr;
    QComboBox* m_filterBox = nullptr;
    QLabel* m_storeLabel = nullptr;
    QLabel* m_progressLabel = nullptr;
    QLabel* m_agreementLabel = nullptr;
    QLabel* m_verdictLabel = nullptr;
    QLabel* m_lastLabel = nullptr;
    QCheckBox* m_advance = nullptr;
    MakePairsForm* m_make = nullptr;
    QWidget* m_viewsWidget = nullptr;
    std::array<PointCloudView*, 4> m_views{};  // left, right, ground truth, scan
    QList<QAction*> m_keyActions;
    QAction* m_revealAction = nullptr;
    QString m_who;
    QTimer* m_poll = nullptr;
    long long m_seenPairs = -1, m_seenDecisions = -1;
    QStringList m_captions;
    long long m_current = -1;
    int m_token = 0;  // bumped whenever another pair goes on screen: drops stale loads
    bool m_currentHasGroundTruth = false;
    bool m_sessionMapFailed = false;  // the open sequence's map build failed
    std::vector<UndoStep> m_undo;
    QHash<QString, std::shared_ptr<const map::StaticMap>> m_maps;  // sequence -> map
    QHash<QString, QString> m_mapErrors;                           // sequence -> why none
    QSet<QString> m_reported;  // scan errors already reported (once each)
    QString m_mapBuilding;     // the sequence m_mapWatcher builds for
    QFutureWatcher<LoadedPair> m_load;
    QFutureWatcher<MapResult> m_mapWatcher;
};

}  // namespace lidistill::ui
