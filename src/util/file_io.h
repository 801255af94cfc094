// Whole-file reads and crash-safe writes. An output file is either absent, the old
// version, or complete: it is written to a temp file in the same folder, fsync'ed and
// renamed over the target (rename is atomic within one file system).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace sg {

std::string read_file(const std::string& path);  // error names the file and errno text

// Streams bytes into "<path>.tmp.<pid>", then commit() fsyncs and renames it to path.
// Destroyed without commit() (e.g. by an exception), the temp file is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  void write_at(uint64_t offset, const void* data, size_t bytes);  // e.g. a header written last
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace sg
