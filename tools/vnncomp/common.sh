# tools/vnncomp/common.sh: shared by prepare_instance.sh and run_instance.sh.
# Finds the gamma binary: $GAMMA_BIN, else the repository's build folders.
gamma_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

find_gamma() {
  if [ -n "${GAMMA_BIN:-}" ]; then
    echo "$GAMMA_BIN"
    return 0
  fi
  for b in "$gamma_repo"/build/tools/gamma "$gamma_repo"/build-*/tools/gamma; do
    if [ -x "$b" ]; then
      echo "$b"
      return 0
    fi
  done
  echo "gamma: no gamma binary found; build it (cmake + ninja) or set GAMMA_BIN" >&2
  return 1
}
