// DistributedDataParallel: the model check and broadcast at construction, then the Reducer,
// which fills buckets from post-accumulate-grad hooks, starts their all-reduces in a fixed
// order, and at the end of backward waits for them and writes the averaged gradients back.
#include <tapegrad/distributed/ddp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/hooks.h>
#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/detail/mpi_call.h>
#include <tapegrad/distributed/environment.h>

namespace tg::distributed {

namespace {

// One line per parameter and buffer: what every rank must agree on.
std::vector<std::string> describe(const nn::Module& module) {
  std::vector<std::string> lines;
  for (const auto& [name, p] : module.named_parameters())
    lines.push_back(fmt::format("parameter '{}' of shape {} ({})", name, p.shape(), p.dtype()));
  for (const auto& [name, b] : module.named_buffers())
    lines.push_back(fmt::format("buffer '{}' of shape {} ({})", name, b.shape(), b.dtype()));
  return lines;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Every rank sees every rank's description, so every rank throws the same error.
void check_same_model(const nn::Module& module) {
  std::string mine = fmt::format("{}\n", fmt::join(describe(module), "\n"));
  std::vector<std::string> all = all_gather_strings(mine);
  std::vector<std::string> reference = split_lines(all[0]);
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r] == all[0]) continue;
    std::vector<std::string> other = split_lines(all[r]);
    size_t k = 0;
    while (k < other.size() && k < reference.size() && other[k] == reference[k]) ++k;
    auto at = [k](const std::vector<std::string>& lines) {
      return k < lines.size() ? lines[k] : std::string("nothing (no more parameters or buffers)");
    };
    fail(
        "DistributedDataParallel: the model on rank {} differs from rank 0's: entry {} is {} "
        "on rank {} but {} on rank 0 ({} vs {} parameters and buffers); hint: build the same "
        "model on every process",
        r, k, at(other), r, at(reference), other.size(), reference.size());
  }
}

// The parameters that are trained, after checking that they share one dtype (the buckets'):
// the same result on every rank, since check_same_model has run.
std::vector<Tensor> trained_parameters(const nn::Module& module) {
  std::vector<Tensor> out;
  std::string first;  // out[0]'s name, for the error
  for (const auto& [name, p] : module.named_parameters()) {
    if (!p.requires_grad()) continue;
    if (out.empty())
      first = name;
    else
      check(p.dtype() == out[0].dtype(),
            "DistributedDataParallel: the parameters mix dtypes: '{}' is {} but '{}' is {}; "
            "hint: convert the whole model with .to(tg::kFloat32) or .to(tg::kFloat64)",
            first, out[0].dtype(), name, p.dtype());
    out.push_back(p);
  }
  return out;
}

// Copies rank 0's buffers of `dtype` to every rank in one broadcast, packed into one flat
// tensor: a step pays one latency per dtype, not one per buffer.
void broadcast_packed(std::vector<Tensor>& buffers, Dtype dtype) {
  int64_t total = 0;
  for (const Tensor& b : buffers)
    if (b.dtype() == dtype) total += b.numel();
  if (total == 0) return;  // the same on every rank: check_same_model compared the buffers
  Tensor flat = empty({total}, {.dtype = dtype});
  int64_t offset = 0;
  for (const Tensor& b : buffers) {
    if (b.dtype() != dtype) continue;
    flat.narrow(0, offset, b.numel()).copy_(b.reshape({b.numel()}));
    offset += b.numel();
  }
  broadcast(flat, 0);
  offset = 0;
  for (Tensor& b : buffers) {
    if (b.dtype() != dtype) continue;
    b.copy_(flat.narrow(0, offset, b.numel()).reshape(b.shape()));
    offset += b.numel();
  }
}

}  // namespace

// The buckets of one wrapper and the state of the backward in progress.
struct DistributedDataParallel::Reducer {
  struct Slot {
    size_t param;
    size_t offset;
  };
  struct Bucket {
    std::vector<Slot> slots;
    size_t numel = 0;
    Tensor buffer;  // flat, in the parameters' dtype: the gradients, then their sum
    size_t ready = 0;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  std::vector<Tensor> params;                    // those that require grad
  Dtype dtype = kFloat32;                        // theirs (they share one)
  std::vector<std::pair<size_t, size_t>> where;  // param -> (bucket, slot)
  std::vector<char> seen;                        // its hook ran in this backward
  std::vector<Bucket> buckets;
  std::vector<HookHandle> hooks;
  size_t next_launch = 0;  // buckets start in index order on every rank
  bool armed = false;      // a backward is running and finish() is queued
  bool sync = true;        // false inside no_sync()
  BackwardStats stats, last_stats;
  MPI_Comm comm = MPI_COMM_NULL;
  int world = 1;

