// SPDX-License-Identifier: MIT
// The `lidistill` command line: everything the studio does, headless.
#include "core/cli/Cli.h"

int main(int argc, char** argv) {
    return lidistill::cli::run(argc, argv);
}
