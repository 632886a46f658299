#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Progress.h"

#include <QPromise>
#include <QString>

#include <algorithm>
#include <cmath>

namespace lidistill::ui {

/// Lets core/ work report to a QtConcurrent promise: report() becomes the future's progress
/// value (0..kProgressMax) and text, and cancelled() is true once someone called
/// QFuture::cancel() (e.g. the studio closing). Thread-safe: QPromise locks internally.
template <typename T>
class PromiseProgress final : public ProgressSink {
public:
    static constexpr int kProgressMax = 1000;

    /// Sets the promise's progress range; the promise must outlive this sink.
    explicit PromiseProgress(QPromise<T>& promise) : m_promise(promise) {
        m_promise.setProgressRange(0, kProgressMax);
    }
    void report(double fraction, std::string_view stage) override {
        const int value =
            static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * kProgressMax));
        m_promise.setProgressValueAndText(
            value, QString::fromUtf8(stage.data(), static_cast<qsizetype>(stage.size())));
    }
    bool cancelled() const override { return m_promise.isCanceled(); }

private:
    QPromise<T>& m_promise;
};

}  // namespace lidistill::ui
