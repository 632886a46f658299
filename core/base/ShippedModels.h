#pragma once
// SPDX-License-Identifier: MIT
//
// Where the models this project trains and ships (resources/models/) are found at run time, so
// that `lidistill complete SCAN OUT` and the studio's completion panel work out of the box.

#include <filesystem>
#include <string>

namespace lidistill {

/// The file `name` (e.g. "lite-teacher.safetensors") of the shipped models, looked up in
/// $LIDISTILL_MODELS_DIR, then ../share/lidistill/models beside the running executable, then
/// the source tree's resources/models the build came from. Empty if none has it.
std::filesystem::path shippedModel(const std::string& name);

/// The shipped teacher (lite scale, with its refiner) and the Distillation-DPO student.
inline constexpr const char* kShippedTeacher = "lite-teacher.safetensors";
inline constexpr const char* kShippedStudent = "lite-student.safetensors";

}  // namespace lidistill
