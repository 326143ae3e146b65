#!/usr/bin/env bash
# bench/load.sh — `userdocker load -i` of an archive whose image the node
# has already under the archive's tags (the second and later tasks of a
# job loading one archive: skipped after reading the tar headers), against
# the first load of it (the archive spooled and loaded), and `docker load`
# of the same archive for comparison.
#
# The image is ud-test/busybox plus one layer of SIZE random bytes, saved
# to a file once. userdocker is built for the benchmark with a
# configuration of its own and run by root itself, as in bench/pull.sh.
# Needs root, Go and the test machine (scripts/testenv.sh).
set -euo pipefail
source "$(dirname "$0")/lib.bash"

N=${N:-5}
SIZE=${SIZE:-256m}
TAG=udbench/load-again:$RANDOM$RANDOM
[[ $(id -u) == 0 ]] || { echo "bench/load.sh: run as root" >&2; exit 1; }
machine_lock
work=$(mktemp -d)
trap 'docker image rm -f "$TAG" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cat >"$work/config.toml" <<CONF
docker_host = "unix:///var/run/docker.sock"
subcommands = ["load"]
[run]
images = ['^ud-test/']
[slurm]
state_dir = "$work/state"
[load]
spool_dir = "$work/spool"
[audit]
log = "$work/audit.log"
CONF
(cd "$(dirname "$0")/.." && PATH=/usr/local/go/bin:$PATH CGO_CFLAGS='-O2 -g -Wno-deprecated-declarations' \
	go build -o "$work/userdocker" -ldflags "-X github.com/userdocker/userdocker/internal/policy.DefaultPath=$work/config.toml" ./cmd/userdocker)
printf 'FROM ud-test/busybox:latest\nRUN head -c %s /dev/urandom >/blob\n' "$SIZE" | docker build -q -t "$TAG" - >/dev/null 2>&1
docker save -o "$work/image.tar" "$TAG"

timed() { local t0; now_us; t0=$NOW; "$@" >/dev/null; now_us; MS=$(((NOW - t0) / 1000)); }
first=() again=() plain=()
for ((i = 0; i < N; i++)); do
	docker image rm "$TAG" >/dev/null
	timed "$work/userdocker" load -i "$work/image.tar"; first+=("$MS")
	timed "$work/userdocker" load -i "$work/image.tar"; again+=("$MS")
	timed docker load -i "$work/image.tar"; plain+=("$MS")
done
echo "archive: $(du -h "$work/image.tar" | cut -f1) (ud-test/busybox + $SIZE layer); $N rounds"
echo "median wall: first userdocker load $(median "${first[@]}") ms; again (skipped) $(median "${again[@]}") ms; docker load of the image present $(median "${plain[@]}") ms"
