// Runs a fuzz harness's LLVMFuzzerTestOneInput over stored inputs, as an ordinary test: every
// regular file of every directory named on the command line (a file may be named directly).
// A harness that crashes, aborts or lets an unexpected exception escape fails the test (the
// exception reaches std::terminate); a corpus directory that is missing or empty fails it too,
// except directories given after --optional (crash reproducers, which may be none).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  bool optional = false;
  std::size_t total = 0;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--optional") {
      optional = true;
      continue;
    }
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      files.push_back(arg);
    }
    if (files.empty() && !optional) {
      std::fprintf(stderr, "fuzz replay: %s is missing or holds no inputs\n", arg.c_str());
      return 1;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "fuzz replay: cannot read %s\n", f.c_str());
        return 1;
      }
      std::fprintf(stderr, "fuzz replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
      // A copy of exactly the input's size, so AddressSanitizer sees a read past its end.
      std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
      std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[std::max<std::size_t>(input.size(), 1)]);
      std::copy(input.begin(), input.end(), exact.get());
      LLVMFuzzerTestOneInput(exact.get(), input.size());
      ++total;
    }
  }
  std::printf("fuzz replay: %zu inputs, no crash\n", total);
  return 0;
}
