// SPDX-License-Identifier: MIT
#include "ui/models/FrameListModel.h"

namespace lidistill::ui {

FrameListModel::FrameListModel(QObject* parent) : QAbstractListModel(parent) {}

void FrameListModel::setSequence(std::shared_ptr<const Sequence> sequence) {
    beginResetModel();
    m_sequence = std::move(sequence);
    m_singleFile.clear();
    endResetModel();
}

void FrameListModel::setSingleFile(const std::filesystem::path& file) {
    beginResetModel();
    m_sequence.reset();
    m_singleFile = file;
    endResetModel();
}

int FrameListModel::rowCount(const QModelIndex& parent) const {
    // A list: only the invisible root has children.
    if (parent.isValid()) {
        return 0;
    }
    if (!m_singleFile.empty()) {
        return 1;
    }
    return m_sequence ? static_cast<int>(m_sequence->size()) : 0;
}

QVariant FrameListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    if (!m_singleFile.empty()) {
        switch (role) {
            case Qt::DisplayRole:
                return QString::fromStdString(m_singleFile.filename().string());
            case Qt::ToolTipRole:
            case ScanPathRole:
                return QString::fromStdString(m_singleFile.string());
            case LabelPathRole:
                return QString();
            case IndexRole:
                return index.row();
            default:
                return {};
        }
    }
    if (!m_sequence) {
        return {};
    }
    const auto i = static_cast<std::size_t>(index.row());
    switch (role) {
        case Qt::DisplayRole:
            return QString::fromStdString(m_sequence->frameName(i));
        case Qt::ToolTipRole:
        case ScanPathRole:
            return QString::fromStdString(m_sequence->scanFile(i).string());
        case LabelPathRole: {
            const auto label = m_sequence->labelFile(i);
            return label ? QString::fromStdString(label->string()) : QString();
        }
        case TimeRole: {
            const auto t = m_sequence->time(i);
            return t ? QVariant(*t) : QVariant();
        }
        case IndexRole:
            return index.row();
        default:
            return {};
    }
}

QVariant FrameListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (section == 0 && orientation == Qt::Horizontal && role == Qt::DisplayRole) {
        return tr("Frame");
    }
    return {};
}

QHash<int, QByteArray> FrameListModel::roleNames() const {
    auto names = QAbstractListModel::roleNames();
    names.insert(ScanPathRole, "scanPath");
    names.insert(LabelPathRole, "labelPath");
    names.insert(TimeRole, "time");
    names.insert(IndexRole, "frameIndex");
    return names;
}

}  // namespace lidistill::ui
