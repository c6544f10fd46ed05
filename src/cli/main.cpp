// The spattn command-line tool. `spattn version` prints the library version.
#include <spattn/spattn.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("spattn %s\n", spattn_version_string());
    return 0;
  }
  std::fprintf(stderr, "usage: spattn version\n");
  return 2;
}
