#pragma once
// SPDX-License-Identifier: MIT

#include "core/pairs/PairStore.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <optional>
#include <vector>

namespace lidistill::ui {

/// Which side of the screen a candidate is on.
enum class Side { Left, Right };

/// The candidate shown on `side`: A on the left when Pair::aShownLeft, else B.
pairs::Verdict candidateOn(const pairs::Pair& pair, Side side);
/// The side candidate `verdict` (A or B) is shown on; nothing for tie, skip and none.
std::optional<Side> sideOf(const pairs::Pair& pair, pairs::Verdict verdict);
/// Whether a person's verdict on `pair` and the metric's are both A/B and the same (true),
/// both A/B and different (false), or not comparable (nothing: pending, tie, skip).
std::optional<bool> agreesWithMetric(const pairs::Pair& pair);

/// The pairs of a store (PairStore::list()) as a table: one row a pair, in id order.
///
/// Blind comparison: a pending pair's margin and candidate metric values are left blank
/// (DisplayRole empty, a tooltip says why) unless setRevealed(true); a decided pair shows
/// them, with the sides in screen order (CD left / right follow Pair::aShownLeft). The
/// model never tells from a blank cell which side the metric prefers. SortRole holds numbers
/// for every column (the margin even when blind: its size says nothing about the side).
/// GUI thread only.
class PairListModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        IdColumn,         ///< the pair's id in the store
        FrameColumn,      ///< the frame name
        StatusColumn,     ///< pending, left (A), right (B), tie, skip
        AgreementColumn,  ///< agrees / overrides, for A/B decisions
        MarginColumn,     ///< |score A - score B| in the metric's unit
        CdLeftColumn,     ///< Chamfer distance of the left candidate, m
        CdRightColumn,    ///< of the right one
        ColumnCount
    };
    enum Role {
        PairIdRole = Qt::UserRole + 1,  ///< qlonglong, every column
        SortRole,                       ///< a number (or the frame name) to sort by
        PendingRole,                    ///< bool: no human verdict yet
    };

    explicit PairListModel(QObject* parent = nullptr);

    /// Shows `pairs` (ids ascending, as PairStore::list() returns them). When the shown ids
    /// are a prefix of the new ones (a store only grows), rows are updated and appended in
    /// place, so views keep their selection; otherwise the model is reset.
    void setPairs(std::vector<pairs::Pair> pairs);
    /// Replaces the row of `pair.id` (after a decision). @return false if it is not listed.
    bool updatePair(const pairs::Pair& pair);
    /// Empties the list (model reset).
    void clear();

    const std::vector<pairs::Pair>& pairs() const noexcept { return m_pairs; }
    const pairs::Pair& pairAt(int row) const { return m_pairs.at(static_cast<std::size_t>(row)); }
    /// The row of pair `id`, or -1.
    int rowOf(long long id) const;

    /// Shows the metric's values of pending pairs too (the workspace's reveal toggle).
    void setRevealed(bool revealed);
    bool revealed() const noexcept { return m_revealed; }
    /// Whether row `row`'s metric values are hidden (pending and not revealed).
    bool isBlind(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    std::vector<pairs::Pair> m_pairs;
    bool m_revealed = false;
};

/// Filters a PairListModel as `lidistill pairs list` does (pending, decided, agreeing,
/// overridden) and sorts numerically (SortRole): by margin, by id, by CD. GUI thread only.
class PairFilterModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit PairFilterModel(QObject* parent = nullptr);

    void setPairFilter(pairs::Filter filter);
    pairs::Filter pairFilter() const noexcept { return m_filter; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    pairs::Filter m_filter = pairs::Filter::All;
};

/// Whether `pair` passes `filter` (the rule of PairStore::list()).
bool passesFilter(const pairs::Pair& pair, pairs::Filter filter);

}  // namespace lidistill::ui
