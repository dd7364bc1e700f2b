/* Bare-metal start for the emulated MPS2 boards: the vector table, the reset handler (copy .data,
 * clear .bss, enable the FPU where the core has one, run the C++ constructors, main) and the
 * semihosting calls the runner talks through (bkpt 0xab). */
#include <stdint.h>
#include <string.h>

extern uint32_t __etext, __data_start__, __data_end__, __bss_start__, __bss_end__, _estack;
extern void __libc_init_array(void);
extern int main(void);

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

void _init(void) {}
void _fini(void) {}
void *__dso_handle = 0; /* static destructors are registered against it (never run) */

static void fault(void) {
  sh_write0("ERROR fault: the core took a fault exception\n");
  sh_exit(1);
}

void Reset_Handler(void) {
  uint32_t *src = &__etext;
  for (uint32_t *dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
  for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
#if defined(__ARM_FP)
  *(volatile uint32_t *)0xE000ED88 |= (0xFu << 20); /* CPACR: CP10, CP11 full access */
  __asm__ volatile("dsb\n isb");
#endif
  __libc_init_array();
  sh_exit(main());
}

__attribute__((section(".isr_vector"), used)) const void *vectors[16] = {
    &_estack, (void *)Reset_Handler, (void *)fault, (void *)fault, (void *)fault,
    (void *)fault, (void *)fault, 0, 0, 0, 0, (void *)fault, (void *)fault, 0,
    (void *)fault, (void *)fault};
