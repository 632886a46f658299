// SPDX-License-Identifier: MIT
#include "ui/models/PairListModel.h"

namespace lidistill::ui {

using pairs::Verdict;

namespace {

bool isAb(Verdict v) {
    return v == Verdict::A || v == Verdict::B;
}

QString sideName(Side side) {
    return side == Side::Left ? QObject::tr("left") : QObject::tr("right");
}

/// "left (A)", "tie", ...: what a person decided, in the words of the screen.
QString statusText(const pairs::Pair& p) {
    switch (p.human) {
        case Verdict::None:
            return QObject::tr("pending");
        case Verdict::A:
        case Verdict::B:
            return QStringLiteral("%1 (%2)").arg(
                sideName(*sideOf(p, p.human)),
                p.human == Verdict::A ? QStringLiteral("A") : QStringLiteral("B"));
        case Verdict::Tie:
            return QObject::tr("tie");
        case Verdict::Skip:
            return QObject::tr("skip");
    }
    return {};
}

double cdOn(const pairs::Pair& p, Side side) {
    return candidateOn(p, side) == Verdict::A ? p.a.cd : p.b.cd;
}

}  // namespace

Verdict candidateOn(const pairs::Pair& pair, Side side) {
    const bool aLeft = pair.aShownLeft;
    return (side == Side::Left) == aLeft ? Verdict::A : Verdict::B;
}

std::optional<Side> sideOf(const pairs::Pair& pair, Verdict verdict) {
    if (!isAb(verdict)) return std::nullopt;
    return candidateOn(pair, Side::Left) == verdict ? Side::Left : Side::Right;
}

std::optional<bool> agreesWithMetric(const pairs::Pair& pair) {
    if (!isAb(pair.human) || !isAb(pair.automatic)) return std::nullopt;
    return pair.human == pair.automatic;
}

bool passesFilter(const pairs::Pair& p, pairs::Filter filter) {
    switch (filter) {
        case pairs::Filter::All:
            return true;
        case pairs::Filter::Pending:
            return p.human == Verdict::None;
        case pairs::Filter::Decided:
            return p.human != Verdict::None;
        case pairs::Filter::Agreeing:
            return agreesWithMetric(p) == true;
        case pairs::Filter::Overridden:
            return agreesWithMetric(p) == false;
    }
    return true;
}

PairListModel::PairListModel(QObject* parent) : QAbstractTableModel(parent) {}

void PairListModel::setPairs(std::vector<pairs::Pair> pairs) {
    bool prefix = pairs.size() >= m_pairs.size();
    for (std::size_t i = 0; prefix && i < m_pairs.size(); ++i) {
        prefix = pairs[i].id == m_pairs[i].id;
    }
    if (!prefix) {
        beginResetModel();
        m_pairs = std::move(pairs);
        endResetModel();
        return;
    }
    const std::size_t old = m_pairs.size();
    for (std::size_t i = 0; i < old; ++i) {
        const pairs::Pair& n = pairs[i];
        const pairs::Pair& o = m_pairs[i];
        const bool same = n.human == o.human && n.who == o.who && n.decidedAt == o.decidedAt;
        m_pairs[i] = n;
        if (!same) {
            const int row = static_cast<int>(i);
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
    if (pairs.size() > old) {
        beginInsertRows({}, static_cast<int>(old), static_cast<int>(pairs.size()) - 1);
        m_pairs.insert(m_pairs.end(), std::make_move_iterator(pairs.begin() + old),
                       std::make_move_iterator(pairs.end()));
        endInsertRows();
    }
}

bool PairListModel::updatePair(const pairs::Pair& pair) {
    const int row = rowOf(pair.id);
    if (row < 0) return false;
    m_pairs[static_cast<std::size_t>(row)] = pair;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    return true;
}

void PairListModel::clear() {
    beginResetModel();
    m_pairs.clear();
    endResetModel();
}

int PairListModel::rowOf(long long id) const {
    // Ids ascend: a binary search.
    const auto it = std::lower_bound(m_pairs.begin(), m_pairs.end(), id,
                                     [](const pairs::Pair& p, long long v) { return p.id < v; });
    return it != m_pairs.end() && it->id == id ? static_cast<int>(it - m_pairs.begin()) : -1;
}

void PairListModel::setRevealed(bool revealed) {
    if (revealed == m_revealed) return;
    m_revealed = revealed;
    if (!m_pairs.empty()) {
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    }
}

bool PairListModel::isBlind(int row) const {
    return !m_revealed && pairAt(row).human == Verdict::None;
}

int PairListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_pairs.size());
}

int PairListModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PairListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const pairs::Pair& p = pairAt(index.row());
    const bool blind = isBlind(index.row());
    const int column = index.column();
    switch (role) {
        case PairIdRole:
            return QVariant::fromValue<qlonglong>(p.id);
        case PendingRole:
            return p.human == Verdict::None;
        case SortRole:
            switch (column) {
                case IdColumn:
                    return QVariant::fromValue<qlonglong>(p.id);
                case FrameColumn:
                    return QString::fromStdString(p.recipe.frame);
                case StatusColumn:
                    return static_cast<int>(p.human);
                case AgreementColumn: {
                    const auto agrees = agreesWithMetric(p);
                    return agrees ? (*agrees ? 1 : 0) : -1;
                }
                case MarginColumn:
                    return p.margin;
                case CdLeftColumn:
                    return blind ? 0.0 : cdOn(p, Side::Left);
                case CdRightColumn:
                    return blind ? 0.0 : cdOn(p, Side::Right);
                default:
                    return {};
            }
        case Qt::DisplayRole:
            switch (column) {
                case IdColumn:
                    return QVariant::fromValue<qlonglong>(p.id);
                case FrameColumn:
                    return QString::fromStdString(p.recipe.frame);
                case StatusColumn:
                    return statusText(p);
                case AgreementColumn: {
                    const auto agrees = agreesWithMetric(p);
                    if (!agrees) return QString();
                    return *agrees ? tr("agrees") : tr("overrides");
                }
                case MarginColumn:
                    return blind ? QString() : QString::number(p.margin, 'f', 4);
                case CdLeftColumn:
                    return blind ? QString() : QString::number(cdOn(p, Side::Left), 'f', 4);
                case CdRightColumn:
                    return blind ? QString() : QString::number(cdOn(p, Side::Right), 'f', 4);
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            if (blind && column >= MarginColumn) {
                return tr("Hidden until you decide (V shows the metric before)");
            }
            if (column == StatusColumn && p.human != Verdict::None) {
                return tr("Decided by %1 at %2")
                    .arg(QString::fromStdString(p.who), QString::fromStdString(p.decidedAt));
            }
            if (column == FrameColumn) return QString::fromStdString(p.recipe.sequence);
            return {};
        case Qt::TextAlignmentRole:
            return column == IdColumn || column >= MarginColumn
                       ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                       : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        default:
            return {};
    }
}

QVariant PairListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case IdColumn:
                return tr("Id");
            case FrameColumn:
                return tr("Frame");
            case StatusColumn:
                return tr("Status");
            case AgreementColumn:
                return tr("Metric");
            case MarginColumn:
                return tr("Margin");
            case CdLeftColumn:
                return tr("CD left");
            case CdRightColumn:
                return tr("CD right");
            default:
                return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
            case AgreementColumn:
                return tr("Whether your A/B verdict agrees with the metric's");
            case MarginColumn:
                return tr(
                    "|score A - score B| in the unit of the pair's metric: how sure the "
                    "metric is");
            case CdLeftColumn:
            case CdRightColumn:
                return tr(
                    "Chamfer distance of the candidate on that side to the frame's ground "
                    "truth, m");
            default:
                return {};
        }
    }
    return {};
}

PairFilterModel::PairFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(PairListModel::SortRole);
    setDynamicSortFilter(true);
}

void PairFilterModel::setPairFilter(pairs::Filter filter) {
    if (filter == m_filter) return;
    m_filter = filter;
    invalidateFilter();
}

bool PairFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const auto* model = qobject_cast<const PairListModel*>(sourceModel());
    if (!model || sourceParent.isValid()) return true;
    return passesFilter(model->pairAt(sourceRow), m_filter);
}

}  // namespace lidistill::ui
