#pragma once
// SPDX-License-Identifier: MIT

#include "ui/workers/CliProcess.h"
#include "ui/workers/PairMaking.h"
#include "ui/workers/WorkerClient.h"

#include <QGroupBox>
#include <QString>
#include <QStringList>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace lidistill::ui {

/// "pairs make MODEL SEQ STORE --frames A:B --lambda L --device D [--steps N] [--points N]"
/// (unset options left out: the model's): the form's run as a command line, for a GPU server.
QStringList makePairsArguments(const MakePairsSettings& settings);

/// Parses "A:B" (frames A .. B-1 of a sequence of `frameCount` frames) into first / last.
/// @return false, leaving them alone, for other text or a range outside 0..frameCount.
bool parseFrameRange(const QString& text, int frameCount, int& first, int& last);

/// The workspace's "Make pairs" form: model file, frames A:B of the open sequence, steps,
/// lambda, points and device, a Start / Cancel button and a progress bar. Start makes the pairs
/// through the form's own persistent `lidistill worker` (PairMaking: the model stays loaded
/// between runs, the worker may run on another machine through a command prefix), as
/// `lidistill pairs make` would make them; each pair is announced as it is stored
/// (pairStored()). Cancel stops after the frame in hand; the pairs stored stay. A worker that
/// dies fails the run, saying so, and the next Start starts a new one. GUI thread only.
class MakePairsForm : public QGroupBox {
    Q_OBJECT

public:
    explicit MakePairsForm(QWidget* parent = nullptr);

    /// The sequence pairs are made from (the one the studio has open); empty disables Start.
    void setSequence(const QString& dir, int frameCount);
    /// The store pairs go to (the workspace's); empty disables Start.
    void setStore(const QString& file);
    /// The options as the widgets say (sequence and store as set).
    MakePairsSettings settings() const;
    /// Puts `settings`' model, frames, steps, lambda, points and device into the widgets.
    void setSettings(const MakePairsSettings& settings);

    /// The worker the pairs are completed in (setProgram, setCommandPrefix).
    WorkerClient* worker() const noexcept { return m_worker; }
    bool isRunning() const { return m_making->isRunning(); }
    QPushButton* startButton() const noexcept { return m_start; }
    QProgressBar* progressBar() const noexcept { return m_progress; }
    QLineEdit* framesEdit() const noexcept { return m_frames; }
    /// The last outcome in words ("Made 3 pairs.", "Failed: ...", "Cancelled: 2 pairs kept.").
    QString statusText() const;

public Q_SLOTS:
    /// Starts the run. @return false (the status line says why) without a model, a sequence
    /// or a store, with a bad frame range, or while a run goes on.
    bool start();
    /// Cancels the run (pairs already stored stay).
    void cancel();

Q_SIGNALS:
    /// Pair `id` has just been stored by the running program.
    void pairStored(qlonglong id);
    void runningChanged(bool running);
    /// The run ended (message: empty on success, the error, or "cancelled").
    void finished(lidistill::ui::CliOutcome outcome, const QString& message);

private:
    void onFinished(CliOutcome outcome, const QString& message, int made, int kept);
    void updateEnabled();

    WorkerClient* m_worker;
    PairMaking* m_making;
    QLineEdit* m_model;
    QLineEdit* m_frames;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_lambda;
    QSpinBox* m_points;
    QComboBox* m_device;
    QPushButton* m_start;
    QProgressBar* m_progress;
    QLabel* m_status;
    QString m_sequence;
    QString m_store;
    int m_frameCount = 0;
    int m_stored = 0;  // pairs stored by the current (or last) run
};

}  // namespace lidistill::ui
