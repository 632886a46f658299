// SPDX-License-Identifier: MIT
#include "ui/app/MakePairsForm.h"

#include "core/base/ShippedModels.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QClipboard>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace lidistill::ui {

QStringList makePairsArguments(const MakePairsSettings& s) {
    QStringList args{QStringLiteral("pairs"),
                     QStringLiteral("make"),
                     s.model,
                     s.sequence,
                     s.store,
                     QStringLiteral("--frames"),
                     QStringLiteral("%1:%2").arg(s.first).arg(s.last),
                     QStringLiteral("--lambda"),
                     QString::number(s.lambda, 'g', 10),
                     QStringLiteral("--device"),
                     s.device};
    if (s.steps > 0) args << QStringLiteral("--steps") << QString::number(s.steps);
    if (s.points > 0) args << QStringLiteral("--points") << QString::number(s.points);
    return args;
}

bool parseFrameRange(const QString& text, int frameCount, int& first, int& last) {
    static const QRegularExpression re(QStringLiteral("^\\s*(\\d{1,9})\\s*:\\s*(\\d{1,9})\\s*$"));
    const auto m = re.match(text);
    if (!m.hasMatch()) return false;
    const int a = m.captured(1).toInt();
    const int b = m.captured(2).toInt();
    if (a >= b || b > frameCount) return false;
    first = a;
    last = b;
    return true;
}

MakePairsForm::MakePairsForm(QWidget* parent)
    : QGroupBox(tr("Make pairs"), parent),
      m_worker(new WorkerClient(this)),
      m_making(new PairMaking(m_worker, this)),
      m_model(new QLineEdit),
      m_frames(new QLineEdit),
      m_steps(new QSpinBox),
      m_lambda(new QDoubleSpinBox),
      m_points(new QSpinBox),
      m_device(new QComboBox),
      m_start(new QPushButton(tr("Start"))),
      m_progress(new QProgressBar),
      m_status(new QLabel) {
    setToolTip(
        tr("As lidistill pairs make: each frame completed twice by the model in a persistent "
           "worker (the same noise scaled by 1 and lambda), both scored against the frame's "
           "ground truth"));
    const auto student = shippedModel(kShippedStudent);
    if (!student.empty()) m_model->setText(QString::fromStdString(student.string()));
    m_model->setPlaceholderText(tr("model file (.safetensors)"));
    auto* browse = new QToolButton;
    browse->setText(QStringLiteral("..."));
    browse->setToolTip(tr("Choose the model file"));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Model that makes the pairs"), m_model->text(),
                                         tr("Models (*.safetensors);;All files (*)"));
        if (!f.isEmpty()) m_model->setText(f);
    });
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(browse);

    m_frames->setPlaceholderText(QStringLiteral("A:B"));
    m_frames->setToolTip(tr("Frames A to B-1 of the open sequence"));
    m_steps->setRange(0, 1000);
    m_steps->setSpecialValueText(tr("model's"));
    m_lambda->setRange(0.01, 10.0);
    m_lambda->setDecimals(3);
    m_lambda->setSingleStep(0.05);
    m_lambda->setValue(1.1);
    m_lambda->setToolTip(tr("Noise scale of the second candidate (Distillation-DPO: 1.1)"));
    m_points->setRange(0, 1000000);
    m_points->setSpecialValueText(tr("model's"));
    m_device->addItem(QStringLiteral("cpu"));
    m_device->addItem(QStringLiteral("cuda"));

    auto* form = new QFormLayout;
    form->addRow(tr("Model"), modelRow);
    form->addRow(tr("Frames"), m_frames);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Lambda"), m_lambda);
    form->addRow(tr("Points"), m_points);
    form->addRow(tr("Device"), m_device);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    auto* row = new QHBoxLayout;
    row->addWidget(m_start);
    row->addWidget(m_progress, 1);
    layout->addLayout(row);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);

    connect(m_start, &QPushButton::clicked, this, [this] {
        if (isRunning()) {
            cancel();
        } else {
            start();
        }
    });
    connect(m_model, &QLineEdit::textChanged, this, &MakePairsForm::updateEnabled);
    connect(m_making, &PairMaking::progress, this, [this](double fraction, const QString& stage) {
        m_progress->setValue(static_cast<int>(std::lround(fraction * 1000)));
        m_progress->setFormat(stage.isEmpty() ? QStringLiteral("%p%")
                                              : QStringLiteral("%1 %p%").arg(stage));
    });
    connect(m_making, &PairMaking::pairStored, this, [this](qlonglong id, const QString& frame) {
        ++m_stored;
        m_status->setText(tr("Stored pair %1 (frame %2).").arg(id).arg(frame));
        Q_EMIT pairStored(id);
    });
    connect(m_making, &PairMaking::finished, this, &MakePairsForm::onFinished);
    auto* copy = new QToolButton;
    copy->setText(tr("Copy command"));
    copy->setToolTip(tr("Copy the same run as a lidistill command line (for a GPU server)"));
    connect(copy, &QToolButton::clicked, this, [this] {
        QStringList words{CliProcess::defaultProgram()};
        for (const QString& w : makePairsArguments(settings())) {
            words << (w.contains(' ') ? QStringLiteral("'%1'").arg(w) : w);
        }
        QGuiApplication::clipboard()->setText(words.join(' '));
        m_status->setText(tr("Copied: %1").arg(words.join(' ')));
    });
    row->addWidget(copy);
    updateEnabled();
}

