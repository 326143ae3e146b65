#!/usr/bin/env bash
# bench/multinode.sh — what a second node costs: wall time of
#   srun -N2 sudo userdocker run --rm IMG true
# against `srun -N2 true`, and the same two on one node (vm, and vm2), as
# steps of one two-node allocation (allocation, prolog and epilog are
# outside the measurement), rounds alternated so that every command sees
# the same machine state. Prints medians and p90 in ms, and what the
# second node adds.
#
# Target (issue 11): the second node adds no more than its own container
# start: N2(userdocker) - N1(userdocker, vm) <= N1(userdocker, vm) - N1(true).
# On the test machine both "nodes" share two vCPUs and one disk, so their
# container starts contend; on real nodes expect N2 close to N1.
#
# Needs root and the test machine of scripts/testenv.sh (vm and vm2), and
# the test binary of the integration suite. Run under the developer lock:
#   flock /run/userdocker-dev.lock bash bench/multinode.sh
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.bash

N=${N:-20}
IMG=${IMG:-ud-test/busybox:latest}
UD=${UD:-/usr/local/lib/userdocker-test/userdocker} # ud-launch, with the test config (make install-test-bins)
WHO=${WHO:-udtest-alice}
PART=multi
NODE=$(hostname -s)
NODE2=vm2

[ -x "$UD" ] && [ -f /etc/userdocker-test/config.toml ] || {
	echo "bench: $UD and its config come from the integration suite: run make test first" >&2
	exit 1
}
machine_lock

made_partition=0
job=
cleanup() {
	[ -n "$job" ] && scancel "$job" 2>/dev/null || true
	if ((made_partition)); then
		for _ in $(seq 120); do # deleted once the job's epilogs are done
			scontrol delete PartitionName=$PART 2>/dev/null && break
			sleep 0.5
		done
	fi
}
trap cleanup EXIT
if ! scontrol show partition $PART >/dev/null 2>&1; then
	scontrol create PartitionName=$PART Nodes="$NODE,$NODE2" MaxTime=INFINITE State=UP
	made_partition=1
fi

as_user() { (cd /tmp && setpriv --reuid "$WHO" --regid "$WHO" --init-groups env -i PATH=/usr/bin:/bin HOME=/home/$WHO LANG=C "$@"); }
job=$(as_user sbatch --parsable --output=/dev/null -p $PART -N2 --ntasks-per-node=1 -c1 --mem=128 --wrap 'sleep 600')
for _ in $(seq 120); do
	[ "$(squeue -h -j "$job" -o %T)" = RUNNING ] && break
	sleep 0.5
done
[ "$(squeue -h -j "$job" -o %T)" = RUNNING ] || { echo "bench: job $job does not run" >&2; exit 1; }

# One shell of the user runs every round: each line "a b c d e f" (ms).
S="srun --quiet --jobid=$job --overlap"
mapfile -t rounds < <(as_user bash -c '
	now() { date +%s%N; }
	for ((i = 0; i < '"$N"'; i++)); do
		t0=$(now); '"$S"' -N2 true
		t1=$(now); '"$S"' -N1 -w '"$NODE"' true
		t2=$(now); '"$S"' -N2 sudo -n '"$UD"' run --rm '"$IMG"' true
		t3=$(now); '"$S"' -N1 -w '"$NODE"' sudo -n '"$UD"' run --rm '"$IMG"' true
		t4=$(now); '"$S"' -N1 -w '"$NODE2"' sudo -n '"$UD"' run --rm '"$IMG"' true
		t5=$(now)
		echo $(((t1-t0)/1000)) $(((t2-t1)/1000)) $(((t3-t2)/1000)) $(((t4-t3)/1000)) $(((t5-t4)/1000))
	done')
[ "${#rounds[@]}" -eq "$N" ] || { echo "bench: only ${#rounds[@]} of $N rounds ran" >&2; exit 1; }

names=("srun -N2 true" "srun -N1 ($NODE) true" "srun -N2 userdocker run --rm" "srun -N1 ($NODE) userdocker run --rm" "srun -N1 ($NODE2) userdocker run --rm")
declare -a med
echo "rounds: $N alternated, steps of job $job on $NODE and $NODE2; image $IMG"
for c in 0 1 2 3 4; do
	col=()
	for r in "${rounds[@]}"; do
		read -ra f <<<"$r"
		col+=("${f[$c]}")
	done
	med[c]=$(median "${col[@]}")
	printf '%-40s median %7s ms   p90 %7s ms\n' "${names[c]}" "$(ms "${med[c]}")" "$(ms "$(pct 90 "${col[@]}")")"
done
echo "second node adds $(ms $((med[2] - med[3]))) ms to userdocker run (target <= one container start: $(ms $((med[3] - med[1]))) ms)"
