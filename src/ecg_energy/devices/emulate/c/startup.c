/* Bare-metal start for the emulated MPS2 boards: the vector table, the reset handler (copy .data,
 * clear .bss, enable the FPU where the core has one, run the C++ constructors, main); the
 * semihosting calls are in semihost.c. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __etext, __data_start__, __data_end__, __bss_start__, __bss_end__, _estack;
extern void __libc_init_array(void);
extern int main(void);

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
