// Inside the distributed library only (never installed): MPI's C API behind two helpers, so
// that every call's return code becomes a tg::Error naming the op (the communicator is set
// to MPI_ERRORS_RETURN by Environment, so MPI reports errors instead of aborting).
#pragma once

#define OMPI_SKIP_MPICXX 1  // the C API only (the C++ bindings are deprecated and warn)
#include <mpi.h>

#include <string>

#include <tapegrad/core/dtype.h>
#include <tapegrad/core/error.h>

namespace tg::distributed::detail {

/// Throws tg::Error "<op>: MPI error: <MPI's text>" unless rc is MPI_SUCCESS.
inline void mpi_call(int rc, const char* op) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  fail("{}: MPI error {}: {}", op, rc, std::string(text, size_t(length)));
}

/// MPI's type for a tensor's elements: MPI_FLOAT, MPI_DOUBLE or MPI_INT64_T.
inline MPI_Datatype mpi_type(Dtype dtype) {
  return dtype == kFloat32 ? MPI_FLOAT : dtype == kFloat64 ? MPI_DOUBLE : MPI_INT64_T;
}

/// The communicator every collective uses, after checking that MPI is running.
MPI_Comm world(const char* op);

}  // namespace tg::distributed::detail
