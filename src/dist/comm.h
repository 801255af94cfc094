// The MPI world this process belongs to. Every rank count is launched by mpirun/srun;
// started without one, the process is a world of one and runs exactly as before.
// Reductions here sum in rank order 0, 1, ..., R-1 whatever the arrival timing, so a
// result never depends on scheduling (the determinism contract of docs/DISTRIBUTED.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg::dist {

// MPI_Init_thread when started by an MPI launcher (funneled: only the main thread calls
// MPI; OpenMP threads never do); otherwise nothing, and this process is a world of one.
// Installs an error handler that returns codes instead of aborting, so failures carry
// context. Safe to call once per process; finalize() at normal exit.
void init(int* argc, char*** argv);
void finalize();

int rank();
int size();
bool is_root();  // rank 0: the only rank that writes files and prints progress

// Elementwise sum over ranks of a small double vector, added in rank order.
std::vector<double> sum_in_rank_order(const std::vector<double>& local);
double sum_in_rank_order(double local);
// True on every rank when `flag` is true on any rank (stop on NaN, on a signal).
bool any(bool flag);
// Rank 0's string on every rank.
std::string broadcast(const std::string& s);

// While alive, this rank is a world of one for everything above (a sweep trains one
// whole run per rank): size() is 1, rank() 0, and no collective touches the others.
class SoloScope {
 public:
  SoloScope();
  ~SoloScope();
  SoloScope(const SoloScope&) = delete;
  SoloScope& operator=(const SoloScope&) = delete;

 private:
  int rank_, size_;
};

// The rank and rank count of the job, whatever scope is active (sweep scheduling).
int world_rank();
int world_size();
// Waits for every rank of the job.
void world_barrier();

// Ends the whole job from any rank after printing `message` (prefixed with the rank):
// the others are killed by mpirun, so nothing hangs on a collective that will never
// complete. Without MPI peers it just exits.
[[noreturn]] void abort_all(const std::string& message, int code);

// Throws sg::Error naming the call when an MPI function returned an error code.
void check(int mpi_code, const char* what);

}  // namespace sg::dist
