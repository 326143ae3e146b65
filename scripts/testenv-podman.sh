# testenv-podman.sh — sourced by testenv.sh: a rootful Podman API service,
# Docker-compatible, for userdocker's Podman support.
#
#   podman --cgroup-manager=cgroupfs --events-backend=file \
#       system service --time=0 unix://$PODMAN_SOCK
#
# in the background (no systemd here: cgroupfs, and events to a file), with
# the test images loaded into Podman's own storage (/var/lib/containers).
# `docker -H unix://$PODMAN_SOCK …` and the Docker API client talk to it.
# Findings on what works through the Docker CLI: docs/notes/podman.md.

PODMAN_SOCK=/run/podman/podman.sock
PODMAN_PIDFILE=$TEST_RUN/podman.pid
PODMAN_LOG=$TEST_LOG_DIR/podman.log
PODMAN_FLAGS=(--cgroup-manager=cgroupfs --events-backend=file)

podman_cmd() { echo podman "${PODMAN_FLAGS[@]}" system service --time=0 "unix://$PODMAN_SOCK"; }
podman_pid() { pid_of "$PODMAN_PIDFILE" podman; }
# podman_current PID: whether PID runs the command line this script starts.
podman_current() { [[ $(tr '\0' ' ' <"/proc/$1/cmdline") == "$(podman_cmd) " ]]; }
podman_answers() {
	curl -fsS -m 5 --unix-socket "$PODMAN_SOCK" http://d/v1.41/version 2>/dev/null | grep -q '"Components"'
}
have_podman() {
	local pid
	pid=$(podman_pid) && podman_current "$pid" && podman_answers
}
start_podman() {
	mkdir -p "$TEST_RUN" "$TEST_LOG_DIR" "$(dirname "$PODMAN_SOCK")"
	local pid
	if pid=$(podman_pid) && ! podman_current "$pid"; then
		say "podman: pid $pid runs another command line, restarting it"
		stop_pid "$pid" podman
	fi
	if ! podman_pid >/dev/null; then
		# shellcheck disable=SC2046 # podman_cmd's words are the command
		without_fds setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$PODMAN_PIDFILE" \
			$(podman_cmd) >>"$PODMAN_LOG" 2>&1 </dev/null
	fi
	wait_for 30 podman_answers || {
		tail -n 20 "$PODMAN_LOG" >&2
		die "podman: $PODMAN_SOCK does not answer after 30s (log: $PODMAN_LOG)"
	}
	podman "${PODMAN_FLAGS[@]}" info --format '{{.Host.CgroupManager}} {{.Host.EventLogger}}' |
		grep -qx 'cgroupfs file' || die "podman: podman info does not show cgroupfs and file events"
}

# The host's test images under the names Docker's short names mean
# (docker.io/…, what the compat API looks up for "ud-test/busybox"), with
# the same IDs. `podman load` of a `docker save` archive names them
# localhost/…: renamed.
have_podman_images() {
	local i
	for i in "${IMAGES[@]}"; do
		[[ sha256:$(podman "${PODMAN_FLAGS[@]}" image inspect --format '{{.Id}}' "docker.io/$i" 2>/dev/null) == \
			"$(docker image inspect -f '{{.Id}}' "$i")" ]] || return 1
	done
}
load_podman_images() {
	local i
	docker save "${IMAGES[@]}" | podman "${PODMAN_FLAGS[@]}" load -q >/dev/null
	for i in "${IMAGES[@]}"; do
		podman "${PODMAN_FLAGS[@]}" tag "localhost/$i" "docker.io/$i"
		podman "${PODMAN_FLAGS[@]}" untag "docker.io/$i" "localhost/$i"
	done
}

# The Docker CLI against Podman: one container, removed.
podman_runs() {
	docker -H "unix://$PODMAN_SOCK" run --rm ud-test/busybox:latest true
}
