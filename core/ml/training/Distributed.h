#pragma once
// SPDX-License-Identifier: MIT
//
// Data-parallel training across processes with PyTorch's own c10d (Gloo on the CPU), set up the
// way torchrun does it: a rank, a world size and the rendezvous address of rank 0. Every rank
// takes its own examples of a step, the gradients are averaged before the optimizer step, and
// buffers (batch-norm statistics) follow rank 0's, so all ranks hold the same networks; rank 0
// writes the run folder. Torch-free interface.

#include <memory>
#include <string>

namespace lidistill::ml {

struct DistributedOptions {
    int rank = 0;
    int worldSize = 1;
    std::string address = "127.0.0.1";  ///< rank 0's host (its TCP store)
    int port = 29500;
    double timeoutSeconds = 300;  ///< for the rendezvous and every collective
};

/// Whether this build has c10d Gloo (LIDISTILL_HAVE_GLOO).
bool distributedAvailable();

/// One process's membership of the group.
class ProcessGroup {
public:
    /// Joins (rank 0 serves the rendezvous); blocks until every rank has joined.
    /// @throws InvalidArgument for bad options or a build without Gloo; IoError when the
    ///         rendezvous fails (address, port, timeout).
    static std::shared_ptr<ProcessGroup> connect(const DistributedOptions& options);
    ~ProcessGroup();
    int rank() const noexcept;
    int size() const noexcept;
    /// True on every rank if it is true on any (a stop that every rank takes at the same step).
    bool anyTrue(bool local);

    struct Impl;
    Impl& impl() noexcept { return *m_impl; }

private:
    explicit ProcessGroup(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace lidistill::ml
