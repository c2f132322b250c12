#!/usr/bin/env bash
# Adds every symbol reported by RS0016 (not in the declared public API) to PublicAPI.Unshipped.txt of the given project.
# Usage: bash .ci/update-public-api.sh src/TaskSupervisor
set -euo pipefail
dir=$1
out=$(dotnet build "$dir" --no-incremental 2>&1 || true)
printf '%s\n' "$out" | grep -oP "error RS0016: Symbol '\K.*(?=' is not part of the declared public API)" | sort -u >> "$dir/PublicAPI.Unshipped.txt" || true
{ head -1 "$dir/PublicAPI.Unshipped.txt"; tail -n +2 "$dir/PublicAPI.Unshipped.txt" | sort -u; } > "$dir/PublicAPI.Unshipped.tmp"
mv "$dir/PublicAPI.Unshipped.tmp" "$dir/PublicAPI.Unshipped.txt"
