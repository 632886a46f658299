#pragma once
// SPDX-License-Identifier: MIT
//
// Device-parameterised checks of the sparse engine and the networks: every operation runs on a
// target device and must reproduce the CPU result computed with the CPU's own code path.
// The checks (DeviceTest.cpp) are instantiated twice:
//   * test_ml_gpu (label gpu, DeviceCudaTest.cpp): target CUDA; skipped without a CUDA device;
//   * test_ml_portable (label ml, DevicePortableTest.cpp): target CPU with setPortablePath(true),
//     i.e. the CUDA code path (searchsorted maps, index_add_ scatter) run on the CPU, so CI,
//     which has no GPU, checks that logic against the CPU-only path.
// Tolerances: float64 relative 1e-9 (max abs error / max abs reference). float32: the target's
// error against the float64 CPU result may be at most 8x the CPU float32 result's own error
// against it, plus 1e-5 (summation order differs between devices; TF32 is switched off);
// gradients per parameter, relative to max(|reference|, 1e-3 x the network's largest).

#include "core/ml/engine/SparseOps.h"

#include <gtest/gtest.h>
#include <ostream>
#include <string>

namespace lidistill::ml::sparse::device {

struct Target {
    std::string name;
    torch::Device device;
    bool portable;  ///< run the CPU through the device-agnostic path
};

inline void PrintTo(const Target& t, std::ostream* os) {
    *os << t.name;
}

class OnDevice : public ::testing::TestWithParam<Target> {
protected:
    void SetUp() override;
    void TearDown() override { setPortablePath(false); }

    torch::Device dev() const { return GetParam().device; }
    /// Copies `t` to the target device (keeps requires_grad off: callers set it).
    torch::Tensor on(const torch::Tensor& t) const { return t.detach().to(dev()); }

    /// Runs `f` with the target's code path (portable flag on for the portable target); CPU
    /// references are computed outside it, with the CPU's own path.
    template <typename F>
    auto onTarget(F&& f) const {
        setPortablePath(GetParam().portable);
        struct Reset {
            ~Reset() { setPortablePath(false); }
        } reset;
        return f();
    }
};

inline std::string targetName(const ::testing::TestParamInfo<Target>& info) {
    return info.param.name;
}

}  // namespace lidistill::ml::sparse::device
