#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml: LiDiff's noise schedule and its sampler, diffusers 0.18.0's
// DPMSolverMultistepScheduler as LiDiff configures it (lidiff-family.md 3.4): sde-dpmsolver++,
// order 2, midpoint, lower_order_final, epsilon prediction, linspace timesteps. The schedule
// arithmetic is float32 torch, as diffusers does it, so coefficients match to the last bit.

#include <torch/torch.h>

#include <vector>

namespace lidistill::ml::diffusion {

/// Linear betas over `trainSteps` steps; alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t),
/// lambda_t = log alpha_t - log sigma_t.
class NoiseSchedule {
public:
    /// @throws InvalidArgument unless 0 < betaStart <= betaEnd < 1 and trainSteps >= 2.
    explicit NoiseSchedule(int trainSteps = 1000, double betaStart = 3.5e-5,
                           double betaEnd = 0.007);
    int trainSteps() const { return m_trainSteps; }
    float alpha(int t) const { return m_alpha[t]; }
    float sigma(int t) const { return m_sigma[t]; }
    float lambda(int t) const { return m_lambda[t]; }

private:
    int m_trainSteps;
    std::vector<float> m_alpha, m_sigma, m_lambda;
};

/// diffusers' "linspace" spacing: round(linspace(0, T - 1, n + 1)) (half to even), reversed,
/// the trailing 0 dropped. n = 8 -> 999, 874, 749, 624, 500, 375, 250, 125.
/// @throws InvalidArgument unless 1 <= steps <= trainSteps.
std::vector<int> samplingTimesteps(int steps, int trainSteps = 1000);

/// The sampler's state over one scan (or, with carryOver, across scans as LiDiff's pipeline
/// unintentionally does: lidiff-family.md 3.4, "scheduler-state quirk").
class SdeDpmSolver {
public:
    /// One update: r' = sample * r + data * d_k + difference * (d_k - d_{k-1}) + noise * z.
    /// (lidiff-family.md 3.4's c_sample, c_x0, c_noise; difference is 0 at first order.)
    struct Coefficients {
        float sample = 0, data = 0, difference = 0, noise = 0;
        float r0 = 0;  ///< h0 / h of the midpoint rule (second order only)
        bool secondOrder = false;
    };

    SdeDpmSolver(const NoiseSchedule& schedule, int steps, bool carryOver = false);
    const std::vector<int>& timesteps() const { return m_timesteps; }

    /// Starts a scan of `rows` points: forgets the last data prediction, unless carryOver was
    /// asked for and the last scan had as many points (LiDiff's always have 180k; with fewer
    /// points in range its pipeline would fail, here the scan starts fresh).
    void beginScan(std::int64_t rows = -1);
    /// Coefficients of step k (0-based) given the current state.
    Coefficients coefficients(int k) const;
    /// Step k on the residual r (LiDiff: x - x_init) with the model's noise prediction `eps`
    /// and fresh standard normal noise `z` (all the same shape and device): the data prediction
    /// d_k = (r - sigma_s eps) / alpha_s, then the update; remembers d_k for the next step.
    torch::Tensor step(int k, const torch::Tensor& r, const torch::Tensor& eps,
                       const torch::Tensor& z);

    /// First-order coefficients of a jump from timestep s to t < s (the student's one-step jump
    /// to 0 from any of its states: DDIL, reference 10). float32 as diffusers.
    static Coefficients firstOrder(const NoiseSchedule& schedule, int s, int t);

private:
    const NoiseSchedule& m_schedule;
    std::vector<int> m_timesteps;
    bool m_carryOver;
    torch::Tensor m_prevData;  // d_{k-1}, undefined at the start of a fresh scheduler
    int m_prevTimestep = -1;
};

}  // namespace lidistill::ml::diffusion
