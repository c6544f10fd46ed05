/* Built against an installed spattn through find_package(spattn). */
#include <spattn/spattn.h>
#include <stdio.h>

int main(void) {
  if (spattn_version() / 10000 != SPATTN_VERSION_MAJOR) {
    fprintf(stderr, "major version mismatch\n");
    return 1;
  }
  printf("consumer linked spattn %s\n", spattn_version_string());
  return 0;
}