  Reducer(std::vector<Tensor> trained, double cap_mb) : params(std::move(trained)) {
    comm = detail::world("DistributedDataParallel");
    world = world_size();
    if (!params.empty()) dtype = params[0].dtype();
    // In elements: a float64 bucket holds half as many as a float32 one (PyTorch's cap is in
    // bytes too).
    size_t cap = size_t(std::max(1.0, cap_mb * 1024 * 1024 / double(element_size(dtype))));
    where.resize(params.size());
    seen.assign(params.size(), 0);
    for (size_t i = params.size(); i-- > 0;) {  // backward reaches the last layers first
      if (buckets.empty() || buckets.back().numel >= cap) buckets.emplace_back();
      Bucket& b = buckets.back();
      where[i] = {buckets.size() - 1, b.slots.size()};
      b.slots.push_back({i, b.numel});
      b.numel += size_t(params[i].numel());
    }
    for (Bucket& b : buckets) {
      check(b.numel <= size_t(INT32_MAX),
            "DistributedDataParallel: a bucket of {} "
            "elements is more than one MPI call can move; hint: a smaller bucket_cap_mb",
            b.numel);
      b.buffer = empty({int64_t(b.numel)}, {.dtype = dtype});
    }
    for (size_t i = 0; i < params.size(); ++i)
      hooks.push_back(
          params[i].register_post_accumulate_grad_hook([this, i](const Tensor&) { on_grad(i); }));
  }

  ~Reducer() {
    for (HookHandle& h : hooks) h.remove();
  }

  bool in_flight() const {
    return std::any_of(buckets.begin(), buckets.end(),
                       [](const Bucket& b) { return b.request != MPI_REQUEST_NULL; });
  }

  // Copies parameter i's current gradient (or zeros, if it has none) into its bucket.
  void fill(size_t i) {
    check(params[i].dtype() == dtype,
          "DistributedDataParallel: the model became {} after it was wrapped (its buckets are "
          "{}); hint: convert it with .to() before wrapping it",
          params[i].dtype(), dtype);
    auto [bucket, slot] = where[i];
    Bucket& b = buckets[bucket];
    size_t bytes = element_size(dtype);
    char* out = static_cast<char*>(b.buffer.raw_data()) + bytes * b.slots[slot].offset;
    bytes *= size_t(params[i].numel());
    Tensor g = params[i].grad();
    if (!g.defined()) {
      std::memset(out, 0, bytes);  // all bits zero is 0.0 in float32 and float64
      return;
    }
    g = g.contiguous();
    std::memcpy(out, g.raw_data(), bytes);
  }

  void on_grad(size_t i) {
    if (!sync || seen[i]) return;
    check(!params[i].grad().requires_grad(),
          "DistributedDataParallel: a recorded gradient "
          "(create_graph) cannot be averaged across processes");
    fill(i);  // it may refuse too: before arming, so that the wrapper stays usable
    if (!armed) {
      armed = true;
      queue_callback([this] { finish(); });
    }
    seen[i] = 1;
    ++buckets[where[i].first].ready;
    while (next_launch < buckets.size() &&
           buckets[next_launch].ready == buckets[next_launch].slots.size())
      launch(buckets[next_launch++]), ++stats.started_during_backward;
    progress();
  }

  void launch(Bucket& b) {
    detail::mpi_call(MPI_Iallreduce(MPI_IN_PLACE, b.buffer.raw_data(), int(b.numel),
                                    detail::mpi_type(dtype), MPI_SUM, comm, &b.request),
                     "DistributedDataParallel");
  }

  // Open MPI moves a non-blocking collective forward only inside MPI calls: test the ones
  // in flight whenever a hook runs.
  void progress() {
    for (Bucket& b : buckets) {
      if (b.request == MPI_REQUEST_NULL) continue;
      int done = 0;
      detail::mpi_call(MPI_Test(&b.request, &done, MPI_STATUS_IGNORE), "DistributedDataParallel");
    }
  }

