#pragma once
// SPDX-License-Identifier: MIT
// Invariants every cloud a reader returns must hold, checked by the targets that read clouds.
#include "core/base/PointCloud.h"
#include "tests/fuzz/FuzzTarget.h"

#include <cmath>

namespace lidistill::fuzz {

/// Fields aligned, and (non-strict readers drop them) no NaN or infinite coordinate left.
inline void checkCloud(const PointCloud& cloud) {
    FUZZ_CHECK(cloud.intensity.empty() || cloud.intensity.size() == cloud.size());
    FUZZ_CHECK(cloud.label.empty() || cloud.label.size() == cloud.size());
    FUZZ_CHECK(cloud.ring.empty() || cloud.ring.size() == cloud.size());
    for (const auto& p : cloud.xyz) {
        FUZZ_CHECK(std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]));
    }
}

}  // namespace lidistill::fuzz
