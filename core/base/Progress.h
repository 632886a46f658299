#pragma once
// SPDX-License-Identifier: MIT

#include <string_view>

namespace lidistill {

/// What long core/ work reports to, and asks whether to stop.
///
/// Every long function takes a `ProgressSink*` that may be null. Implementations: the CLI's
/// terminal bar, the studio's QPromise adapter, test recorders. report() may be called from
/// worker threads; implementations must be thread-safe if the work they observe is parallel.
class ProgressSink {
public:
    virtual ~ProgressSink() = default;
    /// @param fraction in [0, 1], non-decreasing within one stage; @param stage short label.
    virtual void report(double fraction, std::string_view stage) = 0;
    /// Polled between units of work; returning true makes the work throw lidistill::Cancelled.
    virtual bool cancelled() const { return false; }
};

/// Maps a sub-task's [0, 1] onto [begin, end] of a parent sink, so composed work
/// (load scans, then voxelise) reports one monotone bar. Null parent is allowed.
class SubProgress final : public ProgressSink {
public:
    SubProgress(ProgressSink* parent, double begin, double end)
        : m_parent(parent), m_begin(begin), m_end(end) {}
    void report(double fraction, std::string_view stage) override {
        if (m_parent) {
            m_parent->report(m_begin + (m_end - m_begin) * fraction, stage);
        }
    }
    bool cancelled() const override { return m_parent && m_parent->cancelled(); }

private:
    ProgressSink* m_parent;
    double m_begin;
    double m_end;
};

/// Reports progress and throws lidistill::Cancelled if the sink asks to stop.
void checkpoint(ProgressSink* sink, double fraction, std::string_view stage);

}  // namespace lidistill
