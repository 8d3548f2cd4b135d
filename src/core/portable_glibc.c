/* Keeps the binary's GLIBC floor at 2.34.
 * GCC 12's static libstdc++ (std::random_device) calls arc4random, which glibc only
 * exports from 2.36 on. Defining it here, over getrandom(2), means the link never
 * binds the GLIBC_2.36 symbol, so the same binary runs on Ubuntu 22.04 and RHEL 9. */
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>

uint32_t arc4random(void) {
  uint32_t value = 0;
  while (getrandom(&value, sizeof value, 0) != (ssize_t)sizeof value) {
  }
  return value;
}
