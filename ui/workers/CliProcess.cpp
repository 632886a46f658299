// SPDX-License-Identifier: MIT
#include "ui/workers/CliProcess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTimer>

namespace lidistill::ui {

namespace {
// "complete: 45% denoising" (TerminalProgress, non-terminal mode). The task is one word, so
// "lidistill complete: ..." log lines never match.
const QRegularExpression kProgressLine(QStringLiteral(R"(^([\w-]+): (\d{1,3})%(?: (.*))?$)"));
const QRegularExpression kErrorLine(QStringLiteral(R"(^lidistill(?: [\w-]+)?: error: (.*)$)"));
const QRegularExpression kCancelLine(QStringLiteral(R"(^lidistill(?: [\w-]+)?: cancelled$)"));
const QRegularExpression kCliLine(QStringLiteral(R"(^lidistill(?: [\w-]+)?: (.*)$)"));
}  // namespace

std::optional<CliProgressLine> parseCliProgressLine(const QString& line) {
    const auto m = kProgressLine.match(line);
    if (!m.hasMatch()) {
        return std::nullopt;
    }
    const int percent = m.captured(2).toInt();
    if (percent > 100) {
        return std::nullopt;
    }
    return CliProgressLine{m.captured(1), percent / 100.0, m.captured(3).trimmed()};
}

CliProcess::CliProcess(QObject* parent)
    : QObject(parent),
      m_process(new QProcess(this)),
      m_killTimer(new QTimer(this)),
      m_program(defaultProgram()) {
    qRegisterMetaType<CliOutcome>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LIDISTILL_PROGRESS"), QStringLiteral("percent"));
    m_process->setProcessEnvironment(env);
    m_process->setProcessChannelMode(QProcess::SeparateChannels);
    m_killTimer->setSingleShot(true);
    connect(m_killTimer, &QTimer::timeout, m_process, &QProcess::kill);
    connect(m_process, &QProcess::readyReadStandardError, this, &CliProcess::readStderr);
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { m_stdout += QString::fromUtf8(m_process->readAllStandardOutput()); });
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
    m_stopRequested = false;
    m_reportedCancel = false;
    m_running = true;
    m_process->setStandardInputFile(QProcess::nullDevice());
    m_process->start(m_program, arguments);
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
    m_stderrTail += m_process->readAllStandardError();
    qsizetype nl;
    while ((nl = m_stderrTail.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(m_stderrTail.left(nl)).trimmed();
        m_stderrTail.remove(0, nl + 1);
        if (!line.isEmpty()) handleLine(line);
    }
}

void CliProcess::handleLine(const QString& line) {
    if (const auto p = parseCliProgressLine(line)) {
        Q_EMIT progress(p->fraction, p->stage);
        return;
    }
    if (kCancelLine.match(line).hasMatch()) {
        m_reportedCancel = true;
    }
    m_diagnostics << line;
}

QString CliProcess::failureMessage(int exitCode) const {
    for (auto it = m_diagnostics.crbegin(); it != m_diagnostics.crend(); ++it) {
        const auto m = kErrorLine.match(*it);
        if (m.hasMatch()) return m.captured(1);
    }
    // A usage error (exit 2) prints "lidistill CMD: what is wrong", then the command's help.
    for (const QString& line : m_diagnostics) {
        const auto m = kCliLine.match(line);
        if (m.hasMatch() && !m.captured(1).startsWith(QLatin1String("warning"))) {
            return m.captured(1);
        }
    }
    if (!m_diagnostics.isEmpty()) {
        return m_diagnostics.constLast();
    }
    return tr("%1 exited with code %2").arg(QFileInfo(m_program).fileName()).arg(exitCode);
}

void CliProcess::onFinished(int exitCode, QProcess::ExitStatus status) {
    m_stdout += QString::fromUtf8(m_process->readAllStandardOutput());
    readStderr();
    if (!m_stderrTail.trimmed().isEmpty()) {
        handleLine(QString::fromUtf8(m_stderrTail).trimmed());
        m_stderrTail.clear();
    }
    if (m_stopRequested || m_reportedCancel) {
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
