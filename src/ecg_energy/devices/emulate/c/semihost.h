/* Semihosting calls to the host (QEMU's -semihosting-config): text out, exit, read a file. */
#ifndef ECG_SEMIHOST_H
#define ECG_SEMIHOST_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
void sh_write0(const char *text);
void sh_exit(int code);
/* Reads a host file into buf; its length, -1 if it cannot be opened, -2 if longer than cap. */
long sh_read_file(const char *name, uint8_t *buf, long cap);
#ifdef __cplusplus
}
#endif
#endif
