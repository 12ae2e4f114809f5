#!/usr/bin/env bash
# Runs every fuzz target of the module for the given -fuzztime each (default 30s;
# a count such as 20000x runs that many inputs instead).
# Targets are found by name (func FuzzXxx in *_test.go); a crasher is written by
# `go test` to the package's testdata/fuzz/FuzzXxx/ and fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
status=0
while IFS=: read -r file line; do
  dir=./$(dirname "$file")
  name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$line")
  echo "== fuzz $dir $name ($fuzztime)"
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir"; then
    status=1
  fi
done < <(git ls-files -co --exclude-standard '*_test.go' | xargs -r grep -H '^func Fuzz' | sort)
exit $status
