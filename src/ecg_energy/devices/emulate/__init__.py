"""The model's own cost on a Cortex-M core: TFLM with CMSIS-NN kernels, compiled for the core with
the Arm GNU toolchain, run on QEMU's MPS2 board with an instruction-counting plugin.

- ``source``: the TFLM source tree (a folder of archives or upstream's pinned commits) and the cache;
- ``build``: the library, the bare-metal runner (``c/``) and the QEMU plugin, cached per source
  digest and target;
- ``run``: one model on the emulated core: instructions per operator, the interpreter's own share,
  the arena and the outputs, cached per model and inputs digest;
- ``fit``: per board, cycles per instruction and energy per instruction from MLPerf Tiny;
- ``price``: a model's device row by the emulated method.
"""
