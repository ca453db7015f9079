// DistributedDataParallel: the same model on every process, each on its own shard of the
// batches; gradients averaged across processes during backward, so every process takes the
// same optimizer step (PyTorch's torch.nn.parallel.DistributedDataParallel).
//
//   distributed::DistributedDataParallel ddp(net);   // net: std::shared_ptr<nn::Module>
//   optim::SGD opt(ddp.parameters(), {.lr = 0.01});
//   for (auto [x, y] : loader) {                     // loader: a DistributedSampler's shard
//     opt.zero_grad();
//     F::cross_entropy(ddp(x), y).backward();        // returns with averaged gradients
//     opt.step();
//   }
//
// How: the constructor compares every rank's parameter and buffer names, shapes and dtypes (a
// tg::Error on every rank naming the first difference) and broadcasts rank 0's values. The
// parameters are grouped into buckets of about bucket_cap_mb, in their dtype (float32 or float64:
// they must share one), in reverse registration order (roughly the order backward produces
// gradients). A hook run after each parameter's .grad() is accumulated copies it into its bucket's
// flat buffer; a full bucket starts a non-blocking all-reduce (MPI_Iallreduce) while backward goes
// on, buckets always started in the same order on every rank. At the end of backward (autograd's
// queue_callback) the remaining buckets start, all are waited for, and .grad() becomes the mean
// over the ranks.
//
// Deviations from PyTorch: it is a wrapper with a module's calls, not an nn::Module itself;
// parameters(), state_dict() and load_state_dict() are the wrapped module's, without
// PyTorch's "module." prefix, so a checkpoint loads into a plain model and
// into a wrapped one alike. A parameter that got no gradient on some rank counts as a zero
// gradient there (PyTorch needs find_unused_parameters=True for that). Gradients must not be
// recorded (no create_graph under DDP). An exception during a synchronised backward leaves the
// ranks out of step: treat it as fatal (distributed::run aborts the job).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/nn/module.h>

namespace tg::distributed {

struct DistributedDataParallelOptions {
  /// Bucket size in MiB (PyTorch's default 25; LeNet's 62,006 parameters fit one): in
  /// bytes, so a float64 bucket holds half as many values.
  double bucket_cap_mb = 25;
  /// Copy rank 0's buffers (BatchNorm's running statistics) to every rank before each
  /// forward, as PyTorch's broadcast_buffers.
  bool broadcast_buffers = true;
};

class DistributedDataParallel {
 public:
  /// Wraps `module` (which must live on every rank with the same parameters, all trained ones
  /// of one dtype: convert it with .to() before wrapping); collective: every rank constructs
  /// its wrapper at the same point of the program.
  explicit DistributedDataParallel(std::shared_ptr<nn::Module> module,
                                   DistributedDataParallelOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(DistributedDataParallel&&) noexcept;
  DistributedDataParallel& operator=(DistributedDataParallel&&) noexcept;

  /// The wrapped module's forward (after the buffer broadcast, if on).
  Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }
  /// The wrapped module (PyTorch's ddp.module).
  nn::Module& module() const { return *module_; }
  std::vector<Tensor> parameters() const { return module_->parameters(); }
  std::vector<std::pair<std::string, Tensor>> named_parameters() const {
    return module_->named_parameters();
  }
  StateDict state_dict() const { return module_->state_dict(); }
  void load_state_dict(const StateDict& dict, bool strict = true) {
    module_->load_state_dict(dict, strict);
  }
  void train(bool on = true) { module_->train(on); }
  void eval() { module_->eval(); }
  void zero_grad() { module_->zero_grad(); }
  /// The parameters in each bucket, as indices into parameters() (in launch order).
  std::vector<std::vector<size_t>> bucket_indices() const;
  /// How the last synchronised backward went: buckets whose all-reduce started during
  /// backward (overlapping it), and those started only at its end (a parameter without a
  /// gradient on this rank holds its bucket back).
  struct BackwardStats {
    size_t started_during_backward = 0, started_at_end = 0;
  };
  BackwardStats last_backward_stats() const;

  /// While the guard lives, backward only accumulates into .grad() locally (no
  /// communication); the next backward outside it averages the accumulated sums.
  /// PyTorch's `with ddp.no_sync():`.
  class NoSyncGuard {
   public:
    ~NoSyncGuard();
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    friend class DistributedDataParallel;
    explicit NoSyncGuard(DistributedDataParallel& ddp);
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  /// `{ auto guard = ddp.no_sync(); loss.backward(); }`
  [[nodiscard]] NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  struct Reducer;  // the buckets and their requests (ddp.cpp)

 private:
  std::shared_ptr<nn::Module> module_;
  DistributedDataParallelOptions options_;
  std::unique_ptr<Reducer> reducer_;
};

}  // namespace tg::distributed
