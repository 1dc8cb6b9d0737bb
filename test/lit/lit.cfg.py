# lit configuration for gamma's IR-dump tests.
#
# Substitutions:
#   gamma-opt, gammac, gamma   the built tools
#   FileCheck, not, count      LLVM 19's test utilities
#   %models                    test/models (small generated ONNX models)
#   %shared                    ../shared (VNN-COMP networks); tests that use it
#                              say `REQUIRES: shared` and are UNSUPPORTED without it
import os
import lit.formats

config.name = "gamma"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".gir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.gamma_obj_root, "test", "lit")

llvm_bin = os.path.dirname(config.filecheck)
config.environment["PATH"] = os.pathsep.join(
    [config.gamma_tools_dir, llvm_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%models", os.path.join(config.gamma_src_root, "test", "models")))
config.substitutions.append(("%shared", config.gamma_shared_dir))
config.substitutions.append(("%python", config.python3))

if os.geteuid() == 0:
    config.available_features.add("root")
if os.path.isdir(os.path.join(config.gamma_shared_dir, "benchmarks", "vnncomp")):
    config.available_features.add("shared")

# Runs that do not name a cache use one inside the build tree, never the
# user's ~/.cache/gamma (a fresh machine, or a concurrent run of another
# clone, must see the same results).
config.environment["GAMMA_CACHE_DIR"] = os.path.join(config.test_exec_root, "gamma-cache")
