// Collectives on tensors across the processes of the job, in place, as torch.distributed's:
// every process calls the same collectives in the same order with tensors of the same size.
// The sizes and dtypes are compared first (one tiny all-reduce), so a mismatch is a tg::Error
// on every rank rather than a hang or a corrupted buffer. Tensors must be contiguous, of any
// dtype (float32, float64 or int64: MPI_FLOAT, MPI_DOUBLE, MPI_INT64_T; nothing is converted).
#pragma once

#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::distributed {

/// How all_reduce combines the processes' values (torch.distributed.ReduceOp; Mean is
/// PyTorch's AVG: the sum times 1 / world_size(), for float tensors only: on int64 it is a
/// tg::Error, as NCCL's AVG refuses integers, rather than a silently truncated mean).
enum class ReduceOp { Sum, Mean, Max, Min };

/// Replaces `tensor`'s values on every rank by their elementwise Sum/Mean/Max/Min over the
/// ranks. torch.distributed.all_reduce. Not recorded on the tape.
void all_reduce(const Tensor& tensor, ReduceOp op = ReduceOp::Sum);
/// Copies rank `root`'s values of `tensor` into every rank's. torch.distributed.broadcast.
void broadcast(const Tensor& tensor, int root = 0);
/// Every rank's `text`, in rank order, on every rank (torch.distributed.all_gather_object
/// for strings; DistributedDataParallel compares the model descriptions with it).
std::vector<std::string> all_gather_strings(const std::string& text);

}  // namespace tg::distributed
