// SPDX-License-Identifier: MIT
#include "core/ml/diffusion/DpmSolver.h"

#include "core/base/Error.h"

#include <cmath>
#include <string>

namespace lidistill::ml::diffusion {

NoiseSchedule::NoiseSchedule(int trainSteps, double betaStart, double betaEnd)
    : m_trainSteps(trainSteps) {
    if (trainSteps < 2 || !(betaStart > 0) || !(betaStart <= betaEnd) || !(betaEnd < 1)) {
        throw InvalidArgument("noise schedule: need 2+ steps and 0 < beta_start <= beta_end < 1");
    }
    // Exactly diffusers' float32 sequence: linspace, cumprod, sqrt, log.
    const auto betas = torch::linspace(betaStart, betaEnd, trainSteps, torch::kFloat);
    const auto abar = torch::cumprod(1.0 - betas, 0);
    const auto alpha = torch::sqrt(abar).contiguous();
    const auto sigma = torch::sqrt(1.0 - abar).contiguous();
    const auto lambda = (torch::log(alpha) - torch::log(sigma)).contiguous();
    auto vec = [&](const torch::Tensor& t) {
        return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + trainSteps);
    };
    m_alpha = vec(alpha);
    m_sigma = vec(sigma);
    m_lambda = vec(lambda);
}

std::vector<int> samplingTimesteps(int steps, int trainSteps) {
    if (steps < 1 || steps > trainSteps) {
        throw InvalidArgument("sampling steps must be in 1.." + std::to_string(trainSteps) +
                              ", got " + std::to_string(steps));
    }
    // numpy.linspace in double (i * step, the end point exact), then round half to even
    // (std::nearbyint in the default rounding mode).
    std::vector<int> out;
    const double last = trainSteps - 1;
    const double delta = last / steps;
    for (int i = steps; i >= 1; --i) {
        const double v = i == steps ? last : i * delta;
        out.push_back(static_cast<int>(std::nearbyint(v)));
    }
    return out;
}

SdeDpmSolver::SdeDpmSolver(const NoiseSchedule& schedule, int steps, bool carryOver)
    : m_schedule(schedule),
      m_timesteps(samplingTimesteps(steps, schedule.trainSteps())),
      m_carryOver(carryOver) {}

void SdeDpmSolver::beginScan(std::int64_t rows) {
    if (m_carryOver && m_prevData.defined() && (rows < 0 || m_prevData.size(0) == rows)) return;
    m_prevData = torch::Tensor();
    m_prevTimestep = -1;
}

SdeDpmSolver::Coefficients SdeDpmSolver::firstOrder(const NoiseSchedule& schedule, int s, int t) {
    if (s < 0 || s >= schedule.trainSteps() || t < 0 || t >= s) {
        throw InvalidArgument("sampler jump " + std::to_string(s) + " -> " + std::to_string(t) +
                              " out of range");
    }
    // float32 throughout, as diffusers computes with 0-dim float tensors.
    const float h = schedule.lambda(t) - schedule.lambda(s);
    const float e1 = std::exp(-h), e2 = std::exp(-2.0f * h);
    Coefficients c;
    c.sample = schedule.sigma(t) / schedule.sigma(s) * e1;
    c.data = schedule.alpha(t) * (1.0f - e2);
    c.noise = schedule.sigma(t) * std::sqrt(1.0f - e2);
    return c;
}

SdeDpmSolver::Coefficients SdeDpmSolver::coefficients(int k) const {
    const int n = static_cast<int>(m_timesteps.size());
    if (k < 0 || k >= n) throw InvalidArgument("sampler step out of range");
    const int s = m_timesteps[k];
    const int t = k + 1 < n ? m_timesteps[k + 1] : 0;
    Coefficients c = firstOrder(m_schedule, s, t);
    const float h = m_schedule.lambda(t) - m_schedule.lambda(s);
    const bool lowerOrderFinal = k == n - 1 && n < 15;
    c.secondOrder = m_prevData.defined() && !lowerOrderFinal;
    if (c.secondOrder) {
        // Midpoint: + 1/2 data * D1, D1 = (d_k - d_{k-1}) / r0, r0 = h0 / h. The previous
        // timestep is the one diffusers looks up as timesteps[k - 1], which wraps to the last
        // one when the state carries over from another scan: also the last step taken.
        const float h0 = m_schedule.lambda(s) - m_schedule.lambda(m_prevTimestep);
        c.r0 = h0 / h;
        c.difference = 0.5f * c.data * (1.0f / c.r0);
    }
    return c;
}

torch::Tensor SdeDpmSolver::step(int k, const torch::Tensor& r, const torch::Tensor& eps,
                                 const torch::Tensor& z) {
    const int s = m_timesteps.at(static_cast<std::size_t>(k));
    const Coefficients c = coefficients(k);
    auto data = (r - m_schedule.sigma(s) * eps) / m_schedule.alpha(s);
    // Term by term in diffusers' order, so results agree to rounding.
    auto out = c.sample * r + c.data * data;
    if (c.secondOrder) out = out + 0.5f * c.data * ((1.0f / c.r0) * (data - m_prevData));
    out = out + c.noise * z;
    m_prevData = data;
    m_prevTimestep = s;
    return out;
}

}  // namespace lidistill::ml::diffusion
