// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/ml/Model.h"
#include "core/ml/io/SafeTensors.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>

namespace lidistill::ml {
namespace {
}  // namespace
}  // namespace lidistill::ml
