// Atomic file replacement: write "<path>.tmp.<pid>" in the same folder, fsync it, rename
// it over path, fsync the folder. A crash leaves either the old file or the new one.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace sg {

// `fill` writes the content through write_all(fd, ...); on any error the temp file is
// removed and sg::Error names the path and the OS reason.
void write_file_atomic_with(const std::string& path, const std::function<void(int fd)>& fill);

// write(2) until all n bytes are written; `path` is for the error message.
void write_all(int fd, const void* data, size_t n, const std::string& path);

}  // namespace sg
