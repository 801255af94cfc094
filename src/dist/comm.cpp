#include "dist/comm.h"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace sg::dist {

namespace {
int g_rank = 0, g_size = 1;              // the active scope
int g_world_rank = 0, g_world_size = 1;  // the job
bool g_initialised = false;
}  // namespace

void check(int mpi_code, const char* what) {
  if (mpi_code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(mpi_code, text, &len);
  fail("MPI ", what, " failed on rank ", g_rank, ": ", std::string(text, len),
       " (another rank probably died; see its message above)");
}

// Started by mpirun/mpiexec (OpenMPI, MPICH/Hydra) or srun with a PMI/PMIx plugin.
// Without a launcher MPI is not initialised at all: OpenMPI's singleton init would
// spawn a helper daemon found through PATH, slow every command and fail in a bare
// environment.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

void init(int* argc, char*** argv) {
  if (g_initialised || !launched_by_mpi()) return;
  // A rank waiting for the others yields its core instead of spinning: on a machine
  // with more runnable threads than cores the spinning stole time from the ranks still
  // computing (docs/PERFORMANCE.md, data-parallel). An explicit setting wins.
  setenv("OMPI_MCA_mpi_yield_when_idle", "1", /*overwrite=*/0);
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_world_rank = g_rank;
  g_world_size = g_size;
  g_initialised = true;
}

void finalize() {
  if (g_initialised) MPI_Finalize();
  g_initialised = false;
}

int rank() { return g_rank; }
int size() { return g_size; }
bool is_root() { return g_rank == 0; }

SoloScope::SoloScope() : rank_(g_rank), size_(g_size) {
  g_rank = 0;
  g_size = 1;
}

SoloScope::~SoloScope() {
  g_rank = rank_;
  g_size = size_;
}

int world_rank() { return g_world_rank; }
int world_size() { return g_world_size; }

void world_barrier() {
  if (g_world_size > 1) check(MPI_Barrier(MPI_COMM_WORLD), "Barrier");
}

std::vector<double> sum_in_rank_order(const std::vector<double>& local) {
  if (g_size == 1) return local;
  const size_t n = local.size();
  std::vector<double> all(n * g_size);
  check(MPI_Allgather(local.data(), static_cast<int>(n), MPI_DOUBLE, all.data(),
                      static_cast<int>(n), MPI_DOUBLE, MPI_COMM_WORLD),
        "Allgather");
  std::vector<double> sum(all.begin(), all.begin() + n);
  for (int r = 1; r < g_size; ++r)
    for (size_t i = 0; i < n; ++i) sum[i] += all[r * n + i];
  return sum;
}

double sum_in_rank_order(double local) { return sum_in_rank_order(std::vector<double>{local})[0]; }

bool any(bool flag) {
  if (g_size == 1) return flag;
  int in = flag ? 1 : 0, out = 0;
  check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD), "Allreduce");
  return out != 0;
}

std::string broadcast(const std::string& s) {
  if (g_size == 1) return s;
  int64_t n = static_cast<int64_t>(s.size());
  check(MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "Bcast");
  std::string out = g_rank == 0 ? s : std::string(n, '\0');
  check(MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD), "Bcast");
  return out;
}

void abort_all(const std::string& message, int code) {
  if (g_world_size > 1) {
    std::fprintf(stderr, "error (rank %d of %d): %s\n", g_world_rank, g_world_size,
                 message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  std::fprintf(stderr, "error: %s\n", message.c_str());
  finalize();  // mpirun -np 1 reports a rank that exits without it as a crash
  std::exit(code);
}

}  // namespace sg::dist
