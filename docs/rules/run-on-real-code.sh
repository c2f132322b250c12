#!/usr/bin/env bash
# Runs the TaskSupervisor rules (TS0001-TS0005) over a real codebase and prints, per project and in total, the
# diagnostics of each rule and the time each analyzer took. Every diagnostic goes to <list> for review by hand.
#
#   docs/rules/run-on-real-code.sh <checkout> [<list>] [--include-tests]
#
# The checkout is not built and not changed: tests/TaskSupervisor.Analyzers.RealCode compiles each project's sources in
# memory against the installed .NET and ASP.NET Core reference packs, the packages it names that are in the local NuGet
# cache, and the projects it references, then runs the analyzers with per-analyzer timing. That is what makes a run
# possible when a codebase's packages do not restore here; types from packages that are not in the cache stay
# unresolved, so calls into them are invisible to the rules (the run prints the compile-error count as a measure).
set -euo pipefail

checkout=${1:?usage: run-on-real-code.sh <checkout> [<list>] [--include-tests]}
list=${2:-/dev/null}
shift $(( $# >= 2 ? 2 : 1 ))
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

dotnet build "$repo/src/TaskSupervisor.Analyzers" -c Release -nologo -v quiet >/dev/null
dotnet build "$repo/tests/TaskSupervisor.Analyzers.RealCode" -c Release -nologo -v quiet >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$repo/tests/TaskSupervisor.Analyzers.RealCode/bin/Release/net10.0/TaskSupervisor.Analyzers.RealCode.dll" \
  "$checkout" "$repo/src/TaskSupervisor.Analyzers/bin/Release/netstandard2.0/TaskSupervisor.Analyzers.dll" \
  --list "$list" "$@"
