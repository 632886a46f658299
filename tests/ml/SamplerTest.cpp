// SPDX-License-Identifier: MIT
// LiDiff's sampler against the figures of lidiff-family.md 3.4, which were derived from
// diffusers 0.18's DPMSolverMultistepScheduler (timesteps, the 8-step coefficient table, the
// 1-step generator and the contamination coefficient of the scheduler-state quirk).
#include "core/base/Error.h"
#include "core/ml/diffusion/DpmSolver.h"

#include <gtest/gtest.h>

namespace lidistill::ml::diffusion {
namespace {

TEST(Sampler, TimestepsAreDiffusersLinspace) {
    EXPECT_EQ(samplingTimesteps(1), (std::vector<int>{999}));
    EXPECT_EQ(samplingTimesteps(2), (std::vector<int>{999, 500}));
    EXPECT_EQ(samplingTimesteps(4), (std::vector<int>{999, 749, 500, 250}));
    EXPECT_EQ(samplingTimesteps(8), (std::vector<int>{999, 874, 749, 624, 500, 375, 250, 125}));
    const auto t50 = samplingTimesteps(50);
    ASSERT_EQ(t50.size(), 50u);
    EXPECT_EQ(t50.front(), 999);
    EXPECT_EQ(t50[1], 979);
    EXPECT_EQ(t50.back(), 20);
    // Step 20, except 519 -> 500 -> 480 (999 * 25 / 50 = 499.5 rounds half to even).
    for (std::size_t i = 1; i < t50.size(); ++i) {
        const int gap = t50[i - 1] - t50[i];
        if (t50[i - 1] == 519 || t50[i - 1] == 500) {
            EXPECT_EQ(gap, t50[i - 1] == 519 ? 19 : 20) << t50[i - 1];
        } else {
            EXPECT_EQ(gap, 20) << "after " << t50[i - 1];
        }
    }
    EXPECT_THROW(samplingTimesteps(0), InvalidArgument);
    EXPECT_THROW(samplingTimesteps(1001), InvalidArgument);
}

// Runs all steps of a fresh solver on zero tensors, recording each step's coefficients.
std::vector<SdeDpmSolver::Coefficients> coefficientsOfAScan(SdeDpmSolver& solver) {
    std::vector<SdeDpmSolver::Coefficients> out;
    const auto zero = torch::zeros({4, 3});
    solver.beginScan();
    for (int k = 0; k < static_cast<int>(solver.timesteps().size()); ++k) {
        out.push_back(solver.coefficients(k));
        solver.step(k, zero, zero, zero);
    }
    return out;
}

TEST(Sampler, EightStepCoefficientsMatchTheReferenceTable) {
    const NoiseSchedule schedule;
    SdeDpmSolver solver(schedule, 8);
    const auto c = coefficientsOfAScan(solver);
    // step: c_sample, c_x0, c_noise as printed (3 significant digits).
    const struct {
        int step;
        double sample, data, noise, tol;
    } table[] = {{0, 0.637, 0.150, 0.734, 6e-4},
                 {3, 0.616, 0.332, 0.553, 6e-4},
                 {6, 0.260, 0.739, 0.209, 6e-4},
                 {7, 0.00059, 0.99941, 0.0059, 6e-6}};
    for (const auto& row : table) {
        SCOPED_TRACE("step " + std::to_string(row.step));
        EXPECT_NEAR(c[row.step].sample, row.sample, row.tol);
        EXPECT_NEAR(c[row.step].data, row.data, row.tol);
        EXPECT_NEAR(c[row.step].noise, row.noise, row.tol * 10);
    }
    // First order at the first step and (lower_order_final, n < 15) at the last.
    EXPECT_FALSE(c[0].secondOrder);
    for (int k = 1; k < 7; ++k) EXPECT_TRUE(c[k].secondOrder) << k;
    EXPECT_FALSE(c[7].secondOrder);
    // With 50 steps the last step stays second order.
    SdeDpmSolver fifty(schedule, 50);
    EXPECT_TRUE(coefficientsOfAScan(fifty).back().secondOrder);
}

TEST(Sampler, OneStepGeneratorAmplifiesTheNetworkAsDerived) {
    const NoiseSchedule schedule;
    EXPECT_NEAR(schedule.sigma(999), 0.98518, 1e-5);
    EXPECT_NEAR(schedule.alpha(999), 0.17155, 1e-5);
    SdeDpmSolver solver(schedule, 1);
    const auto c = solver.coefficients(0);
    EXPECT_NEAR(c.sample, 6.2e-6, 1e-7);
    EXPECT_NEAR(c.data, 0.99998, 1e-5);
    EXPECT_NEAR(c.noise, 0.0059, 1e-4);
    // x0 ~ x_init + 5.829 eps_T - 5.743 eps_hat (+ 0.0059 z), with r = eps_T.
    const auto epsT = torch::tensor({1.0f, 0.0f, 0.0f}).view({1, 3});
    const auto epsHat = torch::tensor({0.0f, 1.0f, 0.0f}).view({1, 3});
    const auto out = solver.step(0, epsT, epsHat, torch::zeros({1, 3}));
    EXPECT_NEAR(out[0][0].item<float>(), 5.829, 1e-3);
    EXPECT_NEAR(out[0][1].item<float>(), -5.743, 1e-3);
    EXPECT_FLOAT_EQ(out[0][2].item<float>(), 0.0f);
}

TEST(Sampler, StepsFollowTheFirstAndSecondOrderUpdates) {
    const NoiseSchedule schedule;
    SdeDpmSolver solver(schedule, 8);
    torch::manual_seed(5);
    const auto r0 = torch::randn({50, 3}), e0 = torch::randn({50, 3}), z0 = torch::randn({50, 3});
    const auto c0 = solver.coefficients(0);
    const auto out0 = solver.step(0, r0, e0, z0);
    // Data prediction with sigma/alpha at t = 999, then r' = c_sample r + c_x0 d + c_noise z.
    const auto d0 = (r0 - schedule.sigma(999) * e0) / schedule.alpha(999);
    EXPECT_TRUE(torch::allclose(out0, c0.sample * r0 + c0.data * d0 + c0.noise * z0, 1e-5, 1e-5));

    const auto r1 = torch::randn({50, 3}), e1 = torch::randn({50, 3}), z1 = torch::randn({50, 3});
    const auto c1 = solver.coefficients(1);
    ASSERT_TRUE(c1.secondOrder);
    // r0 of the midpoint rule = (lambda_874 - lambda_999) / (lambda_749 - lambda_874).
    const double h = schedule.lambda(749) - schedule.lambda(874);
    const double h0 = schedule.lambda(874) - schedule.lambda(999);
    EXPECT_NEAR(c1.r0, h0 / h, 1e-5);
    EXPECT_NEAR(c1.difference, 0.5 * c1.data / (h0 / h), 1e-6);
    const auto out1 = solver.step(1, r1, e1, z1);
    const auto d1 = (r1 - schedule.sigma(874) * e1) / schedule.alpha(874);
    const auto expected = c1.sample * r1 + c1.data * d1 + c1.difference * (d1 - d0) + c1.noise * z1;
    EXPECT_TRUE(torch::allclose(out1, expected, 1e-5, 1e-5));
}

TEST(Sampler, CarriedStateContaminatesTheNextScanAsDerived) {
    const NoiseSchedule schedule;
    for (const auto& [steps, contamination, tol] :
         {std::tuple{8, -0.0103, 1e-4}, std::tuple{50, -1.8e-4, 1e-5}}) {
        SCOPED_TRACE(std::to_string(steps) + " steps");
        SdeDpmSolver carried(schedule, steps, /*carryOver=*/true);
        coefficientsOfAScan(carried);
        carried.beginScan();
        const auto c = carried.coefficients(0);
        EXPECT_TRUE(c.secondOrder);
        EXPECT_NEAR(c.difference, contamination, tol);

        SdeDpmSolver fresh(schedule, steps);
        coefficientsOfAScan(fresh);
        fresh.beginScan();
        EXPECT_FALSE(fresh.coefficients(0).secondOrder);
        EXPECT_EQ(fresh.coefficients(0).difference, 0.0f);
    }
}

}  // namespace
}  // namespace lidistill::ml::diffusion
