#!/usr/bin/env bash
# bench/pull.sh — eight concurrent first runs of one image, as the tasks of
# a job starting together on a node, against one run that pulls it alone:
# wall time until all have run, and the requests the registry answered.
# For scale: the same eight runs with the image present (what starting
# eight containers at once costs here, without any pull), eight
# concurrent `userdocker pull`s, and eight concurrent `docker pull`s
# without userdocker, which show what the daemon alone shares (some layer
# downloads) and what it does not (manifests).
#
# Each round pushes an image of its own to the test cluster's registry
# (127.0.0.1:5000/udtest-bench/pull-<random>: ud-test/busybox plus one
# layer of SIZE random bytes), removes it from the daemon, and measures;
# the images go from the daemon and the registry afterwards. userdocker is
# built for the benchmark with a configuration of its own (run.pull =
# "missing", a private state directory) and run by root itself (no SUDO_*
# variables: root's own call, which sudo's checks do not apply to; the
# pull is the same).
#
# Needs root, Go and the test machine (scripts/testenv.sh).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/registry-purge.bash"

ROUNDS=${ROUNDS:-3}
TASKS=${TASKS:-8}
SIZE=${SIZE:-32m}
REGISTRY=127.0.0.1:5000
LOG=/var/log/userdocker-test/registry.log
[[ $(id -u) == 0 ]] || { echo "bench/pull.sh: run as root" >&2; exit 1; }
machine_lock
work=$(mktemp -d)
repos=()
cleanup() {
	local r id
	for r in "${repos[@]}"; do
		for id in $(docker image ls -q --no-trunc "$REGISTRY/$r"); do docker image rm -f "$id" >/dev/null 2>&1 || true; done
		purge_repo "$r"
	done
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -m 0755 "$work/state"
cat >"$work/config.toml" <<CONF
docker_host = "unix:///var/run/docker.sock"
subcommands = ["run", "pull"]
[run]
images = ['^127\.0\.0\.1:5000/udtest-bench/']
pull = "missing"
[run.args]
allowed = ["--rm"]
[gpu]
source = "none"
[slurm]
outside_job = "allow"
state_dir = "$work/state"
[audit]
log = "$work/audit.log"
CONF
(cd "$(dirname "$0")/.." && PATH=/usr/local/go/bin:$PATH CGO_CFLAGS='-O2 -g -Wno-deprecated-declarations' \
	go build -o "$work/userdocker" -ldflags "-X github.com/userdocker/userdocker/internal/policy.DefaultPath=$work/config.toml" ./cmd/userdocker)

ud() { "$work/userdocker" "$@"; }

# push_fresh sets REF to a new image in the registry that the daemon has not.
push_fresh() {
	local repo=udtest-bench/pull-$RANDOM$RANDOM
	repos+=("$repo")
	REF=$REGISTRY/$repo:v1
	printf 'FROM ud-test/busybox:latest\nRUN head -c %s /dev/urandom >/blob\n' "$SIZE" | docker build -q -t "$REF" - >/dev/null 2>&1
	docker push "$REF" >/dev/null
	docker image rm "$REF" >/dev/null
	REPO=$repo
}

# requests REPO OFFSET: "manifest requests, blob GETs" for REPO after OFFSET.
requests() {
	local lines
	sleep 0.5 # the registry logs a request once it has answered it
	lines=$(tail -c +$(($2 + 1)) "$LOG" | grep -E "\"[A-Z]+ /v2/$1/" || true)
	echo "$(grep -c '/manifests/' <<<"$lines" || true) manifest, $(grep -c '"GET [^ ]*/blobs/' <<<"$lines" || true) blob"
}

# timed CMD…: runs CMD, sets MS to its wall time in milliseconds.
timed() { local t0; now_us; t0=$NOW; "$@"; now_us; MS=$(((NOW - t0) / 1000)); }

many() { # TASKS concurrent first runs through userdocker
	local i pids=()
	for ((i = 0; i < TASKS; i++)); do ud run --rm "$REF" true >/dev/null 2>&1 & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || { echo "a run failed" >&2; exit 1; }; done
}
many_docker() { # TASKS concurrent docker pulls, no userdocker
	local i pids=()
	for ((i = 0; i < TASKS; i++)); do docker pull -q "$REF" >/dev/null & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i"; done
}
alone() { ud run --rm "$REF" true >/dev/null 2>&1; }
many_pulls() { # TASKS concurrent userdocker pulls
	local i pids=()
	for ((i = 0; i < TASKS; i++)); do ud pull -q "$REF" >/dev/null 2>&1 & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || { echo "a pull failed" >&2; exit 1; }; done
}

one_ms=() many_ms=() warm_ms=() pulls_ms=() dock_ms=()
for ((round = 0; round < ROUNDS; round++)); do
	push_fresh; off=$(stat -c %s "$LOG")
	timed alone; one_ms+=("$MS"); one_req=$(requests "$REPO" "$off")
	push_fresh; off=$(stat -c %s "$LOG")
	timed many; many_ms+=("$MS"); many_req=$(requests "$REPO" "$off")
	timed many; warm_ms+=("$MS")
	push_fresh; off=$(stat -c %s "$LOG")
	timed many_pulls; pulls_ms+=("$MS"); pulls_req=$(requests "$REPO" "$off")
	push_fresh; off=$(stat -c %s "$LOG")
	timed many_docker; dock_ms+=("$MS"); dock_req=$(requests "$REPO" "$off")
	echo "round $((round + 1)): one first run ${one_ms[-1]} ms ($one_req); $TASKS first runs at once ${many_ms[-1]} ms ($many_req), again with the image present ${warm_ms[-1]} ms; $TASKS userdocker pulls at once ${pulls_ms[-1]} ms ($pulls_req); $TASKS docker pulls at once ${dock_ms[-1]} ms ($dock_req)"
done
echo "image: ud-test/busybox + $SIZE layer; $ROUNDS rounds"
echo "median wall: one first run $(median "${one_ms[@]}") ms; $TASKS concurrent first runs $(median "${many_ms[@]}") ms; the same $TASKS runs with the image present $(median "${warm_ms[@]}") ms; $TASKS concurrent userdocker pulls $(median "${pulls_ms[@]}") ms; $TASKS concurrent docker pulls $(median "${dock_ms[@]}") ms"
