// SPDX-License-Identifier: MIT
// The memory budget for allocations a file sizes: the environment's value, and the refusal
// naming the file, what and the sizes (a scan reader as the example).
#include "core/base/Error.h"
#include "core/base/MemoryBudget.h"
#include "core/io/ScanIo.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace lidistill {
namespace {
namespace fs = std::filesystem;

struct BudgetEnv {
    explicit BudgetEnv(const char* value) { ::setenv("LIDISTILL_MEMORY_BUDGET", value, 1); }
    ~BudgetEnv() { ::unsetenv("LIDISTILL_MEMORY_BUDGET"); }
};

TEST(MemoryBudget, ComesFromTheEnvironmentWithUnits) {
    const std::uint64_t machine = memoryBudget();  // half the physical memory
    EXPECT_GT(machine, std::uint64_t{64} << 20);
    {
        BudgetEnv e("1K");
        EXPECT_EQ(memoryBudget(), 1024u);
    }
    {
        BudgetEnv e("12M");
        EXPECT_EQ(memoryBudget(), std::uint64_t{12} << 20);
    }
    {
        BudgetEnv e("5000");
        EXPECT_EQ(memoryBudget(), 5000u);
    }
    for (const char* junk : {"lots", "12Q", "0", "-3", "1KB", "99999999999999999999T"}) {
        BudgetEnv e(junk);
        EXPECT_EQ(memoryBudget(), machine) << junk;
    }
    EXPECT_EQ(budgetBytes(3, 7), 21u);
    EXPECT_EQ(budgetBytes(std::uint64_t{1} << 62, 8), UINT64_MAX);  // saturates, not wraps
}

TEST(MemoryBudget, RefusalNamesTheFileWhatAndSizes) {
    BudgetEnv e("1K");
    EXPECT_NO_THROW(checkMemoryBudget("a.bin", 1024, "the points"));
    try {
        checkMemoryBudget("a.bin", 3u << 20, "the points");
        FAIL();
    } catch (const IoError& err) {
        EXPECT_EQ(err.file(), fs::path("a.bin"));
        EXPECT_EQ(err.problem(),
                  "the points would need 3.0 MiB, more than the memory budget of 1.0 KiB "
                  "(corrupt file, or raise LIDISTILL_MEMORY_BUDGET)");
    }
    // A reader refuses before reading: a 2 KiB scan under a 1 KiB budget.
    const fs::path f = fs::temp_directory_path() / ("lidistill_budget_" +
                                                    std::to_string(::getpid()) + ".bin");
    std::ofstream(f, std::ios::binary) << std::string(2048, '\0');
    try {
        io::readKittiBin(f);
        FAIL();
    } catch (const IoError& err) {
        EXPECT_EQ(err.file(), f);
        EXPECT_NE(err.problem().find("2.0 KiB, more than the memory budget"), std::string::npos)
            << err.what();
    }
    fs::remove(f);
}

}  // namespace
}  // namespace lidistill