  // End of backward: start what is left (unused parameters count as zeros), wait for every
  // bucket, and write the means back into .grad().
  void finish() {
    armed = false;
    for (; next_launch < buckets.size(); ++next_launch) {
      Bucket& b = buckets[next_launch];
      for (const Slot& s : b.slots)
        if (!seen[s.param]) fill(s.param);
      launch(b), ++stats.started_at_end;
    }
    for (Bucket& b : buckets)
      detail::mpi_call(MPI_Wait(&b.request, MPI_STATUS_IGNORE), "DistributedDataParallel");
    dispatch_floating(dtype, "DistributedDataParallel", [&]<typename T>(std::type_identity<T>) {
      T scale = T(1) / T(world);
      for (Bucket& b : buckets) {
        for (const Slot& s : b.slots) {
          const Tensor& p = params[s.param];
          Tensor g = empty(p.shape(), {.dtype = dtype});
          const T* in = b.buffer.data_ptr<T>() + s.offset;
          T* out = g.data_ptr<T>();
          for (int64_t k = 0; k < p.numel(); ++k) out[k] = in[k] * scale;
          p.set_grad(g);
        }
        b.ready = 0;
      }
    });
    next_launch = 0;
    std::fill(seen.begin(), seen.end(), 0);
    last_stats = std::exchange(stats, BackwardStats{});
  }
};

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module,
                                                 DistributedDataParallelOptions options)
    : module_(std::move(module)), options_(options) {
  check(module_ != nullptr, "DistributedDataParallel: the module is null");
  check(options_.bucket_cap_mb > 0,
        "DistributedDataParallel: bucket_cap_mb must be positive, "
        "got {}",
        options_.bucket_cap_mb);
  detail::world("DistributedDataParallel");
  check_same_model(*module_);
  std::vector<Tensor> trained = trained_parameters(*module_);
  {
    NoGradGuard no_grad;
    for (const Tensor& p : module_->parameters()) broadcast(p, 0);
    for (const Tensor& b : module_->buffers()) broadcast(b, 0);
  }
  reducer_ = std::make_unique<Reducer>(std::move(trained), options_.bucket_cap_mb);
}

DistributedDataParallel::~DistributedDataParallel() {
  // A backward that threw may have left all-reduces in flight, writing into the buckets:
  // their memory must outlive them, so it is leaked rather than freed under MPI's feet.
  if (reducer_ && reducer_->in_flight()) {
    for (HookHandle& h : reducer_->hooks) h.remove();
    (void)reducer_.release();
  }
}

DistributedDataParallel::DistributedDataParallel(DistributedDataParallel&&) noexcept = default;
DistributedDataParallel& DistributedDataParallel::operator=(DistributedDataParallel&&) noexcept =
    default;

Tensor DistributedDataParallel::forward(const Tensor& input) {
  std::vector<Tensor> buffers = module_->buffers();
  if (options_.broadcast_buffers && reducer_->world > 1 && !buffers.empty()) {
    NoGradGuard no_grad;
    for (Dtype dtype : {kFloat32, kFloat64, kInt64}) broadcast_packed(buffers, dtype);
  }
  return module_->forward(input);
}

std::vector<std::vector<size_t>> DistributedDataParallel::bucket_indices() const {
  std::vector<std::vector<size_t>> out;
  std::vector<Tensor> all = module_->parameters();
  for (const Reducer::Bucket& b : reducer_->buckets) {
    out.emplace_back();
    for (const Reducer::Slot& s : b.slots) {
      const Tensor& p = reducer_->params[s.param];
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Tensor& q) { return q.impl() == p.impl(); });
      out.back().push_back(size_t(it - all.begin()));
    }
  }
  return out;
}

DistributedDataParallel::BackwardStats DistributedDataParallel::last_backward_stats() const {
  return reducer_->last_stats;
}

DistributedDataParallel::NoSyncGuard::NoSyncGuard(DistributedDataParallel& ddp)
    : ddp_(ddp), previous_(ddp.reducer_->sync) {
  ddp.reducer_->sync = false;
}
DistributedDataParallel::NoSyncGuard::~NoSyncGuard() { ddp_.reducer_->sync = previous_; }

}  // namespace tg::distributed
