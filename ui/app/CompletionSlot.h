#pragma once
// SPDX-License-Identifier: MIT

#include "ui/workers/CliProcess.h"
#include "ui/workers/WorkerClient.h"

#include <QElapsedTimer>
#include <QGroupBox>
#include <QString>
#include <QStringList>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QWidget;

namespace lidistill::ui {

/// Which model of the pair a slot runs.
enum class CompletionRole { Teacher = 0, Student = 1 };

/// "Teacher" or "Student" (translated).
QString roleName(CompletionRole role);

/// The options of one `lidistill complete` run.
struct CompletionSettings {
    QString model;  ///< model file
    /// A separate refiner file (LiDiff publishes refine_net.ckpt apart); empty: the model's.
    QString refiner;
    int steps = 0;          ///< --steps; 0: the model file's sampling
    double guidance = -1;   ///< --guidance; negative: the model file's sampling
    qint64 seed = 0;
    /// "auto" (CUDA when lidistill has a CUDA device, else the CPU), "cpu" or "cuda".
    QString device = QStringLiteral("auto");
    int points = 0;      ///< farthest point samples (--points); 0: the model's scale
    int tile = 0;        ///< copies in x_init (--tile); 0: the model's scale
    bool refine = true;  ///< false adds --no-refine

    /// The shipped lite model of that role (resources/models) when there is one, sampled as
    /// its file says (a LiDiff teacher 50 steps, w 6; a distilled student 8 steps, w 3.5; the
    /// shipped files w 2, chosen on validation frames).
    static CompletionSettings defaults(CompletionRole role);
};

/// The options of `settings` as `lidistill complete` takes them after OUT ("--steps N
/// --guidance W --seed S ... --device D [--no-refine]"; unset ones left out): what a worker job
/// gets.
QStringList completionOptions(const CompletionSettings& settings);

/// The `lidistill` arguments that complete `scan` into `out` with `settings`: "complete MODEL
/// SCAN OUT --force --steps N --guidance W --seed S --points N --tile K --device D
/// [--no-refine]" (steps, guidance, points and tile only when set: else the model's).
/// `settings.device` must be resolved ("cpu", "cuda"); "auto" is the slot's business.
/// A nuScenes sweep (.pcd.bin) gets "--nuscenes-axes kitti|stored" so the result comes back in
/// the axes the studio shows the scan in.
QStringList completionArguments(const CompletionSettings& settings, const QString& scan,
                                const QString& out, bool nuscenesKittiAxes = true);

/// One model of the completion panel: a model file chooser, steps, guidance, seed and device
/// (points, tile and refinement under "Advanced"), a Run/Stop button and a progress bar. It
/// completes the frame given by setFrame() in its own `lidistill worker` (WorkerClient: the
/// model stays loaded from one run to the next; the scan goes to the worker and the clouds come
/// back in its messages) and writes the result to `<output folder>/<frame>_<role>.bin`; the run
/// belongs to the frame it started on, even if another frame is shown before it ends. Device
/// "auto" tries CUDA first; when the worker answers "no_device" (a CPU build, or no GPU) the
/// run goes on on the CPU at once, and later "auto" runs of that program start there. GUI
/// thread only.
class CompletionSlot : public QGroupBox {
    Q_OBJECT

public:
    explicit CompletionSlot(CompletionRole role, QWidget* parent = nullptr);
    ~CompletionSlot() override;

    CompletionRole role() const noexcept { return m_role; }
    /// The options as the widgets say.
    CompletionSettings settings() const;
    /// Puts `settings` into the widgets.
    void setSettings(const CompletionSettings& settings);
    /// The frame a Run completes: its index, a name for the output file and the scan file.
    /// An empty scan file disables Run (nothing is open). A running job is not affected.
    void setFrame(int index, const QString& name, const QString& scanFile);
    /// Whether nuScenes sweeps are shown (and so completed) in KITTI axes.
    void setNuscenesKittiAxes(bool on) { m_nuscenesKittiAxes = on; }
    /// Where outputs go (the panel's per-session temporary folder).
    void setOutputFolder(const QString& folder) { m_outputFolder = folder; }
    /// The output file a run on frame `name` writes.
    QString outputFile(const QString& name) const;
    bool isRunning() const { return !m_job.isEmpty(); }
    /// The frame of the current (or last) run.
    int runFrame() const noexcept { return m_runFrame; }
    WorkerClient* worker() const noexcept { return m_worker; }

    QLineEdit* modelEdit() const noexcept { return m_model; }
    QPushButton* runButton() const noexcept { return m_run; }
    QProgressBar* progressBar() const noexcept { return m_progress; }
    /// The device of the current (or last) run: "cpu" or "cuda" ("auto" resolved).
    const QString& runDevice() const noexcept { return m_runDevice; }
    /// The last outcome in words ("Wrote ... in 3.2 s on the CPU", "Failed: ...",
    /// "Cancelled.").
    QString statusText() const;

public Q_SLOTS:
    /// Starts a completion of the current frame. @return false (and says why in the status
    /// line) when no model is chosen, nothing is open, or a run is going on.
    bool run();
    /// Cancels the running completion (no output is written).
    void stop();

Q_SIGNALS:
    /// A run for frame `frame` wrote `file` (wall time `seconds`, model load included).
    void completed(int frame, const QString& file, double seconds);
    /// A run failed (not cancelled) with the CLI's message.
    void failed(const QString& message);
    /// A run started or ended (the Run/Stop button changed).
    void runningChanged(bool running);

private:
    void onFinished(const QString& job, CliOutcome outcome, const QString& message,
                    const QString& code, const std::optional<events::Event>& result);
    void updateEnabled();
    void startRun();

    CompletionRole m_role;
    WorkerClient* m_worker;
    QString m_job;  // the running job, empty when idle
    QLineEdit* m_model;
    QLineEdit* m_refiner;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_guidance;
    QSpinBox* m_seed;
    QComboBox* m_device;
    QWidget* m_advanced;
    QSpinBox* m_points;
    QSpinBox* m_tile;
    QCheckBox* m_refine;
    QPushButton* m_run;
    QProgressBar* m_progress;
    QLabel* m_status;
    QString m_outputFolder;
    int m_frame = -1;
    QString m_frameName;
    QString m_scanFile;
    int m_runFrame = -1;
    QString m_runOutput;
    QString m_runScan;
    bool m_nuscenesKittiAxes = true;
    CompletionSettings m_runSettings;
    QString m_runDevice;
    bool m_autoDevice = false;  // the run tries CUDA for "auto": may fall back to the CPU
    QElapsedTimer m_clock;
};

}  // namespace lidistill::ui
