#pragma once
// SPDX-License-Identifier: MIT

#include "core/dataset/Sequence.h"

#include <QAbstractListModel>

#include <filesystem>
#include <memory>

namespace lidistill::ui {

/// The frames of a Sequence as a flat list: DisplayRole is the frame name ("000042"),
/// ToolTipRole the scan path, and the custom roles below expose the files and time.
/// Holds the Sequence through a shared pointer, so workers can keep reading it after the
/// model moves on to another one. GUI thread only (like any item model).
class FrameListModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Role {
        ScanPathRole = Qt::UserRole + 1,  ///< QString, the scan file
        LabelPathRole,                    ///< QString, the label file or empty
        TimeRole,                         ///< double seconds, or invalid without times.txt
        IndexRole,                        ///< int, the frame index in the sequence
    };

    explicit FrameListModel(QObject* parent = nullptr);

    /// Replaces the whole list (model reset). Null clears it.
    void setSequence(std::shared_ptr<const Sequence> sequence);
    /// Replaces the list with one file opened on its own (no labels, no time).
    void setSingleFile(const std::filesystem::path& file);
    const std::shared_ptr<const Sequence>& sequence() const noexcept { return m_sequence; }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    std::shared_ptr<const Sequence> m_sequence;
    std::filesystem::path m_singleFile;  // empty unless a single file is listed
};

}  // namespace lidistill::ui
