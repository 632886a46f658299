// SPDX-License-Identifier: MIT
#include "core/base/Progress.h"

#include "core/base/Error.h"

namespace lidistill {

void checkpoint(ProgressSink* sink, double fraction, std::string_view stage) {
    if (!sink) {
        return;
    }
    if (sink->cancelled()) {
        throw Cancelled();
    }
    sink->report(fraction, stage);
}

}  // namespace lidistill
