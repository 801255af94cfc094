#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "train/safetensors.h"
#include "util/error.h"

namespace sg {

namespace {
std::string os_error() { return std::strerror(errno); }
}  // namespace

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    SG_CHECK(w > 0, path, ": write failed: ", os_error());
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void write_file_atomic_with(const std::string& path, const std::function<void(int fd)>& fill) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SG_CHECK(fd >= 0, tmp, ": cannot create: ", os_error());
  try {
    fill(fd);
    SG_CHECK(::fsync(fd) == 0, tmp, ": fsync failed: ", os_error());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const std::string why = os_error();
    ::unlink(tmp.c_str());
    fail(tmp, ": close failed: ", why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = os_error();
    ::unlink(tmp.c_str());
    fail(path, ": cannot rename ", tmp, " into place: ", why);
  }
  // The rename is durable only once the folder entry is on disk.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  SG_CHECK(dfd >= 0, dir, ": cannot open folder to fsync: ", os_error());
  const int rc = ::fsync(dfd);
  const std::string why = os_error();
  ::close(dfd);
  SG_CHECK(rc == 0, dir, ": fsync of folder failed: ", why);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic_with(path, [&](int fd) { write_all(fd, bytes.data(), bytes.size(), path); });
}

}  // namespace sg
