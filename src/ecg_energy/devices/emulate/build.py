"""Build TFLM with CMSIS-NN kernels and the bare-metal runner for an emulated Cortex-M core, and
the instruction-counting QEMU plugin.

The library is compiled with TFLM's own flags for its ``cortex_m_generic`` target with
``OPTIMIZED_KERNEL_DIR=cmsis_nn`` and the GNU toolchain (core -Os, kernels and CMSIS-NN -O2,
hard-float ABI), from the kernels in :data:`targets.OPERATORS` (those a CMSIS-NN version exists
for come from kernels/cmsis_nn/) and all of CMSIS-NN's sources. The runner (c/runner.cc with its
own vector table, start-up code and linker script for the QEMU MPS2 board) links against it.
Everything is built once per (source digest, target, build recipe) under the cache folder; a
build in progress is made in a temporary folder and renamed when complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from importlib import resources

from ...errors import ConfigError
from .source import DOWNLOADS, cache_root, prepare_tree
from .targets import CMSIS_NN_KERNELS, CORE_SOURCES, KERNEL_SUPPORT, OPERATORS, TARGETS, Target

LIB_FILES = ("cmsis_device.h",)
RUNNER_FILES = (
    "startup.c",
    "semihost.c",
    "semihost.h",
    "runner.cc",
    "mps2.ld",
    "mps2_tz.ld",
    "ecg_sections.ld",
)
TOOLS = {
    "arm-none-eabi-gcc": "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "arm-none-eabi-g++": "apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "qemu-system-arm": "apt-get install qemu-system-arm",
    "make": "apt-get install make",
    "cc": "apt-get install gcc",
}
COMMON = ("-fno-unwind-tables -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections "
          "-fmessage-length=0 -DTF_LITE_STATIC_MEMORY -DTF_LITE_DISABLE_X86_NEON -DCMSIS_NN "
          "-DKERNELS_OPTIMIZED_FOR_SPEED -DTF_LITE_MCU_DEBUG_LOG -mthumb -mlittle-endian "
          "-fomit-frame-pointer -funsigned-char -DARM_NN_ENABLE_F16=0 -DARM_NN_ENABLE_F32=0")  # fmt: skip
CXX_ONLY = "-std=c++17 -fno-rtti -fno-exceptions -fno-threadsafe-statics"
CMSIS_NN_EXCLUDE = ("_f16.c", "_f32.c", "/arm_nntables_flt.c")


def missing_tools() -> list[str]:
    """The install line of each tool the emulated build needs and this machine lacks."""
    return sorted({hint for tool, hint in TOOLS.items() if shutil.which(tool) is None})


def require_tools() -> None:
    missing = missing_tools()
    if missing:
        raise ConfigError("the emulated method needs the Arm GNU toolchain and QEMU: "
                          + "; ".join(missing) + " (Debian/Ubuntu; or `make toolchain`)")  # fmt: skip


def _c_dir() -> str:
    return str(resources.files("ecg_energy.devices.emulate") / "c")


def _files_digest(names: tuple[str, ...], extra: object) -> str:
    h = hashlib.sha256()
    for name in names:
        with open(os.path.join(_c_dir(), name), "rb") as fh:
            h.update(name.encode() + fh.read())
    h.update(repr(extra).encode())
    return h.hexdigest()[:12]


def recipe_digest(target: Target) -> str:
    """A digest of everything the library build of ``target`` depends on besides the source
    tree."""
    return _files_digest(LIB_FILES, (target, OPERATORS, CORE_SOURCES, KERNEL_SUPPORT, COMMON,
                                     CXX_ONLY,
                                     CMSIS_NN_EXCLUDE))  # fmt: skip


def _sources(tree: str) -> list[tuple[str, str]]:
    """(source path relative to the tree, optimisation level) of the library. CMSIS-NN's float
    sources are left out as TFLM's cmsis_nn.inc does with ARM_NN_ENABLE_F16=0 and
    ARM_NN_ENABLE_F32=0."""
    kernels = {k for _, files in OPERATORS for k in files} | set(KERNEL_SUPPORT)
    out = [(s, "-Os") for s in CORE_SOURCES]
    for k in sorted(kernels):
        sub = "cmsis_nn/" if k in CMSIS_NN_KERNELS else ""
        out.append((f"tensorflow/lite/micro/kernels/{sub}{k}.cc", "-O2"))
    nn = os.path.join(tree, DOWNLOADS, "cmsis_nn", "Source")
    for folder, _, files in sorted(os.walk(nn)):
        for f in sorted(files):
            if f.endswith(".c"):
                out.append((os.path.relpath(os.path.join(folder, f), tree), "-O2"))
    return [(src, opt) for src, opt in out if not src.endswith(CMSIS_NN_EXCLUDE)]


def object_name(src: str) -> str:
    """The object file of a source (unique: its path, flattened).

    >>> object_name("tensorflow/lite/micro/kernels/cmsis_nn/conv.cc")
    'obj/tensorflow_lite_micro_kernels_cmsis_nn_conv.o'"""
    return "obj/" + os.path.splitext(src)[0].replace("/", "_") + ".o"


def _flags(tree: str, target: Target, include: str) -> tuple[str, str]:
    """(compile flags, CPU flags) of ``target``."""
    dl = os.path.join(tree, DOWNLOADS)
    incs = " ".join(f"-I{p}" for p in (tree, dl, f"{dl}/gemmlowp", f"{dl}/flatbuffers/include",
                                        f"{dl}/kissfft", f"{dl}/ruy", include,
                                        f"{dl}/cmsis/CMSIS/Core/Include", f"{dl}/cmsis",
                                        f"{dl}/cmsis_nn", f"{dl}/cmsis_nn/Include"))  # fmt: skip
    cpu = f"-mcpu={target.mcpu} -mfpu=auto -mfloat-abi={'hard' if target.fpu else 'soft'}"
    defs = (f"-DCPU_{target.define[4:]}=1 -D{target.define} "
            f'-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE=\\"{target.define}.h\\"')  # fmt: skip
    return f"{COMMON} {cpu} {defs} {incs}", cpu


def _makefile(tree: str, target: Target) -> str:
    cflags, _ = _flags(tree, target, "include")  # relative: make runs in the build folder
    lines = [f"CFLAGS := {cflags}", "OBJS :="]
    rules = []
    for src, opt in _sources(tree):
        obj = object_name(src)
        lines.append(f"OBJS += {obj}")
        if src.endswith(".c"):
            cmd = f"arm-none-eabi-gcc -std=c17 $(CFLAGS) {opt} -c {tree}/{src} -o $@"
        else:
            cmd = f"arm-none-eabi-g++ {CXX_ONLY} $(CFLAGS) {opt} -c {tree}/{src} -o $@"
        rules += [f"{obj}: {tree}/{src}", f"\t@{cmd}"]
    rules += ["libtflm.a: $(OBJS)", "\t@rm -f $@ && arm-none-eabi-ar rcs $@ $(OBJS)"]
    return "\n".join(["all: libtflm.a", *lines, *rules, ""])


def _runner_makefile(tree: str, target: Target, lib: str) -> str:
    cflags, cpu = _flags(tree, target, f"{lib}/include")
    c = _c_dir()
    return "\n".join([
        f"CFLAGS := {cflags}",
        "all: runner.elf",
        f"runner.elf: startup.o semihost.o runner.o {lib}/libtflm.a",
        f"\t@arm-none-eabi-g++ {cpu} -mthumb -nostartfiles -Wl,--gc-sections -L{c} "
        f"-T{c}/{target.linker_script} --specs=nano.specs --specs=nosys.specs "
        f"startup.o semihost.o runner.o {lib}/libtflm.a -lm -o $@",
        f"startup.o: {c}/startup.c {c}/semihost.h",
        f"\t@arm-none-eabi-gcc -std=c17 $(CFLAGS) -I{c} -O2 -c $< -o $@",
        f"semihost.o: {c}/semihost.c {c}/semihost.h",
        f"\t@arm-none-eabi-gcc -std=c17 $(CFLAGS) -I{c} -O2 -c $< -o $@",
        f"runner.o: {c}/runner.cc {c}/semihost.h {lib}/include/ecg_ops.inc",
        f"\t@arm-none-eabi-g++ {CXX_ONLY} $(CFLAGS) -I{c} -O2 -c $< -o $@",
        ""])  # fmt: skip


def _run(cmd: list[str], cwd: str, what: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"{what} did not finish in {timeout_s:g} s") from exc
    if proc.returncode:
        err = [ln for ln in (proc.stderr or proc.stdout).splitlines() if "error" in ln.lower()]
        tail = (err or (proc.stderr or proc.stdout).strip().splitlines() or ["?"])[0]
        raise ConfigError(f"{what} failed: {tail.strip()}")


def _publish(work: str, final: str, product: str) -> None:
    """Rename a finished build folder into place, unless another process already did."""
    if os.path.isfile(os.path.join(final, product)):
        shutil.rmtree(work, ignore_errors=True)
        return
    if os.path.isdir(final):
        shutil.rmtree(final)
    os.replace(work, final)


def build_library(
    target: Target, tree: str, digest: str, root: str, jobs: int | None, timeout_s: float
) -> tuple[str, float]:
    """(folder holding libtflm.a and include/, seconds spent building: 0 when cached)."""
    final = os.path.join(root, f"build-{digest}-{target.name}-{recipe_digest(target)}")
    if os.path.isfile(os.path.join(final, "libtflm.a")):
        return final, 0.0
    t0 = time.perf_counter()
    work = final + ".partial"  # kept between attempts: make resumes where it stopped
    os.makedirs(os.path.join(work, "obj"), exist_ok=True)
    os.makedirs(os.path.join(work, "include"), exist_ok=True)
    shutil.copy(os.path.join(_c_dir(), "cmsis_device.h"),
                os.path.join(work, "include", f"{target.define}.h"))  # fmt: skip
    with open(os.path.join(work, "include", "ecg_ops.inc"), "w") as fh:
        fh.writelines(f"resolver.{m}();\n" for m, _ in OPERATORS)
    with open(os.path.join(work, "build.mk"), "w") as fh:
        fh.write(_makefile(tree, target))
    n = jobs or max(1, os.cpu_count() or 1)
    _run(["make", "-f", "build.mk", f"-j{n}"], work, f"the {target.name} TFLM build", timeout_s)
    _publish(work, final, "libtflm.a")
    return final, time.perf_counter() - t0


def build_runner(
    target_name: str,
    source: str | None = None,
    cache: str | None = None,
    jobs: int | None = None,
    timeout_s: float = 3600,
) -> dict:
    """The runner ELF for ``target_name`` (built if not cached): {"elf", "mark_addr", "target",
    "source_digest", "recipe", "build_s" (0 when cached)}."""
    require_tools()
    if target_name not in TARGETS:
        raise ConfigError(f"{target_name}: no emulated build for this core; built: "
                          + ", ".join(TARGETS))  # fmt: skip
    target = TARGETS[target_name]
    tree, digest = prepare_tree(source, cache)
    root = cache_root(cache)
    lib, build_s = build_library(target, tree, digest, root, jobs, timeout_s)
    own = () if target.linker_script in RUNNER_FILES else (target.linker_script,)
    runner = os.path.join(lib, f"runner-{_files_digest(RUNNER_FILES + own, target)}")
    elf = os.path.join(runner, "runner.elf")
    if not os.path.isfile(elf):
        t0 = time.perf_counter()
        work = runner + ".partial"
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(work, "runner.mk"), "w") as fh:
            fh.write(_runner_makefile(tree, target, lib))
        _run(["make", "-f", "runner.mk"], work, f"the {target.name} runner build", timeout_s)
        _publish(work, runner, "runner.elf")
        build_s += time.perf_counter() - t0
    return {
        "elf": elf,
        "mark_addr": mark_address(elf),
        "target": target.name,
        "source_digest": digest,
        "recipe": os.path.relpath(runner, root),
        "build_s": round(build_s, 1),
    }


def mark_address(elf: str) -> int:
    """The address of the runner's ``ecg_mark`` function (from the ELF's symbol table)."""
    proc = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True, check=True)
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "ecg_mark":
            return int(parts[0], 16) & ~1
    raise ConfigError(f"{elf}: no ecg_mark symbol; delete the cache folder and build again")


def build_plugin(cache: str | None = None) -> str:
    """The instruction-counting QEMU plugin (a shared library built with the host's cc)."""
    require_tools()
    c = _c_dir()
    h = hashlib.sha256()
    for name in ("insn_count.c", "qemu_plugin_api.h"):
        with open(os.path.join(c, name), "rb") as fh:
            h.update(fh.read())
    root = cache_root(cache)
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, f"insn_count-{h.hexdigest()[:12]}.so")
    if not os.path.isfile(path):
        fd, tmp = tempfile.mkstemp(dir=root, suffix=".so")
        os.close(fd)
        _run(["cc", "-shared", "-fPIC", "-O2", "-o", tmp, os.path.join(c, "insn_count.c")], root,
             "the QEMU plugin build", 120)  # fmt: skip
        os.replace(tmp, path)
    return path
