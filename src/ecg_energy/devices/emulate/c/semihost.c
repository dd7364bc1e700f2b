/* Semihosting (bkpt 0xab): the calls the runner and the start-up code talk to the host through. */
#include "semihost.h"

#include <string.h>

static int semihost(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void sh_write0(const char *text) { semihost(0x04, (void *)text); }

void sh_exit(int code) {
  /* ADP_Stopped_ApplicationExit ends QEMU with status 0; RunTimeErrorUnknown with status 1. */
  semihost(0x18, (void *)(uintptr_t)(code == 0 ? 0x20026 : 0x20023));
  for (;;) {
  }
}

/* Reads a host file (relative to QEMU's working folder) into buf; returns its length, or -1 if it
 * cannot be opened, or -2 if it is longer than cap. */
long sh_read_file(const char *name, uint8_t *buf, long cap) {
  uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, 1 /* "rb" */, (uint32_t)strlen(name)};
  int handle = semihost(0x01, open_args);
  if (handle < 0) return -1;
  uint32_t flen_args[1] = {(uint32_t)handle};
  long len = semihost(0x0C, flen_args);
  if (len > cap) {
    semihost(0x02, flen_args);
    return -2;
  }
  uint32_t read_args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)len};
  int left = semihost(0x06, read_args);
  semihost(0x02, flen_args);
  return len - left;
}
