/* libFuzzer entry point for one target of fuzz/targets.c, chosen at build
 * time: clang -fsanitize=fuzzer -DGL_FUZZ_TARGET=gl_fuzz_link ...
 * (mk/hardening.mk builds build/fuzz/<name> for every target). */
#include "targets.c"

#ifndef GL_FUZZ_TARGET
#error "define GL_FUZZ_TARGET, e.g. -DGL_FUZZ_TARGET=gl_fuzz_link"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return GL_FUZZ_TARGET(data, size);
}
