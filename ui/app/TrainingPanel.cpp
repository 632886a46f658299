// SPDX-License-Identifier: MIT
#include "ui/app/TrainingPanel.h"

#include "core/base/RunFolder.h"

#include "ui/app/SequenceSession.h"
#include "ui/app/TrainingCharts.h"
#include "ui/models/MetricsLog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace lidistill::ui {

namespace {
// A line edit with a "..." button that opens a file or folder dialog.
QWidget* withBrowse(QLineEdit* edit, bool folder, const QString& caption) {
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(edit, 1);
    auto* browse = new QToolButton;
    browse->setText(QStringLiteral("..."));
    h->addWidget(browse);
    QObject::connect(browse, &QToolButton::clicked, edit, [edit, folder, caption] {
        const QString chosen =
            folder ? QFileDialog::getExistingDirectory(edit, caption, edit->text())
                   : QFileDialog::getOpenFileName(edit, caption, edit->text(),
                                                  QObject::tr("Models (*.safetensors);;All (*)"));
        if (!chosen.isEmpty()) {
            edit->setText(chosen);
            Q_EMIT edit->textEdited(chosen);
        }
    });
    return row;
}

QSpinBox* spin(int min, int max, int value, const QString& special = {}) {
    auto* s = new QSpinBox;
    s->setRange(min, max);
    s->setValue(value);
    if (!special.isEmpty()) s->setSpecialValueText(special);
    return s;
}
}  // namespace

