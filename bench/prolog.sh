#!/usr/bin/env bash
# bench/prolog.sh — wall time of ud-prolog as slurmd runs it: one process
# per job, the job in the environment, writing its record. Target (issue 4):
# median under 20 ms. Runs the installed /usr/local/sbin/ud-prolog (make
# install-test-bins) as root, writing to a private state directory and
# ignoring the machine's config. On a node without NVML, as here, a job
# with GPUs includes the failed attempt to load libnvidia-ml. For CPU time,
# `perf stat -r 50 env SLURM_JOB_ID=… ud-prolog …` is the better tool.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

N=${N:-200}
PROLOG=${PROLOG:-/usr/local/sbin/ud-prolog}
[[ $(id -u) == 0 ]] || { echo "bench/prolog.sh: run as root (records must be root-owned)" >&2; exit 1; }
machine_lock
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/config.toml"

bench() { # label gpus
	local label=$1 gpus=$2 t=() i t0
	for ((i = 0; i < N; i++)); do
		now_us; t0=$NOW
		SLURM_JOB_ID=$((900000 + i)) SLURM_JOB_UID=2001 SLURM_JOB_GID=2001 SLURM_JOB_USER=udtest-alice \
			SLURM_JOB_GPUS=$gpus SLURMD_NODENAME=$node \
			"$PROLOG" --config "$work/config.toml" --state-dir "$work/state" 2>/dev/null
		now_us; t+=($((NOW - t0)))
		# As the epilog would: a node's state dir holds the running jobs only.
		rm -f "$work/state/job-$((900000 + i)).json"
	done
	local med
	med=$(median "${t[@]}")
	printf 'ud-prolog, %-14s median %5s ms (%s ms above /bin/true), p90 %5s ms, max %5s ms (%d runs; target: median < 20 ms)\n' \
		"$label:" "$(ms "$med")" "$(ms $((med - base)))" "$(ms "$(pct 90 "${t[@]}")")" "$(ms "$(pct 100 "${t[@]}")")" "$N"
}
node=$(hostname -s)
# The cost of starting any process from here, for scale: on a busy machine
# it is most of what ud-prolog takes.
t=()
for ((i = 0; i < N; i++)); do now_us; t0=$NOW; /bin/true; now_us; t+=($((NOW - t0))); done
base=$(median "${t[@]}")
printf 'baseline, /bin/true:      median %5s ms (what starting any program from bash costs here)\n' "$(ms "$base")"
bench "no GPUs" ""
bench "2 GPUs" "0,1"
