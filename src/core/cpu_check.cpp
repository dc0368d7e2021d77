// Runs before the program's own code (a constructor of the first priority a program may use;
// only the shared libraries' constructors, built for any x86-64, and in a sanitizer build the
// sanitizer's registration calls come earlier): a build made for the CPU of the machine that
// built it (-march=native, the default) that starts on a CPU lacking some of those extensions (a
// cluster's older nodes, another vendor's) stops with a message naming them, exit status 2,
// instead of dying of an illegal instruction somewhere later. This file is compiled for the
// x86-64 baseline, general-purpose registers only, whatever the build's -march
// (src/core/CMakeLists.txt), and calls only C functions: an inline C++ function could be linked
// from another file's copy, built for what is being checked.
#if defined(__x86_64__)
#if defined(__SSE3__) || defined(__SSSE3__) || defined(__SSE4_1__) || defined(__SSE4_2__) || defined(__POPCNT__) || \
    defined(__LZCNT__) || defined(__BMI__) || defined(__BMI2__) || defined(__MOVBE__) || defined(__AVX__) ||         \
    defined(__F16C__) || defined(__FMA__) || defined(__AVX2__) || defined(__AVX512F__)
#error "cpu_check.cpp must be built for the x86-64 baseline: give the build's instruction sets with -march=..., not -m<extension> flags, which override the -march=x86-64 this file gets"
#endif
#include <cpuid.h>
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

// Bit `bit` of register `reg` (0 EAX, 1 EBX, 2 ECX, 3 EDX) of CPUID leaf `leaf`, subleaf `sub`.
int cpuid_bit(unsigned leaf, unsigned sub, int reg, int bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]) == 0) return 0;
  return int((r[reg] >> bit) & 1u);
}

// Every name built_for.cpp may list: the compiler's own test where GCC 12 and clang 14 both have
// it (it also checks that the operating system saves the AVX and AVX-512 registers), else the
// CPUID bit, together with that operating-system check for the AVX-encoded ones.
#define AESWEEP_FEATURE(n) \
  Feature { n, []() -> int { return __builtin_cpu_supports(n) ? 1 : 0; } }
#define AESWEEP_CPUID(n, leaf, sub, reg, bit, needs) \
  Feature { n, []() -> int { return cpuid_bit(leaf, sub, reg, bit) && (needs); } }
constexpr Feature kFeatures[] = {
    AESWEEP_FEATURE("sse3"),          AESWEEP_FEATURE("ssse3"),        AESWEEP_FEATURE("sse4.1"),
    AESWEEP_FEATURE("sse4.2"),        AESWEEP_FEATURE("sse4a"),        AESWEEP_FEATURE("popcnt"),
    AESWEEP_FEATURE("avx"),           AESWEEP_FEATURE("avx2"),         AESWEEP_FEATURE("fma"),
    AESWEEP_FEATURE("fma4"),          AESWEEP_FEATURE("xop"),          AESWEEP_FEATURE("bmi"),
    AESWEEP_FEATURE("bmi2"),          AESWEEP_FEATURE("aes"),          AESWEEP_FEATURE("pclmul"),
    AESWEEP_FEATURE("gfni"),          AESWEEP_FEATURE("vpclmulqdq"),   AESWEEP_FEATURE("avx512f"),
    AESWEEP_FEATURE("avx512vl"),      AESWEEP_FEATURE("avx512bw"),     AESWEEP_FEATURE("avx512dq"),
    AESWEEP_FEATURE("avx512cd"),      AESWEEP_FEATURE("avx512ifma"),   AESWEEP_FEATURE("avx512vbmi"),
    AESWEEP_FEATURE("avx512vbmi2"),   AESWEEP_FEATURE("avx512vnni"),   AESWEEP_FEATURE("avx512bitalg"),
    AESWEEP_FEATURE("avx512vpopcntdq"), AESWEEP_FEATURE("avx512bf16"), AESWEEP_FEATURE("avx512vp2intersect"),
    AESWEEP_FEATURE("avx512er"),      AESWEEP_FEATURE("avx512pf"),     AESWEEP_FEATURE("avx5124fmaps"),
    AESWEEP_FEATURE("avx5124vnniw"),
    AESWEEP_CPUID("lzcnt", 0x80000001u, 0, 2, 5, 1),
    AESWEEP_CPUID("tbm", 0x80000001u, 0, 2, 21, 1),
    AESWEEP_CPUID("movbe", 1, 0, 2, 22, 1),
    AESWEEP_CPUID("f16c", 1, 0, 2, 29, __builtin_cpu_supports("avx")),
    AESWEEP_CPUID("adx", 7, 0, 1, 19, 1),
    AESWEEP_CPUID("sha", 7, 0, 1, 29, 1),
    AESWEEP_CPUID("vaes", 7, 0, 2, 9, __builtin_cpu_supports("avx")),
    AESWEEP_CPUID("avx512fp16", 7, 0, 3, 23, __builtin_cpu_supports("avx512f")),
    AESWEEP_CPUID("avxvnni", 7, 1, 0, 4, __builtin_cpu_supports("avx")),
};
#undef AESWEEP_FEATURE
#undef AESWEEP_CPUID

// Whether the CPU has the extension; one not in the table counts as missing.
bool cpu_has(const char* name) {
  for (const Feature& f : kFeatures)
    if (strcmp(f.name, name) == 0) return f.supported() != 0;
  return false;
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
    if (cpu_has(*f)) continue;
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
          "-DCMAKE_CXX_FLAGS=-march=x86-64-v3 or another level every node has\n",
          program_invocation_short_name, model[0] != '\0' ? model : "model unknown", host[0] != '\0' ? " on " : "",
          host, missing);
  fflush(stderr);
  _exit(2);
}

}  // namespace
#endif