TrainingPanel::TrainingPanel(SequenceSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_run(new TrainingRun(this)),
      m_charts(new TrainingCharts(this)),
      m_teacher(new QLineEdit),
      m_sequence(new QLineEdit),
      m_outDir(new QLineEdit),
      m_steps(spin(1, 10'000'000, 1000)),
      m_lr(new QDoubleSpinBox),
      m_lambda(new QDoubleSpinBox),
      m_objective(new QComboBox),
      m_device(new QComboBox),
      m_seed(spin(0, 2'000'000'000, 0)),
      m_checkpointEvery(spin(0, 10'000'000, 0, tr("default"))),
      m_validateEvery(spin(0, 10'000'000, 0, tr("off"))),
      m_validationFrame(spin(0, 10'000'000, 0)),
      m_frames(new QLineEdit),
      m_points(spin(0, 10'000'000, 0, tr("default"))),
      m_fullPoints(spin(0, 100'000'000, 0, tr("default"))),
      m_tile(spin(0, 1000, 0, tr("default"))),
      m_augment(new QCheckBox(tr("Augment (random rotation, flip, scale)"))),
      m_start(new QPushButton(tr("Start"))),
      m_stop(new QPushButton(tr("Stop"))),
      m_resume(new QPushButton(tr("Resume"))),
      m_open(new QPushButton(tr("Open run folder..."))),
      m_useStudent(new QPushButton(tr("Use the latest student for completion"))),
      m_status(new QLabel),
      m_statusTimer(new QTimer(this)) {
    m_lr->setDecimals(8);
    m_lr->setRange(1e-8, 1.0);
    m_lr->setSingleStep(1e-5);
    m_lr->setValue(1e-5);
    m_lambda->setDecimals(3);
    m_lambda->setRange(0.001, 10.0);
    m_lambda->setSingleStep(0.05);
    m_lambda->setValue(1.1);
    m_objective->addItem(tr("linear (intended)"), QStringLiteral("linear"));
    m_objective->addItem(tr("released (ablation)"), QStringLiteral("released"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_device->addItem(tr("CUDA"), QStringLiteral("cuda"));
    m_frames->setPlaceholderText(tr("all (or A:B)"));
    m_outDir->setPlaceholderText(tr("a new folder in the studio's data folder"));
    m_teacher->setPlaceholderText(tr("teacher model (.safetensors)"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout;
    form->addRow(tr("Teacher"), withBrowse(m_teacher, false, tr("Teacher model")));
    form->addRow(tr("Sequence"), withBrowse(m_sequence, true, tr("Sequence folder")));
    form->addRow(tr("Output folder"), withBrowse(m_outDir, true, tr("Run folder")));
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Learning rate"), m_lr);
    form->addRow(tr("Lambda (loser noise)"), m_lambda);
    form->addRow(tr("Objective"), m_objective);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Checkpoint every"), m_checkpointEvery);
    form->addRow(tr("Validate every"), m_validateEvery);
    form->addRow(tr("Validation frame"), m_validationFrame);

    auto* sampling = new QGroupBox(tr("Sampling"));
    auto* sform = new QFormLayout(sampling);
    sform->addRow(tr("Frames"), m_frames);
    sform->addRow(tr("Scan points"), m_points);
    sform->addRow(tr("Ground-truth points"), m_fullPoints);
    sform->addRow(tr("Tile"), m_tile);
    sform->addRow(m_augment);

    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {m_start, m_stop, m_resume}) buttons->addWidget(b);
    auto* more = new QHBoxLayout;
    more->addWidget(m_open);
    more->addWidget(m_useStudent);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(sampling);
    layout->addLayout(buttons);
    layout->addLayout(more);
    layout->addWidget(m_status);
    // The plots' own controls: runs to compare, smoothing, the x axis.
    auto* plotRow = new QHBoxLayout;
    auto* compare = new QPushButton(tr("Compare run..."));
    compare->setToolTip(tr("Overlay another run folder's curves (followed live)"));
    auto* clear = new QPushButton(tr("Clear compared"));
    auto* smoothing = new QSlider(Qt::Horizontal);
    smoothing->setRange(0, 99);
    smoothing->setToolTip(tr("EMA smoothing as TensorBoard does it (the raw curve stays faint)"));
    auto* smoothLabel = new QLabel(tr("smoothing 0.00"));
    auto* axis = new QComboBox;
    axis->addItem(tr("x: step"));
    axis->addItem(tr("x: training time"));
    plotRow->addWidget(compare);
    plotRow->addWidget(clear);
    plotRow->addWidget(smoothLabel);
    plotRow->addWidget(smoothing, 1);
    plotRow->addWidget(axis);
    layout->addLayout(plotRow);
    layout->addWidget(m_charts, 1);
    connect(compare, &QPushButton::clicked, this, [this] { compareRun(); });
    connect(clear, &QPushButton::clicked, this, &TrainingPanel::clearComparedRuns);
    connect(smoothing, &QSlider::valueChanged, this, [this, smoothLabel](int v) {
        m_charts->setSmoothing(v / 100.0);
        smoothLabel->setText(tr("smoothing %1").arg(v / 100.0, 0, 'f', 2));
    });
    connect(axis, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_charts->setAxis(i == 0 ? TrainingAxis::Step : TrainingAxis::WallTime);
    });

    m_start->setToolTip(tr("A fresh run: the output folder's metrics are replaced"));
    m_resume->setToolTip(tr("Continue the run in the output folder from its latest student"));
    m_stop->setToolTip(tr("Stop after the current step and save the student (again: at once)"));
    connect(m_start, &QPushButton::clicked, this, &TrainingPanel::start);
    connect(m_resume, &QPushButton::clicked, this, &TrainingPanel::resume);
    connect(m_stop, &QPushButton::clicked, this, &TrainingPanel::stop);
    connect(m_open, &QPushButton::clicked, this, [this] { openRunFolder(); });
    connect(m_useStudent, &QPushButton::clicked, this, [this] {
        const QString file = m_run->latestStudent();
        if (!file.isEmpty()) Q_EMIT studentChosen(file);
    });
    connect(m_sequence, &QLineEdit::textEdited, this, [this] { m_defaultSequence.clear(); });
    connect(m_run, &TrainingRun::stateChanged, this, &TrainingPanel::onStateChanged);
    connect(m_run->metrics(), &MetricsLog::appended, this, &TrainingPanel::updateStatus);
    connect(m_run->metrics(), &MetricsLog::cleared, this, &TrainingPanel::updateStatus);
    m_statusTimer->setInterval(1000);  // the progress stage of the map build, steps/s
    connect(m_statusTimer, &QTimer::timeout, this, &TrainingPanel::updateStatus);
    m_charts->setLog(m_run->metrics());

    if (m_session) {
        connect(m_session, &SequenceSession::opened, this, [this](const QString& dir) {
            if (m_sequence->text().isEmpty() || m_sequence->text() == m_defaultSequence) {
                m_sequence->setText(dir);
                m_defaultSequence = dir;
            }
        });
        if (const auto& seq = m_session->sequence()) {
            m_defaultSequence = QString::fromStdString(seq->dir().string());
            m_sequence->setText(m_defaultSequence);
        }
    }
    updateStatus();
    updateEnabled();
}

TrainingPanel::~TrainingPanel() {
    m_charts->setLog(nullptr);
    m_charts->clearComparedRuns();
}

bool TrainingPanel::compareRun(const QString& dir) {
    QString folder = dir;
    if (folder.isEmpty()) {
        folder = QFileDialog::getExistingDirectory(this, tr("Compare with a training run folder"),
                                                   m_outDir->text());
        if (folder.isEmpty()) return false;
    }
    const QString file =
        QString::fromStdString(run::Folder{folder.toStdString()}.metrics().string());
    if (!QFileInfo::exists(file)) {
        m_status->setText(tr("%1 holds no metrics.jsonl to compare").arg(folder));
        m_statusText = m_status->text();
        return false;
    }
    auto* log = new MetricsLog(this);
    log->follow(file);
    m_compared << log;
    m_charts->addRun(QFileInfo(QDir::cleanPath(folder)).fileName(), log);
    return true;
}

void TrainingPanel::clearComparedRuns() {
    m_charts->clearComparedRuns();
    qDeleteAll(m_compared);
    m_compared.clear();
}

TrainingSettings TrainingPanel::settings() const {
    TrainingSettings s;
    s.teacher = m_teacher->text().trimmed();
    s.sequence = m_sequence->text().trimmed();
    s.outDir = m_outDir->text().trimmed();
    s.steps = m_steps->value();
    s.lr = m_lr->value();
    s.lambda = m_lambda->value();
    s.objective = m_objective->currentData().toString();
    s.device = m_device->currentData().toString();
    s.seed = m_seed->value();
    s.checkpointEvery = m_checkpointEvery->value();
    s.validateEvery = m_validateEvery->value();
    s.validationFrame = m_validationFrame->value();
    s.frames = m_frames->text().trimmed();
    s.points = m_points->value();
    s.fullPoints = m_fullPoints->value();
    s.tile = m_tile->value();
    s.augment = m_augment->isChecked();
    return s;
}

void TrainingPanel::setSettings(const TrainingSettings& s) {
    m_teacher->setText(s.teacher);
    if (s.sequence != m_sequence->text()) m_defaultSequence.clear();
    m_sequence->setText(s.sequence);
    m_outDir->setText(s.outDir);
    m_steps->setValue(s.steps);
    m_lr->setValue(s.lr);
    m_lambda->setValue(s.lambda);
    m_objective->setCurrentIndex(std::max(0, m_objective->findData(s.objective)));
    m_device->setCurrentIndex(std::max(0, m_device->findData(s.device)));
    m_seed->setValue(static_cast<int>(s.seed));
    m_checkpointEvery->setValue(s.checkpointEvery);
    m_validateEvery->setValue(s.validateEvery);
    m_validationFrame->setValue(s.validationFrame);
    m_frames->setText(s.frames);
    m_points->setValue(s.points);
    m_fullPoints->setValue(s.fullPoints);
    m_tile->setValue(s.tile);
    m_augment->setChecked(s.augment);
}

void TrainingPanel::setProgram(const QString& program) {
    m_run->setProgram(program);
}

void TrainingPanel::setReuseQuestion(std::function<ReuseChoice(const QString& dir)> ask) {
    m_askReuse = std::move(ask);
}

bool TrainingPanel::start() {
    const QString out = m_outDir->text().trimmed();
    const bool holdsRun = !out.isEmpty() && run::Folder{out.toStdString()}.holdsRun();
    // A run going on there (or in this panel) is launch()'s to report: no question to ask.
    if (!holdsRun || m_run->isRunning() ||
        TrainingRun::findTrainProcess(QDir::cleanPath(QFileInfo(out).absoluteFilePath())) != 0) {
        return launch(false);
    }
    ReuseChoice choice = ReuseChoice::Cancel;
    if (m_askReuse) {
        choice = m_askReuse(out);
    } else {
        QMessageBox box(QMessageBox::Question, tr("The folder holds a run"),
                        tr("%1 already holds a training run.\n\nStart over deletes its log and "
                           "checkpoints; Resume continues it.")
                            .arg(out),
                        QMessageBox::Cancel, this);
        QPushButton* over = box.addButton(tr("Start over"), QMessageBox::DestructiveRole);
        QPushButton* cont = box.addButton(tr("Resume"), QMessageBox::AcceptRole);
        box.setDefaultButton(QMessageBox::Cancel);
        box.exec();
        if (box.clickedButton() == over) choice = ReuseChoice::StartOver;
        if (box.clickedButton() == cont) choice = ReuseChoice::Resume;
    }
    switch (choice) {
        case ReuseChoice::Resume:
            return launch(true);
        case ReuseChoice::StartOver:
            return launch(false, true);
        case ReuseChoice::Cancel:
            break;
    }
    m_status->setText(tr("Not started: %1 holds a run").arg(out));
    m_statusText = m_status->text();
    return false;
}

bool TrainingPanel::resume() {
    return launch(true);
}

bool TrainingPanel::launch(bool resume, bool force) {
    TrainingSettings s = settings();
    QString problem;
    if (m_run->isRunning()) {
        problem = tr("a run is going on: stop it first");
    } else if (s.teacher.isEmpty()) {
        problem = tr("choose a teacher model");
    } else if (s.sequence.isEmpty()) {
        problem = tr("choose a sequence folder (or open one)");
    } else if (resume && (s.outDir.isEmpty() || !QFileInfo(s.outDir).isDir())) {
        problem = tr("choose the folder of the run to resume");
    } else if (!s.outDir.isEmpty() && TrainingRun::findTrainProcess(QDir::cleanPath(
                                          QFileInfo(s.outDir).absoluteFilePath())) != 0) {
        // Two runs writing one folder would mix their metrics and checkpoints.
        problem = tr("a run is already going on in %1 (Open run folder follows it)").arg(s.outDir);
    }
    if (!problem.isEmpty()) {
        m_status->setText(tr("Cannot %1: %2").arg(resume ? tr("resume") : tr("start"), problem));
        m_statusText = m_status->text();
        return false;
    }
    if (s.outDir.isEmpty()) {
        s.outDir =
            QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
                .filePath(QStringLiteral("runs/run-") +
                          QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
        m_outDir->setText(s.outDir);
    }
    const bool ok = m_run->start(s, resume, force);
    if (ok) m_outDir->setText(m_run->outDir());
    updateStatus();
    updateEnabled();
    return ok;
}

void TrainingPanel::stop() {
    m_run->stop();
    updateStatus();
}

bool TrainingPanel::openRunFolder(const QString& dir) {
    QString folder = dir;
    if (folder.isEmpty()) {
        folder = QFileDialog::getExistingDirectory(this, tr("Open a training run folder"),
                                                   m_outDir->text());
        if (folder.isEmpty()) return false;
    }
    // A run being followed goes on in its own process; the panel just follows another one.
    if (!m_run->attach(folder)) {
        m_status->setText(m_run->message());
        m_statusText = m_status->text();
        Q_EMIT errorOccurred(m_run->message());
        return false;
    }
    loadRunJson(m_run->outDir());
    m_outDir->setText(m_run->outDir());
    updateStatus();
    updateEnabled();
    return true;
}

void TrainingPanel::loadRunJson(const QString& dir) {
    QFile f(QString::fromStdString(run::Folder{dir.toStdString()}.runJson().string()));
    if (!f.open(QIODevice::ReadOnly)) return;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    if (o.isEmpty()) return;
    TrainingSettings s = settings();
    auto str = [&o](const char* key, const QString& fallback) {
        const QJsonValue v = o.value(QLatin1String(key));
        return v.isString() ? v.toString() : fallback;
    };
    auto num = [&o](const char* key, double fallback) {
        const QJsonValue v = o.value(QLatin1String(key));
        return v.isDouble() ? v.toDouble() : fallback;
    };
    s.teacher = str("teacher", s.teacher);
    s.sequence = str("sequence", s.sequence);
    s.outDir = dir;
    s.steps = static_cast<int>(num("steps", s.steps));
    s.objective = str("objective", s.objective);
    s.lr = num("lr", s.lr);
    s.lambda = num("lambda", s.lambda);
    s.seed = static_cast<qint64>(num("seed", double(s.seed)));
    s.points = static_cast<int>(num("points", s.points));
    s.fullPoints = static_cast<int>(num("full_points", s.fullPoints));
    s.tile = static_cast<int>(num("tile", s.tile));
    if (o.value(QLatin1String("augment")).isBool()) s.augment = o.value("augment").toBool();
    // The device and the checkpoint / validation options are not in run.json: kept as shown.
    const QJsonArray frames = o.value(QLatin1String("frames")).toArray();
    if (frames.size() == 2) {
        s.frames = QStringLiteral("%1:%2").arg(frames[0].toInt()).arg(frames[1].toInt());
    }
    setSettings(s);
}

void TrainingPanel::onStateChanged(TrainingState state) {
    if (state == TrainingState::Failed)
        Q_EMIT errorOccurred(tr("Training failed: %1").arg(m_run->message()));
    updateStatus();
    updateEnabled();
}

void TrainingPanel::updateEnabled() {
    const bool running = m_run->isRunning();
    m_start->setEnabled(!running);
    m_resume->setEnabled(!running);
    m_stop->setEnabled(running);
    m_stop->setText(m_run->state() == TrainingState::Stopping ? tr("Kill") : tr("Stop"));
    m_useStudent->setEnabled(!m_run->latestStudent().isEmpty());
    if (running) {
        m_statusTimer->start();
    } else {
        m_statusTimer->stop();
    }
}

void TrainingPanel::updateStatus() {
    const TrainingState state = m_run->state();
    const MetricsLog* log = m_run->metrics();
    const int step = log->lastStep();
    const int total = m_run->totalSteps();
    QString text;
    const QString of =
        total > 0 ? tr("step %1 of %2").arg(step).arg(total) : tr("step %1").arg(step);
    switch (state) {
        case TrainingState::Idle:
            text = tr("No run. Start one, or open a run folder.");
            break;
        case TrainingState::Running:
        case TrainingState::Stopping: {
            text = QStringLiteral("%1: %2").arg(stateName(state), of);
            const double rate = log->stepsPerSecond();
            if (rate > 0) text += tr(", %1 steps/s").arg(rate, 0, 'g', 3);
            if (step == 0) {
                const QString stage = m_run->progressStage();
                if (!stage.isEmpty()) text += QStringLiteral(" (%1)").arg(stage);
            }
            break;
        }
        case TrainingState::Finished:
            text = tr("finished: %1").arg(of);
            break;
        case TrainingState::Stopped:
            text = tr("stopped: %1").arg(m_run->message().isEmpty() ? of : m_run->message());
            break;
        case TrainingState::Failed:
            text = tr("failed: %1").arg(m_run->message());
            if (const QString tail = m_run->logTail(8); !tail.isEmpty()) {
                text += QStringLiteral("\n") + tail;
            }
            break;
    }
    if (!log->validations().isEmpty()) {
        const auto& v = log->validations().constLast();
        text += tr("\nvalidation CD %1 m at step %2").arg(v.cd, 0, 'f', 4).arg(v.step);
    }
    m_statusText = text;
    m_status->setText(text);
    m_useStudent->setEnabled(!m_run->latestStudent().isEmpty());
}

QString TrainingPanel::statusText() const {
    return m_statusText;
}

}  // namespace lidistill::ui
