// SPDX-License-Identifier: MIT
#include "ui/app/CompletionSlot.h"

#include "core/base/Error.h"
#include "core/base/ShippedModels.h"
#include "core/io/CloudFile.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <limits>

namespace lidistill::ui {

namespace {
constexpr int kProgressMax = 1000;

/// `lidistill` programs that said they have no CUDA device: "auto" uses the CPU with them.
QSet<QString>& programsWithoutCuda() {
    static QSet<QString> programs;  // GUI thread only
    return programs;
}

QString deviceWords(const QString& device) {
    return device == QLatin1String("cpu") ? QObject::tr("on the CPU") : QObject::tr("on the GPU");
}
}  // namespace

QString roleName(CompletionRole role) {
    return role == CompletionRole::Teacher ? QObject::tr("Teacher") : QObject::tr("Student");
}

CompletionSettings CompletionSettings::defaults(CompletionRole role) {
    CompletionSettings s;  // steps and guidance: the model file's
    const auto shipped =
        shippedModel(role == CompletionRole::Teacher ? kShippedTeacher : kShippedStudent);
    if (!shipped.empty()) s.model = QString::fromStdString(shipped.string());
    return s;
}

QStringList completionOptions(const CompletionSettings& s) {
    QStringList args;
    if (s.steps > 0) args << QStringLiteral("--steps") << QString::number(s.steps);
    // 'g' with 17 digits: the CLI parses exactly the value the spin box shows.
    if (s.guidance >= 0) args << QStringLiteral("--guidance") << QString::number(s.guidance, 'g', 17);
    args << QStringLiteral("--seed") << QString::number(s.seed);
    if (s.points > 0) args << QStringLiteral("--points") << QString::number(s.points);
    if (s.tile > 0) args << QStringLiteral("--tile") << QString::number(s.tile);
    args << QStringLiteral("--device") << s.device;
    if (!s.refine) args << QStringLiteral("--no-refine");
    return args;
}

QStringList completionArguments(const CompletionSettings& s, const QString& scan,
                                const QString& out, bool nuscenesKittiAxes) {
    // The studio's own output folder: completing a frame again replaces its earlier result
    // (the CLI still never writes over an input).
    QStringList args{QStringLiteral("complete"), s.model, scan, out, QStringLiteral("--force")};
    args << completionOptions(s);
    if (!s.refiner.isEmpty()) args << QStringLiteral("--refiner") << s.refiner;
    if (scan.endsWith(QStringLiteral(".pcd.bin"), Qt::CaseInsensitive)) {
        args << QStringLiteral("--nuscenes-axes")
             << (nuscenesKittiAxes ? QStringLiteral("kitti") : QStringLiteral("stored"));
    }
    return args;
}

CompletionSlot::CompletionSlot(CompletionRole role, QWidget* parent)
    : QGroupBox(roleName(role), parent),
      m_role(role),
      m_worker(new WorkerClient(this)),
      m_model(new QLineEdit),
      m_refiner(new QLineEdit),
      m_steps(new QSpinBox),
      m_guidance(new QDoubleSpinBox),
      m_seed(new QSpinBox),
      m_device(new QComboBox),
      m_advanced(new QWidget),
      m_points(new QSpinBox),
      m_tile(new QSpinBox),
      m_refine(new QCheckBox(tr("Refine (6 points per point, when the model has a refiner)"))),
      m_run(new QPushButton(tr("Run"))),
      m_progress(new QProgressBar),
      m_status(new QLabel) {
    m_model->setPlaceholderText(tr("model file"));
    m_model->setToolTip(
        tr("%1 model file (lidistill model info FILE describes one)").arg(roleName(role)));
    auto* browse = new QToolButton;
    browse->setText(QStringLiteral("..."));
    browse->setToolTip(tr("Choose the model file"));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("%1 model").arg(roleName(m_role)),
                                                       QFileInfo(m_model->text()).path());
        if (!f.isEmpty()) m_model->setText(f);
    });
    connect(m_model, &QLineEdit::textChanged, this, &CompletionSlot::updateEnabled);
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(browse);

    // The lowest value of each box stands for "what the model file says".
    m_steps->setRange(0, 1000);
    m_steps->setSpecialValueText(tr("the model's"));
    m_steps->setToolTip(tr("Denoising steps (LiDiff 50, distilled students 1-8); lowest: the "
                           "model file's own"));
    m_guidance->setRange(-0.5, 100.0);
    m_guidance->setDecimals(2);
    m_guidance->setSingleStep(0.5);
    m_guidance->setSpecialValueText(tr("the model's"));
    m_guidance->setToolTip(tr("Classifier-free guidance weight w; lowest: the model file's own"));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setToolTip(tr("Noise seed: the same seed gives the same noise on every device"));
    m_device->addItem(tr("Auto (GPU if there is one)"), QStringLiteral("auto"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_device->addItem(tr("GPU (CUDA)"), QStringLiteral("cuda"));
    m_device->setToolTip(
        tr("Where lidistill runs the model; CUDA needs a CUDA build of "
           "lidistill and a GPU. Auto falls back to the CPU without them."));
    m_points->setRange(0, 1000000);
    m_points->setSpecialValueText(tr("the model's"));
    m_points->setToolTip(tr("Farthest point samples of the scan: the condition (--points)"));
    m_tile->setRange(0, 1000);
    m_tile->setSpecialValueText(tr("the model's"));
    m_tile->setToolTip(tr("Copies of the samples in the initial cloud (--tile)"));

    auto* form = new QFormLayout;
    form->addRow(tr("Model"), modelRow);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Guidance"), m_guidance);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Device"), m_device);

    auto* advancedToggle = new QToolButton;
    advancedToggle->setText(tr("Advanced"));
    advancedToggle->setCheckable(true);
    advancedToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    advancedToggle->setArrowType(Qt::RightArrow);
    advancedToggle->setAutoRaise(true);
    auto* advancedForm = new QFormLayout(m_advanced);
    advancedForm->setContentsMargins(0, 0, 0, 0);
    m_refiner->setPlaceholderText(tr("the model's"));
    m_refiner->setToolTip(tr("A separate refiner file (a converted refine_net.ckpt); empty: the "
                             "model file's own refiner"));
    auto* browseRefiner = new QToolButton;
    browseRefiner->setText(QStringLiteral("..."));
    browseRefiner->setToolTip(tr("Choose a refiner file"));
    connect(browseRefiner, &QToolButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Refiner"),
                                                       QFileInfo(m_model->text()).path());
        if (!f.isEmpty()) m_refiner->setText(f);
    });
    auto* refinerRow = new QHBoxLayout;
    refinerRow->addWidget(m_refiner, 1);
    refinerRow->addWidget(browseRefiner);
    advancedForm->addRow(tr("Refiner"), refinerRow);
    advancedForm->addRow(tr("Points"), m_points);
    advancedForm->addRow(tr("Tile"), m_tile);
    advancedForm->addRow(m_refine);
    m_advanced->setVisible(false);
    connect(advancedToggle, &QToolButton::toggled, this, [this, advancedToggle](bool on) {
        advancedToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        m_advanced->setVisible(on);
    });

    m_progress->setRange(0, kProgressMax);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QString());
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_run->setToolTip(tr("Complete the current frame with this model (again: stop)"));
    connect(m_run, &QPushButton::clicked, this, [this] {
        if (isRunning()) {
            stop();
        } else {
            run();
        }
    });
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_run);
    runRow->addWidget(m_progress, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(advancedToggle);
    layout->addWidget(m_advanced);
    layout->addLayout(runRow);
    layout->addWidget(m_status);

    connect(m_worker, &WorkerClient::progress, this,
            [this](const QString& job, double fraction, const QString& stage) {
                if (job != m_job) return;
                m_progress->setValue(static_cast<int>(std::lround(fraction * kProgressMax)));
                m_progress->setFormat(tr("%p% %1").arg(stage));
            });
    connect(m_worker, &WorkerClient::finished, this, &CompletionSlot::onFinished);
    setSettings(CompletionSettings::defaults(role));
    updateEnabled();
}

