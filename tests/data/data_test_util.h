// Helpers for the data tests: a self-deleting temp folder and tiny generated corpora.
#pragma once
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "util/file_io.h"
#include "util/strings.h"

namespace sg::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sgatlin_data_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `n` paragraphs of pseudo-English from a fixed word list, single spaces, separated by
// blank lines; enough varied text for a small BPE vocabulary.
inline std::vector<std::string> tiny_paragraphs(int n, uint32_t seed) {
  static const char* words[] = {"the",    "cat",    "sat",    "on",    "a",     "warm",   "mat",
                                "and",    "dog",    "ran",    "to",    "river", "little", "girl",
                                "found",  "shiny",  "stone",  "under", "old",   "tree",   "they",
                                "were",   "happy",  "played", "all",   "day",   "sun",    "went",
                                "down",   "mother", "called", "home",  "bird",  "sang",   "song",
                                "friend", "Tom",    "Lily",   "big",   "red",   "ball",   "jumped"};
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> word(0, sizeof words / sizeof *words - 1), len(4, 12),
      lines(1, 3);
  std::vector<std::string> out;
  for (int p = 0; p < n; ++p) {
    std::string para;
    const int nl = lines(gen);
    for (int l = 0; l < nl; ++l) {
      if (l) para += '\n';
      const int nw = len(gen);
      for (int w = 0; w < nw; ++w) {
        if (w) para += ' ';
        para += words[word(gen)];
      }
      para += '.';
    }
    out.push_back(para);
  }
  return out;
}

// doctest::Contains for a std::string (it only takes doctest::String).
inline doctest::Contains has(const std::string& s) { return doctest::Contains(s.c_str()); }

using sg::join;

// Runs a shell command, returns its exit code and stdout+stderr.
inline int run(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Like run, but `output` holds standard output alone (for commands that print JSON while
// writing notes to stderr).
inline int run_stdout(const std::string& cmd, std::string* output) {
  return run("{ " + cmd + " 2>/dev/null; }", output);
}

}  // namespace sg::test
