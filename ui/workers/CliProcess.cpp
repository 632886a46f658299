// SPDX-License-Identifier: MIT
#include "ui/workers/CliProcess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

namespace lidistill::ui {

CliProcess::CliProcess(QObject* parent)
    : QObject(parent),
      m_process(new QProcess(this)),
      m_killTimer(new QTimer(this)),
      m_program(defaultProgram()) {
    qRegisterMetaType<CliOutcome>();
    m_process->setProcessChannelMode(QProcess::SeparateChannels);
    m_killTimer->setSingleShot(true);
    connect(m_killTimer, &QTimer::timeout, m_process, &QProcess::kill);
    connect(m_process, &QProcess::readyReadStandardError, this, &CliProcess::readStderr);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &CliProcess::readEvents);
    connect(m_process, &QProcess::finished, this, &CliProcess::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &CliProcess::onError);
}

CliProcess::~CliProcess() {
    if (m_process->state() == QProcess::NotRunning) {
        return;
    }
    // No finished() from a destructor: the receivers may be half destroyed themselves.
    m_process->disconnect(this);
    m_process->terminate();
    if (!m_process->waitForFinished(m_graceMs)) {
        m_process->kill();
        m_process->waitForFinished(m_graceMs);
    }
}

QString CliProcess::defaultProgram() {
    const QString env = qEnvironmentVariable("LIDISTILL_CLI");
    if (!env.isEmpty()) {
        return env;
    }
    const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath("lidistill");
    if (QFileInfo(beside).isExecutable()) {
        return beside;
    }
    return QStringLiteral("lidistill");
}

bool CliProcess::start(const QStringList& arguments) {
    if (m_running) {
        return false;
    }
    m_arguments = arguments;
    m_stdout.clear();
    m_diagnostics.clear();
    m_stderrTail.clear();
    m_eventsTail.clear();
    m_ended.reset();
    m_error.reset();
    m_result.reset();
    m_stopRequested = false;
    m_running = true;
    m_process->setStandardInputFile(QProcess::nullDevice());
    // stdout carries the job's events (core/base/Events.h), stderr the text for people.
    m_process->start(m_program, QStringList{QStringLiteral("--events"), QStringLiteral("-")} +
                                    arguments);
    return true;
}

bool CliProcess::isRunning() const {
    return m_running;
}

void CliProcess::stop() {
    if (!m_running || m_stopRequested) {
        return;
    }
    m_stopRequested = true;
    // Before the CLI installs its handler SIGTERM simply ends it: reported as cancelled too.
    m_process->terminate();
    m_killTimer->start(m_graceMs);
}

void CliProcess::readStderr() {
    const QByteArray bytes = m_process->readAllStandardError();
    m_stdout += QString::fromUtf8(bytes);
    m_stderrTail += bytes;
    qsizetype nl;
    while ((nl = m_stderrTail.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(m_stderrTail.left(nl)).trimmed();
        m_stderrTail.remove(0, nl + 1);
        if (!line.isEmpty()) m_diagnostics << line;
    }
}

void CliProcess::readEvents() {
    m_eventsTail += m_process->readAllStandardOutput();
    qsizetype nl;
    while ((nl = m_eventsTail.indexOf('\n')) >= 0) {
        const QByteArray line = m_eventsTail.left(nl);
        m_eventsTail.remove(0, nl + 1);
        if (auto e = events::parse(std::string_view(line.constData(), line.size()))) {
            handleEvent(*e);
        }
    }
}

void CliProcess::handleEvent(const events::Event& e) {
    if (e.type == "progress") {
        Q_EMIT progress(e.fraction, QString::fromStdString(e.stage));
    } else if (e.type == "metrics") {
        Q_EMIT metrics(QString::fromStdString(e.record));
    } else if (e.type == "error") {
        m_error = e;
    } else if (e.type == "result") {
        m_result = e;
    } else if (e.type == "ended") {
        m_ended = e;
    }
}

QString CliProcess::failureMessage(int exitCode) const {
    if (m_error) return QString::fromStdString(m_error->message);
    // No error event: the program died before it could say (a crash, a kill, not lidistill).
    if (!m_diagnostics.isEmpty()) {
        return m_diagnostics.constLast();
    }
    return tr("%1 exited with code %2").arg(QFileInfo(m_program).fileName()).arg(exitCode);
}

void CliProcess::onFinished(int exitCode, QProcess::ExitStatus status) {
    readEvents();
    readStderr();
    if (!m_stderrTail.trimmed().isEmpty()) {
        m_diagnostics << QString::fromUtf8(m_stderrTail).trimmed();
        m_stderrTail.clear();
    }
    if (m_stopRequested || (m_ended && m_ended->status == "cancelled")) {
        finish(CliOutcome::Cancelled, QStringLiteral("cancelled"));
    } else if (status == QProcess::CrashExit) {
        finish(CliOutcome::Failed, tr("%1 crashed (%2)")
                                       .arg(QFileInfo(m_program).fileName(),
                                            m_diagnostics.isEmpty() ? m_process->errorString()
                                                                    : m_diagnostics.constLast()));
    } else if (exitCode != 0) {
        finish(CliOutcome::Failed, failureMessage(exitCode));
    } else {
        finish(CliOutcome::Succeeded, {});
    }
}

void CliProcess::onError(QProcess::ProcessError error) {
    // Crashes also end in finished(); only a failed start has no finished() to follow.
    if (error != QProcess::FailedToStart || !m_running) {
        return;
    }
    if (m_stopRequested) {
        finish(CliOutcome::Cancelled, QStringLiteral("cancelled"));
        return;
    }
    finish(CliOutcome::Failed, tr("cannot start %1: %2").arg(m_program, m_process->errorString()));
}

void CliProcess::finish(CliOutcome outcome, const QString& message) {
    m_killTimer->stop();
    m_running = false;
    Q_EMIT finished(outcome, message);
}

}  // namespace lidistill::ui
