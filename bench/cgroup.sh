#!/usr/bin/env bash
# bench/cgroup.sh — what a run adds for its parent cgroup (issue 10), on
# this host's real cgroup file system: the job's first run makes
# /userdocker/<node>/job_<id> and writes its limits, every later run
# writes them again, and the epilog reads the usage and removes it.
# BenchmarkEnsure in internal/cgparent, as root; it makes its parents
# below /userdocker/bench-<pid> and removes them. The run's whole cost,
# against docker run: bench/run.sh.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

[[ $(id -u) == 0 ]] || { echo "bench/cgroup.sh: run as root (it makes cgroups)" >&2; exit 1; }
machine_lock
cd "$(dirname "$0")/.."
go test -run '^$' -bench Ensure -benchtime "${N:-200}x" -count "${COUNT:-3}" ./internal/cgparent
