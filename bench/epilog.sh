#!/usr/bin/env bash
# bench/epilog.sh — wall time of ud-epilog for a job with no containers,
# and for a job with 20 running containers against one `docker rm -f` of
# 20 such containers. Target (issue 4): epilog at most 1.5 times rm -f.
#
# The containers stop on SIGTERM (a shell trap), as well-behaved jobs do:
# ud-epilog stops them first (giving each up to stop_timeout), while
# `docker rm -f` kills at once. A container that ignores SIGTERM costs the
# epilog its stop_timeout (10 s by default), by design.
#
# Runs the installed /usr/local/sbin/ud-epilog as root against the local
# dockerd, with a private state directory and the machine's config ignored.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

N=${N:-5}          # rounds with 20 containers
EMPTY_N=${EMPTY_N:-50}
COUNT=${COUNT:-20}
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
me=$(median "${ep[@]}") mr=$(median "${rm[@]}")
printf 'ud-epilog, no containers: median %s ms (%d runs)\n' "$(ms "$(median "${empty[@]}")")" "$EMPTY_N"
printf 'ud-epilog, %d running containers: median %s ms; docker rm -f of %d: median %s ms; ratio %s (%d rounds; target <= 1.5)\n' \
	"$COUNT" "$(ms "$me")" "$COUNT" "$(ms "$mr")" "$(awk -v a="$me" -v b="$mr" 'BEGIN {printf "%.2f", a/b}')" "$N"
