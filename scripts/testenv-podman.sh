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
#
# Its containers.conf and registries.conf are this script's own (through
# CONTAINERS_CONF and CONTAINERS_REGISTRIES_CONF), not /etc/containers.

PODMAN_SOCK=/run/podman/podman.sock
PODMAN_PIDFILE=$TEST_RUN/podman.pid
PODMAN_LOG=$TEST_LOG_DIR/podman.log
PODMAN_FLAGS=(--cgroup-manager=cgroupfs --events-backend=file)
PODMAN_CONF=$TESTENV_ETC/containers.conf
PODMAN_REGISTRIES=$TESTENV_ETC/registries.conf

# Rootful Podman 4.3 raises its containers' RLIMIT_NOFILE and RLIMIT_NPROC
# hard limits (to 1048576 and 4194304), which needs CAP_SYS_RESOURCE, and
# root here runs without it: runc fails with "error setting rlimit type 7
# (6): operation not permitted", which the Docker CLI shows as "unable to
# upgrade to tcp, received 409". Give containers limits below the
# service's own: this process's open files (as dockerd gives), and 4096
# processes (the service ran with a hard limit of 32768 where this shell
# had 96364, so the shell's value is no bound).
podman_conf() {
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh.
		[containers]
		default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
	EOF
}
# The registry, insecure as dockerd treats it; Docker Hub names through the
# mirror first, as vm2's dockerd does.
podman_registries() {
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh.
		unqualified-search-registries = ["docker.io"]
		[[registry]]
		location = "$REGISTRY"
		insecure = true
		[[registry]]
		prefix = "docker.io"
		location = "docker.io"
		[[registry.mirror]]
		location = "127.0.0.1:$MIRROR_PORT"
		insecure = true
	EOF
}
# pm ARGS…: the podman command line with this service's configuration.
pm() { CONTAINERS_CONF=$PODMAN_CONF CONTAINERS_REGISTRIES_CONF=$PODMAN_REGISTRIES podman "${PODMAN_FLAGS[@]}" "$@"; }

podman_cmd() { echo podman "${PODMAN_FLAGS[@]}" system service --time=0 "unix://$PODMAN_SOCK"; }
podman_pid() { pid_of "$PODMAN_PIDFILE" podman; }
# podman_current PID: whether PID runs the command line this script starts.
podman_current() { [[ $(tr '\0' ' ' <"/proc/$1/cmdline") == "$(podman_cmd) " ]]; }
# podman_cwd_ok PID: whether PID's working directory still exists. conmon,
# which the service starts for each container, inherits it and fails
# ("[conmon:e] Failed to get working directory", shown by the Docker CLI
# as "unable to upgrade to tcp, received 409") once it is deleted, as a
# worktree that ran testenv.sh may be.
podman_cwd_ok() { [[ $(readlink "/proc/$1/cwd") != *" (deleted)" ]]; }
podman_answers() {
	curl -fsS -m 5 --unix-socket "$PODMAN_SOCK" http://d/v1.41/version 2>/dev/null | grep -q '"Components"'
}
have_podman() {
	local pid
	pid=$(podman_pid) && podman_current "$pid" && podman_cwd_ok "$pid" && podman_answers || return 1
	cmp -s <(podman_conf) "$PODMAN_CONF" && cmp -s <(podman_registries) "$PODMAN_REGISTRIES" || return 1
	[[ ! $PODMAN_CONF -nt $PODMAN_PIDFILE && ! $PODMAN_REGISTRIES -nt $PODMAN_PIDFILE ]]
}
start_podman() {
	mkdir -p "$TEST_RUN" "$TEST_LOG_DIR" "$(dirname "$PODMAN_SOCK")"
	mkdir -p "$TESTENV_ETC"
	cmp -s <(podman_conf) "$PODMAN_CONF" || podman_conf >"$PODMAN_CONF"
	cmp -s <(podman_registries) "$PODMAN_REGISTRIES" || podman_registries >"$PODMAN_REGISTRIES"
	local pid
	if pid=$(podman_pid); then
		if ! podman_current "$pid" || [[ $PODMAN_CONF -nt $PODMAN_PIDFILE || $PODMAN_REGISTRIES -nt $PODMAN_PIDFILE ]]; then
			say "podman: pid $pid runs with another command line or configuration, restarting it"
			stop_pid "$pid" podman
		elif ! podman_cwd_ok "$pid"; then
			say "podman: pid $pid runs in a deleted directory, where conmon cannot start, restarting it"
			stop_pid "$pid" podman
		fi
	fi
	if ! podman_pid >/dev/null; then
		# shellcheck disable=SC2046 # podman_cmd's words are the command
		CONTAINERS_CONF=$PODMAN_CONF CONTAINERS_REGISTRIES_CONF=$PODMAN_REGISTRIES \
			without_fds setsid -f sh -c 'cd / && echo $$ >"$1" && shift && exec "$@"' sh "$PODMAN_PIDFILE" \
			$(podman_cmd) >>"$PODMAN_LOG" 2>&1 </dev/null
	fi
	wait_for 30 podman_answers || {
		tail -n 20 "$PODMAN_LOG" >&2
		die "podman: $PODMAN_SOCK does not answer after 30s (log: $PODMAN_LOG)"
	}
	pm info --format '{{.Host.CgroupManager}} {{.Host.EventLogger}}' |
		grep -qx 'cgroupfs file' || die "podman: podman info does not show cgroupfs and file events"
}

# The host's test images under the names Docker's short names mean
# (docker.io/…, what the compat API looks up for "ud-test/busybox"), with
# the same IDs. `podman load` of a `docker save` archive names them
# localhost/…: renamed.
have_podman_images() {
	local i
	for i in "${IMAGES[@]}"; do
		[[ sha256:$(pm image inspect --format '{{.Id}}' "docker.io/$i" 2>/dev/null) == \
			"$(docker image inspect -f '{{.Id}}' "$i")" ]] || return 1
	done
}
load_podman_images() {
	local i
	docker save "${IMAGES[@]}" | pm load -q >/dev/null
	for i in "${IMAGES[@]}"; do
		pm tag "localhost/$i" "docker.io/$i"
		pm untag "docker.io/$i" "localhost/$i"
	done
}

# The Docker CLI against Podman: one container, removed.
podman_runs() {
	docker -H "unix://$PODMAN_SOCK" run --rm ud-test/busybox:latest true
}
