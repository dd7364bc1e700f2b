"""The Cortex-M cores the emulator builds for, the QEMU boards that run them, and the TFLM
operators the emulated build registers.

Pure data; :func:`target_for_core` maps a device profile's ``core`` text to a target."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str  # cortex-m4, ...
    mcpu: str  # gcc -mcpu
    define: str  # CMSIS device macro (ARMCM4, ...)
    machine: str  # qemu-system-arm -M
    cpu: str  # qemu-system-arm -cpu
    linker_script: str  # in c/
    fpu: bool  # the build uses the FPU (hard-float ABI)


TARGETS: dict[str, Target] = {
    "cortex-m4": Target("cortex-m4", "cortex-m4", "ARMCM4", "mps2-an386", "cortex-m4", "mps2.ld", True),
    "cortex-m7": Target("cortex-m7", "cortex-m7", "ARMCM7", "mps2-an500", "cortex-m7", "mps2_an500.ld",
                        True),
    "cortex-m33": Target("cortex-m33", "cortex-m33", "ARMCM33", "mps2-an505", "cortex-m33",
                         "mps2_tz.ld", True),
}  # fmt: skip

CORE_RE = re.compile(r"cortex-?(m\d+)", re.IGNORECASE)


def target_for_core(core: str) -> Target | None:
    """The emulated target for a profile's ``core`` text, or None when none is built for it.

    >>> target_for_core("Arm Cortex-M33 with FPU and DSP").name
    'cortex-m33'
    >>> target_for_core("Arm Cortex-M0+") is None
    True"""
    m = CORE_RE.search(core or "")
    return TARGETS.get(f"cortex-{m.group(1).lower()}") if m else None


def core_has_fpu(core: str) -> bool:
    """Whether a profile's ``core`` text names a floating-point unit.

    >>> core_has_fpu("Arm Cortex-M4 with FPU and DSP"), core_has_fpu("Arm Cortex-M33")
    (True, False)"""
    return bool(re.search(r"\bFPU\b|Cortex-M4F\b", core or "", re.IGNORECASE))


# (MicroMutableOpResolver method, kernel sources under tensorflow/lite/micro/kernels/). A kernel
# with a CMSIS-NN version (kernels/cmsis_nn/) is built from it, as TFLM's OPTIMIZED_KERNEL_DIR does.
# The operators of convolutional and fully connected INT8 networks (MLPerf Tiny's four reference
# models, the ECG models here); a model with another operator gets a one-line error naming it.
OPERATORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AddAdd", ("add", "add_common")),
    ("AddAveragePool2D", ("pooling", "pooling_common")),
    ("AddMaxPool2D", ()),
    ("AddConcatenation", ("concatenation",)),
    ("AddConv2D", ("conv", "conv_common")),
    ("AddDepthwiseConv2D", ("depthwise_conv", "depthwise_conv_common")),
    ("AddDequantize", ("dequantize", "dequantize_common")),
    ("AddExpandDims", ("expand_dims",)),
    ("AddFullyConnected", ("fully_connected", "fully_connected_common")),
    ("AddLogistic", ("logistic", "logistic_common")),
    ("AddMean", ("reduce", "reduce_common")),
    ("AddReduceMax", ()),
    ("AddSum", ()),
    ("AddMul", ("mul", "mul_common")),
    ("AddPad", ("pad", "pad_common")),
    ("AddPadV2", ()),
    ("AddQuantize", ("quantize", "quantize_common")),
    ("AddRelu", ("activations", "activations_common")),
    ("AddRelu6", ()),
    ("AddReshape", ("reshape", "reshape_common")),
    ("AddSoftmax", ("softmax", "softmax_common")),
    ("AddSqueeze", ("squeeze",)),
    ("AddStridedSlice", ("strided_slice", "strided_slice_common")),
    ("AddTranspose", ("transpose", "transpose_common")),
)
KERNEL_SUPPORT = ("kernel_util", "micro_tensor_utils", "decompress", "decompress_common")
CMSIS_NN_KERNELS = ("add", "batch_matmul", "conv", "depthwise_conv", "fully_connected",
                    "maximum_minimum", "mul", "pad", "pooling", "softmax", "svdf", "transpose",
                    "transpose_conv", "unidirectional_sequence_lstm")  # fmt: skip
# Core runtime sources (TFLM's list_library_sources without the kernels, the signal library and
# the test helpers; cortex_m_generic's micro_time.cc, a DWT cycle counter, is not needed: the
# runner's profiler marks events for the counting plugin instead).
CORE_SOURCES = (
    "tensorflow/lite/micro/cortex_m_generic/debug_log.cc",
    "tensorflow/lite/micro/flatbuffer_utils.cc",
    "tensorflow/lite/micro/memory_helpers.cc",
    "tensorflow/lite/micro/micro_allocation_info.cc",
    "tensorflow/lite/micro/micro_allocator.cc",
    "tensorflow/lite/micro/micro_context.cc",
    "tensorflow/lite/micro/micro_interpreter.cc",
    "tensorflow/lite/micro/micro_interpreter_context.cc",
    "tensorflow/lite/micro/micro_interpreter_graph.cc",
    "tensorflow/lite/micro/micro_log.cc",
    "tensorflow/lite/micro/micro_op_resolver.cc",
    "tensorflow/lite/micro/micro_resource_variable.cc",
    "tensorflow/lite/micro/micro_utils.cc",
    "tensorflow/lite/micro/system_setup.cc",
    "tensorflow/lite/micro/arena_allocator/non_persistent_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/arena_allocator/persistent_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc",
    "tensorflow/lite/micro/memory_planner/linear_memory_planner.cc",
    "tensorflow/lite/micro/memory_planner/non_persistent_buffer_planner_shim.cc",
    "tensorflow/lite/micro/tflite_bridge/flatbuffer_conversions_bridge.cc",
    "tensorflow/lite/micro/tflite_bridge/micro_error_reporter.cc",
    "tensorflow/lite/kernels/kernel_util.cc",
    "tensorflow/lite/kernels/internal/runtime_shape.cc",
    "tensorflow/lite/kernels/internal/portable_tensor_utils.cc",
    "tensorflow/lite/kernels/internal/tensor_ctypes.cc",
    "tensorflow/lite/kernels/internal/reference/portable_tensor_utils.cc",
    "tensorflow/lite/kernels/internal/common.cc",
    "tensorflow/lite/kernels/internal/quantization_util.cc",
    "tensorflow/lite/kernels/internal/tensor_utils.cc",
    "tensorflow/lite/core/api/flatbuffer_conversions.cc",
    "tensorflow/lite/core/api/tensor_utils.cc",
    "tensorflow/lite/core/c/common.cc",
    "tensorflow/compiler/mlir/lite/schema/schema_utils.cc",
    "tensorflow/compiler/mlir/lite/core/api/error_reporter.cc",
)


def operator_names() -> list[str]:
    """The builtin operators the emulated build registers, as TFLM names them (CONV_2D, ...).

    >>> operator_names()[:3]
    ['ADD', 'AVERAGE_POOL_2D', 'MAX_POOL_2D']"""
    special = {"AddConv2D": "CONV_2D", "AddDepthwiseConv2D": "DEPTHWISE_CONV_2D",
               "AddAveragePool2D": "AVERAGE_POOL_2D", "AddMaxPool2D": "MAX_POOL_2D",
               "AddPadV2": "PADV2", "AddRelu6": "RELU6", "AddReduceMax": "REDUCE_MAX",
               "AddBatchMatMul": "BATCH_MATMUL"}  # fmt: skip
    out = []
    for method, _ in OPERATORS:
        name = special.get(method) or re.sub(r"(?<!^)(?=[A-Z])", "_", method[3:]).upper()
        out.append(name)
    return out
