// all_reduce, broadcast and all_gather_strings on MPI_COMM_WORLD, each call's size and dtype
// checked on every rank before the data moves.
#include <tapegrad/distributed/collectives.h>

#include <cstdint>

#include <tapegrad/distributed/detail/mpi_call.h>
#include <tapegrad/distributed/environment.h>

namespace tg::distributed {

namespace {

// The tensor's data for an in-place collective, after checking that every rank passes the
// same number of elements of the same dtype (an MPI collective with different counts or types
// is undefined behaviour: a hang or a corrupted buffer).
void* checked_data(const Tensor& tensor, const char* op, MPI_Comm comm) {
  check(tensor.defined(), "{}: the tensor is undefined", op);
  check(tensor.is_contiguous(),
        "{}: the tensor of shape {} is not contiguous; hint: pass "
        "t.contiguous() and copy the result back",
        op, tensor.shape());
  int64_t mine = tensor.numel(), kind = int64_t(tensor.dtype());
  int64_t range[4] = {mine, -mine, kind, -kind};  // maxima and -minima in one call
  detail::mpi_call(MPI_Allreduce(MPI_IN_PLACE, range, 4, MPI_INT64_T, MPI_MAX, comm), op);
  check(range[0] == -range[1],
        "{}: the ranks pass tensors of different sizes, from {} to {} "
        "elements (rank {}: shape {})",
        op, -range[1], range[0], rank(), tensor.shape());
  check(range[2] == -range[3],
        "{}: the ranks pass tensors of different dtypes, {} and {} (rank {}: {})",
        op, Dtype(-range[3]), Dtype(range[2]), rank(), tensor.dtype());
  check(mine <= INT32_MAX, "{}: {} elements are more than one MPI call can move ({})", op, mine,
        INT32_MAX);
  return tensor.raw_data();
}

}  // namespace

void all_reduce(const Tensor& tensor, ReduceOp op) {
  MPI_Comm comm = detail::world("all_reduce");
  void* data = checked_data(tensor, "all_reduce", comm);
  // Checked after the ranks agreed on the dtype, so that all of them refuse.
  check(op != ReduceOp::Mean || tensor.is_floating_point(),
        "all_reduce: Mean needs a float tensor, got int64 (an integer mean would be rounded); "
        "hint: reduce with Sum and divide, or convert with .to(tg::kFloat64)");
  MPI_Op mpi_op = op == ReduceOp::Max ? MPI_MAX : op == ReduceOp::Min ? MPI_MIN : MPI_SUM;
  int count = int(tensor.numel());
  detail::mpi_call(MPI_Allreduce(MPI_IN_PLACE, data, count, detail::mpi_type(tensor.dtype()),
                                 mpi_op, comm),
                   "all_reduce");
  if (op == ReduceOp::Mean)
    dispatch_floating(tensor.dtype(), "all_reduce", [&]<typename T>(std::type_identity<T>) {
      T* x = static_cast<T*>(data);
      T scale = T(1) / T(world_size());
      for (int i = 0; i < count; ++i) x[i] *= scale;
    });
  tensor.bump_version();
}

void broadcast(const Tensor& tensor, int root) {
  MPI_Comm comm = detail::world("broadcast");
  int n = world_size();
  check(root >= 0 && root < n, "broadcast: root {} is not a rank of a world of size {}", root, n);
  void* data = checked_data(tensor, "broadcast", comm);
  detail::mpi_call(
      MPI_Bcast(data, int(tensor.numel()), detail::mpi_type(tensor.dtype()), root, comm),
      "broadcast");
  tensor.bump_version();
}

std::vector<std::string> all_gather_strings(const std::string& text) {
  MPI_Comm comm = detail::world("all_gather_strings");
  int n = world_size();
  check(text.size() <= INT32_MAX / size_t(n), "all_gather_strings: {} bytes is too long",
        text.size());
  int mine = int(text.size());
  std::vector<int> sizes(static_cast<size_t>(n)), offsets(static_cast<size_t>(n));
  detail::mpi_call(MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm),
                   "all_gather_strings");
  int64_t total = 0;
  for (int r = 0; r < n; ++r) offsets[size_t(r)] = int(total), total += sizes[size_t(r)];
  check(total <= INT32_MAX, "all_gather_strings: {} bytes in all is too long", total);
  std::string all(size_t(total), '\0');
  detail::mpi_call(MPI_Allgatherv(text.data(), mine, MPI_CHAR, all.data(), sizes.data(),
                                  offsets.data(), MPI_CHAR, comm),
                   "all_gather_strings");
  std::vector<std::string> out;
  for (int r = 0; r < n; ++r)
    out.push_back(all.substr(size_t(offsets[size_t(r)]), size_t(sizes[size_t(r)])));
  return out;
}

}  // namespace tg::distributed
