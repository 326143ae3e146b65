#!/usr/bin/env bash
# bench/prolog.sh — wall time of ud-prolog as slurmd runs it: one process
# per job, the job in the environment, writing its record. Target (issue 4):
# median under 20 ms. Runs the installed /usr/local/sbin/ud-prolog (make
# install-test-bins) as root, writing to a private state directory and
# ignoring the machine's config. On a node without NVML, as here, a job
# with GPUs includes the failed attempt to load libnvidia-ml.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

N=${N:-200}
PROLOG=${PROLOG:-/usr/local/sbin/ud-prolog}
[[ $(id -u) == 0 ]] || { echo "bench/prolog.sh: run as root (records must be root-owned)" >&2; exit 1; }
machine_lock
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/config.toml"

# children_cpu_us sets cpu_us to the user+sys CPU time of this shell's
# finished children so far, in microseconds (bash's `times`, second line;
# run in this shell, not a subshell, whose children would be others).
children_cpu_us() {
	times >"$work/times"
	cpu_us=$(awk 'NR == 2 {
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%d", ((u[1] + s[1]) * 60 + u[2] + s[2]) * 1000000 }' "$work/times")
}

bench() { # label gpus
	local label=$1 gpus=$2 t=() i t0 c0 cpu_us
	children_cpu_us
	c0=$cpu_us
	for ((i = 0; i < N; i++)); do
		now_us; t0=$NOW
		SLURM_JOB_ID=$((900000 + i)) SLURM_JOB_UID=2001 SLURM_JOB_GID=2001 SLURM_JOB_USER=udtest-alice \
			SLURM_JOB_GPUS=$gpus SLURMD_NODENAME=$node \
			"$PROLOG" --config "$work/config.toml" --state-dir "$work/state" 2>/dev/null
		now_us; t+=($((NOW - t0)))
	done
	children_cpu_us
	local cpu=$(((cpu_us - c0) / N))
	printf 'ud-prolog, %-14s median %5s ms, p90 %5s ms, max %5s ms, CPU %4s ms/run (%d runs; target: median < 20 ms)\n' \
		"$label:" "$(ms "$(median "${t[@]}")")" "$(ms "$(pct 90 "${t[@]}")")" "$(ms "$(pct 100 "${t[@]}")")" "$(ms "$cpu")" "$N"
}
node=$(hostname -s)
# The cost of starting any process from here, for scale: on a busy machine
# it is most of what ud-prolog takes.
t=()
for ((i = 0; i < N; i++)); do now_us; t0=$NOW; /bin/true; now_us; t+=($((NOW - t0))); done
printf 'baseline, /bin/true:      median %5s ms\n' "$(ms "$(median "${t[@]}")")"
bench "no GPUs" ""
bench "2 GPUs" "0,1"
