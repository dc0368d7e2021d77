// Runs before anything else of a program (a constructor of the first priority a program may use):
// a build made for the CPU of the machine that built it (-march=native, the default) that starts
// on a CPU lacking some of those extensions (a cluster's older nodes, another vendor's) stops with
// a message naming them, exit status 2, instead of dying of an illegal instruction somewhere
// later. This file is compiled for the x86-64 baseline whatever the build's -march
// (src/core/CMakeLists.txt) and calls only C functions: an inline C++ function could be linked
// from another file's copy, built for what is being checked.
#if defined(__x86_64__)
#include <errno.h>  // program_invocation_short_name
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern "C" const char* const aesweep_built_for[];  // built_for.cpp

namespace {

struct Feature {
  const char* name;
  int (*supported)();
};

// Every name built_for.cpp may list and this compiler can test (clang 14 knows fewer; a CPU
// lacking one of those it does not know lacks AVX2 too).
#define AESWEEP_FEATURE(n) \
  Feature { n, []() -> int { return __builtin_cpu_supports(n) ? 1 : 0; } }
constexpr Feature kFeatures[] = {
    AESWEEP_FEATURE("sse3"),         AESWEEP_FEATURE("ssse3"),          AESWEEP_FEATURE("sse4.1"),
    AESWEEP_FEATURE("sse4.2"),       AESWEEP_FEATURE("sse4a"),          AESWEEP_FEATURE("popcnt"),
    AESWEEP_FEATURE("avx"),          AESWEEP_FEATURE("avx2"),           AESWEEP_FEATURE("fma"),
    AESWEEP_FEATURE("fma4"),         AESWEEP_FEATURE("xop"),            AESWEEP_FEATURE("bmi"),
    AESWEEP_FEATURE("bmi2"),         AESWEEP_FEATURE("aes"),            AESWEEP_FEATURE("pclmul"),
    AESWEEP_FEATURE("gfni"),         AESWEEP_FEATURE("vpclmulqdq"),     AESWEEP_FEATURE("avx512f"),
    AESWEEP_FEATURE("avx512vl"),     AESWEEP_FEATURE("avx512bw"),       AESWEEP_FEATURE("avx512dq"),
    AESWEEP_FEATURE("avx512cd"),     AESWEEP_FEATURE("avx512ifma"),     AESWEEP_FEATURE("avx512vbmi"),
    AESWEEP_FEATURE("avx512vbmi2"),  AESWEEP_FEATURE("avx512vnni"),     AESWEEP_FEATURE("avx512bitalg"),
    AESWEEP_FEATURE("avx512vpopcntdq"), AESWEEP_FEATURE("avx512bf16"),  AESWEEP_FEATURE("avx512vp2intersect"),
#if !defined(__clang__)
    AESWEEP_FEATURE("lzcnt"),        AESWEEP_FEATURE("movbe"),          AESWEEP_FEATURE("f16c"),
    AESWEEP_FEATURE("adx"),          AESWEEP_FEATURE("sha"),            AESWEEP_FEATURE("vaes"),
    AESWEEP_FEATURE("avxvnni"),      AESWEEP_FEATURE("avx512fp16"),
#endif
};
#undef AESWEEP_FEATURE

// 1 the CPU has it, 0 it lacks it, -1 this compiler cannot tell.
int cpu_has(const char* name) {
  for (const Feature& f : kFeatures)
    if (strcmp(f.name, name) == 0) return f.supported() != 0 ? 1 : 0;
  return -1;
}

// The kernel's "model name" of the first CPU, or "".
void cpu_model(char* out, size_t size) {
  out[0] = '\0';
  const int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char text[4096];
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return;
  text[n] = '\0';
  const char* line = strstr(text, "model name");
  const char* colon = line != nullptr ? strchr(line, ':') : nullptr;
  if (colon == nullptr) return;
  const char* start = colon + 1;
  while (*start == ' ' || *start == '\t') ++start;
  size_t length = strcspn(start, "\n");
  if (length >= size) length = size - 1;
  memcpy(out, start, length);
  out[length] = '\0';
}

__attribute__((constructor(101))) void refuse_a_cpu_this_build_cannot_run_on() {
  __builtin_cpu_init();
  char missing[512] = "";
  for (const char* const* f = aesweep_built_for; *f != nullptr; ++f) {
    if (cpu_has(*f) != 0) continue;
    if (missing[0] != '\0') strncat(missing, ", ", sizeof missing - strlen(missing) - 1);
    strncat(missing, *f, sizeof missing - strlen(missing) - 1);
  }
  if (missing[0] == '\0') return;
  char model[160], host[128] = "";
  cpu_model(model, sizeof model);
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  fprintf(stderr,
          "%s: this build cannot run on this CPU (%s%s%s): it was compiled for the CPU of the machine "
          "that built it (-march=native unless configured otherwise) and uses %s, which this CPU lacks. "
          "Build it on a node of this kind, or build one program for every node: scripts/build.sh "
          "-DAESWEEP_NATIVE=OFF (any x86-64 CPU), or -DAESWEEP_NATIVE=OFF "
          "-DCMAKE_CXX_FLAGS=-march=<the oldest node's CPU>\n",
          program_invocation_short_name, model[0] != '\0' ? model : "model unknown", host[0] != '\0' ? " on " : "",
          host, missing);
  fflush(stderr);
  _exit(2);
}

}  // namespace
#endif