CompletionSlot::~CompletionSlot() = default;

CompletionSettings CompletionSlot::settings() const {
    CompletionSettings s;
    s.model = m_model->text().trimmed();
    s.refiner = m_refiner->text().trimmed();
    s.steps = m_steps->value();
    s.guidance = m_guidance->value() < 0 ? -1.0 : m_guidance->value();
    s.seed = m_seed->value();
    s.device = m_device->currentData().toString();
    s.points = m_points->value();
    s.tile = m_tile->value();
    s.refine = m_refine->isChecked();
    return s;
}

void CompletionSlot::setSettings(const CompletionSettings& s) {
    m_model->setText(s.model);
    m_refiner->setText(s.refiner);
    m_steps->setValue(s.steps);
    m_guidance->setValue(s.guidance < 0 ? m_guidance->minimum() : s.guidance);
    m_seed->setValue(static_cast<int>(s.seed));
    const int device = m_device->findData(s.device);
    m_device->setCurrentIndex(device >= 0 ? device : 0);
    m_points->setValue(s.points);
    m_tile->setValue(s.tile);
    m_refine->setChecked(s.refine);
}

void CompletionSlot::setFrame(int index, const QString& name, const QString& scanFile) {
    m_frame = index;
    m_frameName = name;
    m_scanFile = scanFile;
    updateEnabled();
}

QString CompletionSlot::outputFile(const QString& name) const {
    // "000003.bin" (a single file's name) and "000003" give the same stem.
    QString stem = name;
    for (const QString& ext : {QStringLiteral(".pcd.bin"), QStringLiteral(".bin"),
                               QStringLiteral(".pcd"), QStringLiteral(".ply")}) {
        if (stem.endsWith(ext)) {
            stem.chop(ext.size());
            break;
        }
    }
    const QString role =
        m_role == CompletionRole::Teacher ? QStringLiteral("teacher") : QStringLiteral("student");
    return QDir(m_outputFolder).filePath(QStringLiteral("%1_%2.bin").arg(stem, role));
}

QString CompletionSlot::statusText() const {
    return m_status->text();
}

