#include "train/stop_signal.h"

#include <unistd.h>

#include <csignal>

namespace sg {

namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_old_term, g_old_int;

void on_signal(int sig) {
  if (g_signal != 0) {  // second signal: the user means it
    constexpr char msg[] = "\nsecond signal: exiting now, without a checkpoint\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(128 + sig);
  }
  g_signal = sig;
  constexpr char msg[] = "\nsignal received: stopping after this step (send again to exit now)\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
}

}  // namespace

StopSignals::StopSignals() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGINT, &sa, &g_old_int);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGINT, &g_old_int, nullptr);
}

bool StopSignals::requested() { return g_signal != 0; }

const char* StopSignals::name() {
  return g_signal == SIGINT ? "SIGINT" : g_signal == SIGTERM ? "SIGTERM" : "no signal";
}

}  // namespace sg
