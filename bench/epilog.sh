#!/usr/bin/env bash
# bench/epilog.sh — wall time of ud-epilog for a job with no containers,
# for a job with 20 running containers against one `docker rm -f` of 20
# such containers (target, issue 4: epilog at most 1.5 times rm -f), and
# for a job with 120 containers that ignore SIGTERM, half of them --rm
# (issue 14: well within a quarter of a 120 s PrologEpilogTimeout).
#
# The 20 containers stop on SIGTERM (a shell trap), as well-behaved jobs
# do: ud-epilog signals them first, while `docker rm -f` kills at once.
# The 120 ignore it (`trap '' TERM`): they cost the epilog its one shared
# stop_timeout, then a SIGKILL each. EPILOG=/path/to/an/older/ud-epilog
# measures another build.
#
# Runs the installed /usr/local/sbin/ud-epilog as root against the local
# dockerd, with a private state directory and the machine's config ignored.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

N=${N:-5}          # rounds with 20 containers
EMPTY_N=${EMPTY_N:-50}
COUNT=${COUNT:-20}
STUBBORN_N=${STUBBORN_N:-1}      # rounds with the SIGTERM-ignoring containers
STUBBORN=${STUBBORN:-120}
EPILOG=${EPILOG:-/usr/local/sbin/ud-epilog}
IMG=${IMG:-ud-test/busybox:latest}
[[ $(id -u) == 0 ]] || { echo "bench/epilog.sh: run as root" >&2; exit 1; }
machine_lock
work=$(mktemp -d)
JOB=$((800000 + RANDOM))
trap 'docker rm -f $(docker ps -aq --filter label=io.userdocker.job=$JOB) >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
: >"$work/config.toml"
mkdir -m 0755 "$work/state"

epilog() { SLURM_JOB_ID=$JOB "$EPILOG" --config "$work/config.toml" --state-dir "$work/state" 2>/dev/null; }

# stubborn starts $STUBBORN containers that ignore SIGTERM, every other
# one --rm, 8 at a time (as fast as dockerd creates them on 2 vCPUs).
stubborn() {
	seq "$STUBBORN" | xargs -P 8 -I{} sh -c '
		rm=; [ $(({} % 2)) = 0 ] && rm=--rm
		docker run -d $rm --label io.userdocker.job='"$JOB"' --label io.userdocker.uid=2001 '"$IMG"' sh -c "trap \"\" TERM; sleep 600" >/dev/null'
	local n
	n=$(docker ps -q --filter label=io.userdocker.job=$JOB | wc -l)
	[[ $n == "$STUBBORN" ]] || { echo "started $n containers, not $STUBBORN" >&2; exit 1; }
}

start20() {
	local i
	for ((i = 0; i < COUNT; i++)); do
		docker run -d --label io.userdocker.job=$JOB --label io.userdocker.uid=2001 "$IMG" \
			sh -c 'trap "exit 0" TERM; sleep 600 & wait' >/dev/null
	done
}

empty=()
for ((i = 0; i < EMPTY_N; i++)); do
	now_us; t0=$NOW; epilog; now_us; empty+=($((NOW - t0)))
done

ep=() rm=()
for ((r = 0; r < N; r++)); do
	start20
	now_us; t0=$NOW; epilog; now_us; ep+=($((NOW - t0)))
	[[ -z $(docker ps -aq --filter label=io.userdocker.job=$JOB) ]] || { echo "ud-epilog left containers" >&2; exit 1; }
	start20
	ids=$(docker ps -aq --filter label=io.userdocker.job=$JOB)
	now_us; t0=$NOW; docker rm -f $ids >/dev/null; now_us; rm+=($((NOW - t0)))
done
sb=()
for ((r = 0; r < STUBBORN_N; r++)); do
	stubborn
	now_us; t0=$NOW; epilog; now_us; sb+=($((NOW - t0)))
	[[ -z $(docker ps -aq --filter label=io.userdocker.job=$JOB) ]] || { echo "ud-epilog left containers" >&2; exit 1; }
done
me=$(median "${ep[@]}") mr=$(median "${rm[@]}")
printf 'ud-epilog, no containers: median %s ms (%d runs)\n' "$(ms "$(median "${empty[@]}")")" "$EMPTY_N"
printf 'ud-epilog, %d running containers: median %s ms; docker rm -f of %d: median %s ms; ratio %s (%d rounds; target <= 1.5)\n' \
	"$COUNT" "$(ms "$me")" "$COUNT" "$(ms "$mr")" "$(awk -v a="$me" -v b="$mr" 'BEGIN {printf "%.2f", a/b}')" "$N"
if ((STUBBORN_N > 0)); then
	printf 'ud-epilog, %d containers ignoring SIGTERM (half --rm): median %s ms (%d rounds)\n' \
		"$STUBBORN" "$(ms "$(median "${sb[@]}")")" "$STUBBORN_N"
fi
