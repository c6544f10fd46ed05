/* A C99 plugin-style host: includes only spattn.h, loads the library with
 * dlopen and resolves every function it uses with dlsym into the header's
 * PFN_ function-pointer types. It checks the
 * version handshake, a successful parse with accessors, an error with its
 * status and message, and that destroy accepts NULL. */
#include <dlfcn.h>
#include <spattn/spattn.h>
#include <stdio.h>
#include <string.h>

#define LOAD(handle, type, name)                                   \
  type name = NULL;                                                \
  do {                                                             \
    *(void **)(&name) = dlsym(handle, #name);                      \
    if (name == NULL) {                                            \
      fprintf(stderr, "missing symbol %s\n", #name);               \
      return 1;                                                    \
    }                                                              \
  } while (0)

int main(int argc, char **argv) {
  static const char good[] =
      "sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor:\n"
      "    prefill: 1000.0\n    decode: 500.0\n";
  static const char bad[] = "sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: 3\n";
  void *lib;
  spattn_config *config = NULL;
  spattn_skip_softmax_config skip;
  spattn_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s LIBSPATTN\n", argv[0]);
    return 2;
  }
  lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  {
    LOAD(lib, PFN_spattn_version, spattn_version);
    LOAD(lib, PFN_spattn_config_parse, spattn_config_parse);
    LOAD(lib, PFN_spattn_config_destroy, spattn_config_destroy);
    LOAD(lib, PFN_spattn_config_skip_softmax, spattn_config_skip_softmax);
    LOAD(lib, PFN_spattn_last_error, spattn_last_error);
    LOAD(lib, PFN_spattn_status_string, spattn_status_string);

    if (spattn_version() / 10000 != SPATTN_VERSION_MAJOR) {
      fprintf(stderr, "library major %u, header major %d\n", spattn_version() / 10000, SPATTN_VERSION_MAJOR);
      return 1;
    }
    status = spattn_config_parse(good, sizeof good - 1, SPATTN_FORMAT_AUTO, &config);
    if (status != SPATTN_OK) {
      fprintf(stderr, "parse failed: %s\n", spattn_last_error());
      return 1;
    }
    memset(&skip, 0, sizeof skip);
    skip.struct_size = sizeof skip;
    if (spattn_config_skip_softmax(config, &skip) != SPATTN_OK || skip.threshold_scale_factor.prefill != 1000.0 ||
        skip.threshold_scale_factor.decode != 500.0) {
      fprintf(stderr, "accessor gave wrong values\n");
      return 1;
    }
    spattn_config_destroy(config);
    spattn_config_destroy(NULL);

    config = NULL;
    status = spattn_config_parse(bad, sizeof bad - 1, SPATTN_FORMAT_YAML, &config);
    if (status != SPATTN_ERR_OUT_OF_RANGE || config != NULL ||
        strstr(spattn_last_error(), "sparse_attention_config.target_sparsity") == NULL) {
      fprintf(stderr, "expected SPATTN_ERR_OUT_OF_RANGE, got %s: %s\n", spattn_status_string(status),
              spattn_last_error());
      return 1;
    }
    printf("dlopen C99 host: ok (%s)\n", spattn_last_error());
  }
  dlclose(lib);
  return 0;
}