bool CompletionSlot::run() {
    if (isRunning()) {
        return false;
    }
    const CompletionSettings s = settings();
    if (s.model.isEmpty()) {
        m_status->setText(tr("Choose a model file first."));
        return false;
    }
    if (m_scanFile.isEmpty() || m_frame < 0 || m_outputFolder.isEmpty()) {
        m_status->setText(tr("Open a sequence or scan first."));
        return false;
    }
    m_runFrame = m_frame;
    m_runOutput = outputFile(m_frameName);
    m_runScan = m_scanFile;
    m_runSettings = s;
    m_autoDevice = s.device == QLatin1String("auto");
    if (m_autoDevice) {
        m_runDevice = programsWithoutCuda().contains(m_worker->program()) ? QStringLiteral("cpu")
                                                                          : QStringLiteral("cuda");
        m_autoDevice = m_runDevice == QLatin1String("cuda");
    } else {
        m_runDevice = s.device;
    }
    m_status->setText(
        tr("Completing frame %1 with %2 %3...")
            .arg(m_frameName, QFileInfo(s.model).fileName(), deviceWords(m_runDevice)));
    m_clock.start();
    m_run->setText(tr("Stop"));
    Q_EMIT runningChanged(true);
    startRun();
    return true;
}

void CompletionSlot::startRun() {
    m_progress->setValue(0);
    m_progress->setFormat(tr("starting"));
    CompletionSettings s = m_runSettings;
    s.device = m_runDevice;
    QString error;
    try {
        const PointCloud scan = io::readCloud(
            m_runScan.toStdString(), {},
            m_nuscenesKittiAxes ? io::NuscenesAxes::KittiFrame : io::NuscenesAxes::AsStored);
        m_job = m_worker->complete(s.model, scan, completionOptions(s), &error, s.refiner);
    } catch (const Error& e) {
        error = QString::fromStdString(e.what());
    }
    if (m_job.isEmpty()) {
        // Reported the way a failed job is, after this call returns.
        m_job = QStringLiteral("unstarted");
        QMetaObject::invokeMethod(
            this, [this, error] { onFinished(m_job, CliOutcome::Failed, error, {}, {}); },
            Qt::QueuedConnection);
    }
}

void CompletionSlot::stop() {
    if (isRunning()) {
        m_status->setText(tr("Stopping..."));
        m_worker->cancel(m_job);
    }
}

void CompletionSlot::onFinished(const QString& job, CliOutcome outcome, const QString& message,
                                const QString& code, const std::optional<events::Event>& result) {
    if (job != m_job) return;
    m_job.clear();
    if (outcome == CliOutcome::Failed && m_autoDevice && code == QLatin1String("no_device")) {
        // "Auto" on a machine (or a lidistill build) without CUDA: the CPU it is. Only the
        // model load was spent; the clock keeps running, as the user waits for both.
        programsWithoutCuda().insert(m_worker->program());
        m_autoDevice = false;
        m_runDevice = QStringLiteral("cpu");
        m_status->setText(tr("No CUDA device for lidistill: going on on the CPU..."));
        startRun();
        return;
    }
    QString why = message;
    if (outcome == CliOutcome::Succeeded) {
        // The clouds came in the message: the refined one (the diffused one without a refiner)
        // goes to the output file the panel reads.
        PointCloud cloud = WorkerClient::cloudOf(*result, "refined");
        if (cloud.empty()) cloud = WorkerClient::cloudOf(*result, "diffused");
        try {
            io::writeCloud(m_runOutput.toStdString(), cloud);
        } catch (const Error& e) {
            outcome = CliOutcome::Failed;
            why = QString::fromStdString(e.what());
        }
    }
    const double seconds = static_cast<double>(m_clock.elapsed()) / 1000.0;
    m_run->setText(tr("Run"));
    switch (outcome) {
        case CliOutcome::Succeeded:
            m_progress->setValue(kProgressMax);
            m_progress->setFormat(tr("%p% done"));
            m_status->setText(tr("Wrote %1 in %2 s %3.")
                                  .arg(QFileInfo(m_runOutput).fileName())
                                  .arg(seconds, 0, 'f', 1)
                                  .arg(deviceWords(m_runDevice)));
            break;
        case CliOutcome::Cancelled:
            m_progress->setValue(0);
            m_progress->setFormat(tr("cancelled"));
            m_status->setText(tr("Cancelled."));
            break;
        case CliOutcome::Failed:
            m_progress->setValue(0);
            m_progress->setFormat(tr("failed"));
            m_status->setText(tr("Failed: %1").arg(why));
            break;
    }
    updateEnabled();
    Q_EMIT runningChanged(false);
    if (outcome == CliOutcome::Succeeded) {
        Q_EMIT completed(m_runFrame, m_runOutput, seconds);
    } else if (outcome == CliOutcome::Failed) {
        Q_EMIT failed(tr("%1 completion failed: %2").arg(roleName(m_role), why));
    }
}

void CompletionSlot::updateEnabled() {
    m_run->setEnabled(isRunning() ||
                      (!m_model->text().trimmed().isEmpty() && !m_scanFile.isEmpty()));
}

}  // namespace lidistill::ui
