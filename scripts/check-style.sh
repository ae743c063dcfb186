#!/bin/sh
# Checks the C sources: clang-format clean, at most 80 columns, and, with
# --tidy BUILD_DIR, clang-tidy clean against that build's compile database.
set -eu

cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src plugin include \
  tests bench -name '*.c' -o -name '*.h')
status=0

if [ "${1:-}" = "--tidy" ]; then
  build=${2:?usage: check-style.sh --tidy BUILD_DIR}
  tidy_files=$(printf '%s\n' "$files" | grep -E '^(src|plugin)/.*\.c$')
  # shellcheck disable=SC2086
  clang-tidy --quiet -p "$build" $tidy_files || status=1
  exit $status
fi

for f in $files; do
  if ! clang-format --dry-run --Werror "$f" 2>/dev/null; then
    echo "clang-format: $f needs formatting (clang-format -i $f)"
    status=1
  fi
  if awk 'length($0) > 80 { printf "%s:%d: longer than 80 columns\n", \
      FILENAME, NR; bad = 1 } END { exit bad }' "$f"; then
    :
  else
    status=1
  fi
done
exit $status
