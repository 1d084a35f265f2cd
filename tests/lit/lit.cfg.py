# lit configuration for hatc: passes and pipelines through hatc-opt, the CLI
# through hatc. Tests are .mlir files (IR in, FileCheck out) and .test files
# (CLI runs).
import os
import lit.formats

config.name = "hatc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hatc_obj_root, "tests", "lit")
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in", "CMakeLists.txt"]

config.environment["PATH"] = os.pathsep.join(
    [config.hatc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Kernels use all cores unless a test says otherwise; keep OpenMP quiet.
config.environment["OMP_WAIT_POLICY"] = "passive"

config.substitutions.append(("%hatc_src", config.hatc_src_root))
config.substitutions.append(("%hatc_tools", config.hatc_tools_dir))
config.substitutions.append(("%examples", os.path.join(config.hatc_src_root, "examples")))
config.substitutions.append(
    ("%fake_cuda", os.path.join(config.hatc_obj_root, "lib", "libhatc_fake_cuda.so")))
# `%onnx-make --only NAME --out DIR` writes a test model (and its data)
# into DIR/NAME with tests/onnx/make_models.py; it needs Debian's
# python3-onnx, hence /usr/bin/python3 and not the python3 on PATH.
config.substitutions.append(
    ("%onnx-make", "/usr/bin/python3 " +
     os.path.join(config.hatc_src_root, "tests", "onnx", "make_models.py")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
# The ONNX backend test data (Debian's libonnx-testdata): tests that read it
# say `REQUIRES: onnx-testdata`.
# The oneDNN baseline drivers are built only where CMake found oneDNN.
if os.path.exists(os.path.join(config.hatc_tools_dir, "hatc-bench-onednn-matmul")):
    config.available_features.add("onednn")
onnx_data = "/usr/share/libonnx-testdata/data"
config.substitutions.append(("%onnx_data", onnx_data))
if os.path.isdir(os.path.join(onnx_data, "node")):
    config.available_features.add("onnx-testdata")
# `%expect-exit N cmd...` runs cmd, shows its output, and passes only if it
# exits with N: tests that a failure is a clean user error (1), not a crash.
config.substitutions.append(
    ("%expect-exit", "python3 " + os.path.join(config.test_source_root, "expect_exit.py")))
# `%unprivileged cmd...` runs cmd as a user without root's right to write
# anywhere (tests of read-only folders mean nothing to root); as another
# user already, it runs cmd as is.
config.substitutions.append(
    ("%unprivileged",
     "setpriv --reuid=65534 --regid=65534 --clear-groups" if os.geteuid() == 0 else ""))


def others_can_reach(path):
    """Every folder on the way to `path` lets other users through (o+x)."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


# Tests that run as another user need the build and source trees reachable
# by them (a checkout under /root is not); elsewhere they say UNSUPPORTED.
import shutil
if os.geteuid() != 0 or (shutil.which("setpriv") and
                         others_can_reach(config.hatc_obj_root) and
                         others_can_reach(config.hatc_src_root)):
    config.available_features.add("unprivileged-user")

# The host's dot-product instructions (AVX-512 VNNI and BF16): tests that run
# kernels using them say `REQUIRES: avx512vnni` or `REQUIRES: avx512bf16`.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu_flags = set()
        for line in cpuinfo:
            if line.startswith("flags"):
                cpu_flags.update(line.split(":", 1)[1].split())
                break
except OSError:
    cpu_flags = set()
# `%avx512-facts hatc ...` derives CPU schedules as for an AVX-512 host
# with Zen 5's caches (16 f32 lanes, 32 vector registers, L1 48 KiB, L2
# 1 MiB) whatever the host: tests that check default tiles or a config's
# register budget pin it, so that they check the same thing on any machine
# (the code still runs here; LLVM splits vectors wider than the host's).
config.substitutions.append(
    ("%avx512-facts", "env HATC_CPU_FACTS=lanes=16,registers=32,l1=48K,l2=1M"))
# The host's own 16 f32 lanes and 32 vector registers (`REQUIRES: avx512f`
# where a test checks what the host's derivation gives).
if "avx512f" in cpu_flags:
    config.available_features.add("avx512f")
if "avx512_vnni" in cpu_flags:
    config.available_features.add("avx512vnni")
if "avx512_bf16" in cpu_flags:
    config.available_features.add("avx512bf16")
# Intel AMX tiles (Sapphire Rapids on): `REQUIRES: amx-int8` / `amx-bf16`.
if "amx_tile" in cpu_flags and "amx_int8" in cpu_flags:
    config.available_features.add("amx-int8")
if "amx_tile" in cpu_flags and "amx_bf16" in cpu_flags:
    config.available_features.add("amx-bf16")
