/* A generic CMSIS device header for the Arm Cortex-M cores ecg-energy emulates.
 *
 * TFLM's cortex_m_generic target includes "ARMCMx.h" from Arm's Cortex_DFP pack, which only names
 * the core's options and includes CMSIS's core_cmX.h. This file does the same for the cores built
 * here; the build copies it as ARMCM4.h, ARMCM7.h, ARMCM33.h or ARMCM55.h. */
#ifndef ECG_ENERGY_CMSIS_DEVICE_H
#define ECG_ENERGY_CMSIS_DEVICE_H
#ifdef __cplusplus
extern "C" {
#endif
typedef enum IRQn {
  NonMaskableInt_IRQn = -14, HardFault_IRQn = -13, MemoryManagement_IRQn = -12,
  BusFault_IRQn = -11, UsageFault_IRQn = -10, SecureFault_IRQn = -9, SVCall_IRQn = -5,
  DebugMonitor_IRQn = -4, PendSV_IRQn = -2, SysTick_IRQn = -1, Interrupt0_IRQn = 0
} IRQn_Type;
#define __MPU_PRESENT 1U
#define __VTOR_PRESENT 1U
#define __NVIC_PRIO_BITS 3U
#define __Vendor_SysTickConfig 0U
#if defined(__ARM_FP)
#define __FPU_PRESENT 1U
#else
#define __FPU_PRESENT 0U
#endif
#if defined(ARMCM4)
#define __CM4_REV 0x0001U
#include "core_cm4.h"
#elif defined(ARMCM7)
#define __CM7_REV 0x0000U
#define __ICACHE_PRESENT 1U
#define __DCACHE_PRESENT 1U
#define __DTCM_PRESENT 1U
#include "core_cm7.h"
#elif defined(ARMCM33)
#define __CM33_REV 0x0000U
#define __SAUREGION_PRESENT 0U
#define __DSP_PRESENT 1U
#include "core_cm33.h"
#elif defined(ARMCM55)
#define __CM55_REV 0x0001U
#define __SAUREGION_PRESENT 0U
#define __DSP_PRESENT 1U
#define __PMU_PRESENT 1U
#define __PMU_NUM_EVENTCNT 8U
#define __ICACHE_PRESENT 1U
#define __DCACHE_PRESENT 1U
#define __MVE_PRESENT 1U
#if defined(__ARM_FP)
#define __MVE_FP 1U
#endif
#include "core_cm55.h"
#else
#error "unsupported core"
#endif
#ifdef __cplusplus
}
#endif
#endif