void MakePairsForm::setSequence(const QString& dir, int frameCount) {
    const bool changed = dir != m_sequence;
    m_sequence = dir;
    m_frameCount = dir.isEmpty() ? 0 : frameCount;
    int a = 0, b = 0;
    if (changed || !parseFrameRange(m_frames->text(), m_frameCount, a, b)) {
        m_frames->setText(m_frameCount > 0 ? QStringLiteral("0:%1").arg(m_frameCount) : QString());
    }
    updateEnabled();
}

void MakePairsForm::setStore(const QString& file) {
    m_store = file;
    updateEnabled();
}

MakePairsSettings MakePairsForm::settings() const {
    MakePairsSettings s;
    s.model = m_model->text().trimmed();
    s.sequence = m_sequence;
    s.store = m_store;
    parseFrameRange(m_frames->text(), m_frameCount, s.first, s.last);
    s.steps = m_steps->value();
    s.lambda = m_lambda->value();
    s.points = m_points->value();
    s.device = m_device->currentText();
    return s;
}

void MakePairsForm::setSettings(const MakePairsSettings& s) {
    m_model->setText(s.model);
    m_frames->setText(QStringLiteral("%1:%2").arg(s.first).arg(s.last));
    m_steps->setValue(s.steps);
    m_lambda->setValue(s.lambda);
    m_points->setValue(s.points);
    m_device->setCurrentText(s.device);
}

QString MakePairsForm::statusText() const {
    return m_status->text();
}

bool MakePairsForm::start() {
    if (isRunning()) return false;
    MakePairsSettings s = settings();
    QString why;
    if (s.model.isEmpty()) {
        why = tr("Choose a model file.");
    } else if (m_sequence.isEmpty()) {
        why = tr("Open a sequence first (pairs are made from the open sequence).");
    } else if (m_store.isEmpty()) {
        why = tr("Open or create a pair store first.");
    } else if (!parseFrameRange(m_frames->text(), m_frameCount, s.first, s.last)) {
        why = tr("Frames are A:B with 0 <= A < B <= %1.").arg(m_frameCount);
    }
    if (!why.isEmpty()) {
        m_status->setText(why);
        return false;
    }
    m_stored = 0;
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    QString error;
    if (!m_making->start(s, &error)) {
        m_status->setText(tr("Cannot start: %1").arg(error));
        return false;
    }
    m_status->setText(tr("Making pairs of frames %1 to %2...").arg(s.first).arg(s.last - 1));
    updateEnabled();
    Q_EMIT runningChanged(true);
    return true;
}

void MakePairsForm::cancel() {
    m_making->cancel();
}

void MakePairsForm::onFinished(CliOutcome outcome, const QString& message, int made, int kept) {
    switch (outcome) {
        case CliOutcome::Succeeded:
            m_progress->setValue(m_progress->maximum());
            m_status->setText(tr("Made %n pair(s)", nullptr, made) +
                              (kept > 0 ? tr(", %n already there.", nullptr, kept)
                                        : QStringLiteral(".")));
            break;
        case CliOutcome::Cancelled:
            m_status->setText(tr("Cancelled: %n pair(s) kept.", nullptr, m_stored));
            break;
        case CliOutcome::Failed:
            m_status->setText(tr("Failed: %1").arg(message));
            break;
    }
    updateEnabled();
    Q_EMIT runningChanged(false);
    Q_EMIT finished(outcome, message);
}

void MakePairsForm::updateEnabled() {
    const bool running = isRunning();
    m_start->setText(running ? tr("Cancel") : tr("Start"));
    m_start->setToolTip(running ? tr("Stop after the frame in hand (the pairs stored stay)")
                                : tr("Make the pairs of the frames in the worker"));
    m_start->setEnabled(running || (!m_model->text().trimmed().isEmpty() && !m_sequence.isEmpty() &&
                                    !m_store.isEmpty()));
    for (QWidget* w : std::initializer_list<QWidget*>{m_model, m_frames, m_steps, m_lambda,
                                                      m_points, m_device}) {
        w->setEnabled(!running);
    }
}

}  // namespace lidistill::ui
