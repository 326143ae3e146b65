#!/usr/bin/env bash
# testenv.sh — set up (or, with --check, only verify) the machine that
# userdocker's tests and demo run on: Debian 12, as root, no systemd.
#
#   scripts/testenv.sh            install and start what is missing
#   scripts/testenv.sh --check    change nothing; list what is missing, exit 1 if any
#
# What it sets up (DESIGN.md §5, §8):
#   - Debian packages: docker.io, slurm-wlm, munge, sudo, busybox-static, gcc …
#   - a stand-in nvidia-container-runtime-hook (test/hook/) on dockerd's PATH,
#     so dockerd registers its "nvidia" device driver and the hook records
#     which GPUs each container was given in /var/lib/userdocker-test/
#   - dockerd, started in the background with that PATH
#   - test images built FROM scratch around busybox-static:
#     ud-test/busybox, ud-test/cuda (ENV NVIDIA_VISIBLE_DEVICES=all), ud-test/denied
#   - libpmix-dev for Slurm's mpi/pmix (slurmd restarted if it predates it) and
#     ud-test/pmixping, a PMIx client FROM scratch (scripts/testenv-pmix.sh)
#   - users udtest-alice (2001, in udtest-gpu 2100), udtest-bob (2002), uddemo (2010)
#   - six fake GPUs /dev/nvidia0..5 and a two-node Slurm (munge, slurmctld, a
#     slurmd each for node vm = `hostname -s` with Gres=gpu:4 and node vm2
#     with Gres=gpu:2), cgroup confinement and the ud-prolog/ud-epilog hooks;
#     the one partition "debug" is vm alone: vm2 joins jobs only through a
#     partition "multi" made for a while (scripts/testenv-node2.sh)
#   - vm2: its own mount, UTS and network namespaces, dockerd, /run and spool
#     (scripts/testenv-node2.sh); TCP between the nodes over a veth pair
#   - a registry on 127.0.0.1:5000 holding the test images and a pull-through
#     mirror of it on 127.0.0.1:5001 (scripts/testenv-registry.sh)
#   - a rootful Podman API service on /run/podman/podman.sock with the test
#     images (scripts/testenv-podman.sh)
#   - the sudoers drop-in from contrib/slurm
#
# Idempotent: a second run changes nothing and restarts nothing; it only
# re-checks (a few seconds, most of it a few 0.3 s containers and three sruns).
# docs/testing.md describes the machine it leaves and how to look at vm2.
# Every step prints one line.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

HOOK_NAME=nvidia-container-runtime-hook
HOOK_SRC=$REPO/test/hook/$HOOK_NAME
HOOK_DIR=/usr/local/lib/userdocker-test/bin
HOOK_STATE=/var/lib/userdocker-test
TEST_LOG_DIR=/var/log/userdocker-test
DOCKERD_LOG=$TEST_LOG_DIR/dockerd.log
DOCKERD_PATH=$HOOK_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Configuration files of the test daemons other than the host's dockerd and Slurm.
TESTENV_ETC=/etc/userdocker-testenv

SLURM_CONF_DIR=/etc/slurm
SLURM_LOG_DIR=/var/log/slurm
SLURM_USER=slurm
PROLOG=/usr/local/sbin/ud-prolog
EPILOG=/usr/local/sbin/ud-epilog
# Written into the placeholders, so that a person can tell them from the
# real binaries (which `make test` installs over them).
PLACEHOLDER_MARK='userdocker-test placeholder'

SUDOERS_SRC=$REPO/contrib/slurm/sudoers.userdocker
SUDOERS_DST=/etc/sudoers.d/userdocker

# acl: setfacl, for the test of a mount below a directory that an ACL
# opens to a user. rpm: rpm -qp, to read the .rpm of make package (the
# package test; Debian cannot install it).
PACKAGES=(docker.io containerd runc tini iptables cgroupfs-mount apparmor
	sudo busybox-static munge slurm-wlm slurm-client slurmd slurmctld
	slurm-wlm-basic-plugins gcc libc6-dev make git procps util-linux
	acl iproute2 curl docker-registry podman rpm)
# libpmix-dev (with libpmix2) for Slurm's mpi/pmix plugin and the PMIx
# test image (scripts/testenv-pmix.sh): before Slurm starts.
PACKAGES+=(libpmix-dev libpmix2)

# name uid gid extra-groups
USERS=(
	"udtest-alice 2001 2001 udtest-gpu"
	"udtest-bob 2002 2002 -"
	"uddemo 2010 2010 -"
)
GPU_GROUP=udtest-gpu
GPU_GID=2100

IMAGES=(ud-test/busybox:latest ud-test/cuda:latest ud-test/denied:latest)

NODE=$(hostname -s)

# shellcheck source=scripts/testenv-node2.sh
source "$REPO/scripts/testenv-node2.sh"
# shellcheck source=scripts/testenv-registry.sh
source "$REPO/scripts/testenv-registry.sh"
# shellcheck source=scripts/testenv-podman.sh
source "$REPO/scripts/testenv-podman.sh"
# shellcheck source=scripts/testenv-pmix.sh
source "$REPO/scripts/testenv-pmix.sh"
[[ $NODE != "$NODE2" ]] || { echo "testenv: this host is named $NODE2, the name of the emulated second node" >&2; exit 1; }

CHECK=0
case "${1:-}" in
--check) CHECK=1 ;;
'') ;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

export DEBIAN_FRONTEND=noninteractive
export DOCKER_BUILDKIT=0 # the classic builder: no buildx plugin, no registry
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

MISSING=()

say() { printf 'testenv: %s\n' "$*"; }
die() {
	printf 'testenv: FAILED: %s\n' "$*" >&2
	exit 1
}

# step NAME PREDICATE FIX: in check mode record NAME when PREDICATE fails;
# otherwise run FIX when it fails and require PREDICATE afterwards.
step() {
	local name=$1 pred=$2 fix=$3
	if "$pred"; then
		say "$name: ok"
		return 0
	fi
	if ((CHECK)); then
		say "$name: MISSING"
		MISSING+=("$name")
		return 0
	fi
	"$fix"
	"$pred" || die "$name: still not right after setting it up"
	say "$name: set up"
}

# without_fds COMMAND...: run COMMAND without the file descriptors above 2
# that this script inherited. Under `flock /run/userdocker-dev.lock make test`
# one of them holds that lock, and a daemon started with it would hold the
# lock for as long as it runs. (flock itself keeps the lock until we end.)
without_fds() {
	(
		fd=
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		"$@" # not exec: COMMAND may be a function
	)
}

# after PREDICATE... -- "NAME PREDICATE FIX"...: the steps, when every
# PREDICATE before -- holds; otherwise (in check mode: something they
# need is missing) they are only listed as missing.
after() {
	local p s
	while [[ $1 != -- ]]; do
		if ! "$1"; then
			while [[ $1 != -- ]]; do shift; done
			shift
			for s in "$@"; do MISSING+=("${s%% *}"); done
			return 0
		fi
		shift
	done
	shift
	for s in "$@"; do
		# shellcheck disable=SC2086 # NAME PREDICATE FIX
		step $s
	done
}

# wait_for SECONDS COMMAND...: poll COMMAND every half second.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# --- packages ---------------------------------------------------------------

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || echo "$p"
	done
}
have_packages() { [[ -z $(missing_packages) ]]; }
install_packages() {
	local -a want
	mapfile -t want < <(missing_packages)
	say "packages: installing ${want[*]}"
	# Keep the packages' init scripts from starting daemons with the
	# distribution's configuration: this script starts them itself.
	local own_policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	local try
	local try ok=0
	for try in 1 2 3; do
		if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; then
			ok=1
			break
		fi
		((try < 3)) && sleep 5
	done
	((own_policy)) && rm -f /usr/sbin/policy-rc.d
	((ok)) || die "packages: apt-get failed three times"
}

# --- cgroups ----------------------------------------------------------------

# Slurm's cgroup/v1 plugin and dockerd both want the v1 hierarchies mounted.
have_cgroups() { [[ -e /sys/fs/cgroup/cpuset/cpuset.cpus && -e /sys/fs/cgroup/devices/devices.list ]]; }
mount_cgroups() { cgroupfs-mount; }

# --- GPU hook ---------------------------------------------------------------

have_hook() {
	cmp -s "$HOOK_SRC" "$HOOK_DIR/$HOOK_NAME" && [[ -x $HOOK_DIR/$HOOK_NAME && -d $HOOK_STATE/hook ]]
}
install_hook() {
	install -D -m 0755 "$HOOK_SRC" "$HOOK_DIR/$HOOK_NAME"
	mkdir -p "$HOOK_STATE/hook"
}

# --- dockerd ----------------------------------------------------------------

# The host's dockerd writes its pid to the default /var/run/docker.pid; vm2's
# dockerd runs under the same name.
dockerd_pid() { pid_of /var/run/docker.pid dockerd; }
# has_hook_path PID: whether the hook directory is on that process's PATH.
has_hook_path() {
	tr '\0' '\n' <"/proc/$1/environ" | grep -q "^PATH=\(.*:\)\?$HOOK_DIR\(:.*\)\?$"
}
dockerd_has_hook() {
	local pid
	pid=$(dockerd_pid) || return 1
	has_hook_path "$pid"
}
have_dockerd() { dockerd_has_hook && docker info >/dev/null 2>&1; }
start_dockerd() {
	local pid
	pid=$(dockerd_pid) || pid=
	if [[ -n $pid ]]; then
		if dockerd_has_hook; then
			say "dockerd: pid $pid has the hook on its PATH, waiting for it to answer"
		else
			say "dockerd: pid $pid runs without $HOOK_DIR on its PATH, restarting it"
			kill -TERM "$pid"
			wait_for 30 bash -c "! kill -0 $pid" || {
				say "dockerd: pid $pid did not stop within 30s, killing it"
				kill -KILL "$pid" 2>/dev/null || true
				wait_for 10 bash -c "! kill -0 $pid" || die "dockerd: pid $pid does not go away"
			}
			pid=
		fi
	fi
	if [[ -z $pid ]]; then
		mkdir -p "$TEST_LOG_DIR"
		# dockerd starts its own containerd (Debian's docker.io does when
		# /run/containerd/containerd.sock is absent); setsid keeps it out of
		# the caller's session, so make's or CI's end does not take it down.
		without_fds env PATH="$DOCKERD_PATH" setsid -f dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null
	fi
	if ! wait_for 60 docker info; then
		tail -n 30 "$DOCKERD_LOG" >&2 || true
		die "dockerd: docker info does not answer after 60s (log: $DOCKERD_LOG)"
	fi
	pgrep -x containerd >/dev/null || die "dockerd: runs, but no containerd process was found"
}

# --- images -----------------------------------------------------------------

# Each test image carries the label ud-test.image=<name>. Images built
# before carried io.userdocker.test instead, which userdocker now refuses
# (the io.userdocker.* labels are its own): those are rebuilt, and the old
# image is removed when nothing uses it any more.
have_images() {
	local i labels
	for i in "${IMAGES[@]}"; do
		labels=$(docker image inspect -f '{{json .Config.Labels}}' "$i" 2>/dev/null) || return 1
		[[ $labels == *'"ud-test.image"'* && $labels != *'"io.userdocker.'* ]] || return 1
	done
}
build_images() {
	local ctx i old=()
	for i in "${IMAGES[@]}"; do
		old+=("$(docker image inspect -f '{{.Id}}' "$i" 2>/dev/null || true)")
	done
	ctx=$(mktemp -d)
	cp /bin/busybox "$ctx/busybox"
	cat >"$ctx/Dockerfile" <<-'EOF'
		FROM scratch
		COPY busybox /bin/busybox
		RUN ["/bin/busybox", "--install", "-s", "/bin"]
		ENV PATH=/bin
		LABEL ud-test.image=busybox
		CMD ["/bin/sh"]
	EOF
	docker build -q -t ud-test/busybox:latest "$ctx" >/dev/null
	# An image that claims every GPU through its environment, as CUDA
	# images do: userdocker must override it.
	printf 'FROM ud-test/busybox:latest\nENV NVIDIA_VISIBLE_DEVICES=all\nLABEL ud-test.image=cuda\n' |
		docker build -q -t ud-test/cuda:latest - >/dev/null
	# Same content under a name the test policy does not allow; its own
	# label gives it its own ID, so it cannot be reached through another tag.
	printf 'FROM ud-test/busybox:latest\nLABEL ud-test.image=denied\n' |
		docker build -q -t ud-test/denied:latest - >/dev/null
	rm -rf "$ctx"
	# Children first: cuda and denied were built on busybox.
	for ((i = ${#old[@]} - 1; i >= 0; i--)); do
		[[ -n ${old[i]} ]] && [[ -z $(docker image inspect -f '{{join .RepoTags ","}}' "${old[i]}" 2>/dev/null) ]] &&
			docker image rm "${old[i]}" >/dev/null 2>&1 || true
	done
}

# hook_value CIDFILE: what the hook recorded for that container ("-" if nothing).
# (vm2's dockerd runs the same hook: the records of both are here.)
hook_value() {
	local id
	id=$(cat "$1")
	if [[ -e $HOOK_STATE/hook/$id ]]; then cat "$HOOK_STATE/hook/$id"; else echo -; fi
	rm -f "$HOOK_STATE/hook/$id"
}
# The end-to-end check of DESIGN.md §5: the daemon passes --gpus to the hook.
# hook_works [DOCKER-COMMAND]: against that docker command (default: docker).
hook_works() {
	local d got= dk=${1:-docker}
	d=$(mktemp -d)
	if $dk run --rm --cidfile "$d/a" --gpus '"device=GPU-a,GPU-b"' ud-test/busybox:latest true &&
		$dk run --rm --cidfile "$d/b" --gpus all ud-test/cuda:latest true &&
		$dk run --rm --cidfile "$d/c" ud-test/cuda:latest true; then
		got="$(hook_value "$d/a")|$(hook_value "$d/b")|$(hook_value "$d/c")"
	fi
	rm -rf "$d"
	[[ $got == 'GPU-a,GPU-b|all|-' ]] || {
		echo "hook recorded '$got', want 'GPU-a,GPU-b|all|-'" >&2
		return 1
	}
}
no_fix() { return 1; }

# --- users ------------------------------------------------------------------

have_users() {
	local name uid gid extra
	[[ $(getent group "$GPU_GROUP" | cut -d: -f3) == "$GPU_GID" ]] || return 1
	for u in "${USERS[@]}"; do
		read -r name uid gid extra <<<"$u"
		[[ $(id -u "$name" 2>/dev/null) == "$uid" && $(id -g "$name") == "$gid" ]] || return 1
		[[ -d $(getent passwd "$name" | cut -d: -f6) ]] || return 1
		if [[ $extra == - ]]; then
			! id -nG "$name" | tr ' ' '\n' | grep -qx "$GPU_GROUP" || return 1
		else
			id -nG "$name" | tr ' ' '\n' | grep -qx "$extra" || return 1
		fi
	done
}
make_users() {
	local name uid gid extra
	getent group "$GPU_GROUP" >/dev/null || groupadd -g "$GPU_GID" "$GPU_GROUP"
	for u in "${USERS[@]}"; do
		read -r name uid gid extra <<<"$u"
		getent group "$name" >/dev/null || groupadd -g "$gid" "$name"
		if ! id "$name" >/dev/null 2>&1; then
			useradd -m -u "$uid" -g "$gid" -s /bin/bash "$name"
		fi
		if [[ $extra != - ]]; then
			usermod -a -G "$extra" "$name"
		elif id -nG "$name" | tr ' ' '\n' | grep -qx "$GPU_GROUP"; then
			gpasswd -d "$name" "$GPU_GROUP" >/dev/null
		fi
	done
}

# --- sudoers ----------------------------------------------------------------

have_sudoers() { cmp -s "$SUDOERS_SRC" "$SUDOERS_DST"; }
install_sudoers() {
	visudo -c -q -f "$SUDOERS_SRC" || die "sudoers: $SUDOERS_SRC does not parse"
	install -m 0440 -o root -g root "$SUDOERS_SRC" "$SUDOERS_DST"
}

# --- fake GPUs --------------------------------------------------------------

# /dev/nvidiaN as the NVIDIA driver makes them: character device 195, minor
# N. 0-3 are vm's, 4-5 vm2's (one /dev for both).
GPU_MINORS=(0 1 2 3 "${NODE2_GPUS[@]}")
gpu_ok() { [[ -c /dev/nvidia$1 && $(stat -c '%t:%T' "/dev/nvidia$1") == "c3:$(printf '%x' "$1")" ]]; }
have_gpus() {
	local n
	for n in "${GPU_MINORS[@]}"; do
		gpu_ok "$n" || return 1
	done
}
make_gpus() {
	local n
	for n in "${GPU_MINORS[@]}"; do
		gpu_ok "$n" && continue
		rm -f "/dev/nvidia$n"
		mknod -m 0666 "/dev/nvidia$n" c 195 "$n"
	done
}

# --- munge ------------------------------------------------------------------

have_munge() {
	[[ -f /etc/munge/munge.key && $(stat -c '%U:%G %a' /etc/munge/munge.key) == 'munge:munge 400' ]] &&
		pgrep -x munged >/dev/null && munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}
start_munge() {
	if [[ ! -s /etc/munge/munge.key ]]; then
		mkdir -p /etc/munge
		mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
			dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
	fi
	chown munge:munge /etc/munge /etc/munge/munge.key
	chmod 0700 /etc/munge
	chmod 0400 /etc/munge/munge.key
	install -d -o munge -g munge -m 0755 /run/munge
	install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
	pgrep -x munged >/dev/null || without_fds runuser -u munge -- /usr/sbin/munged </dev/null >/dev/null 2>&1
	wait_for 10 bash -c 'munge -n | unmunge' || die "munge: munged does not answer"
}

# --- slurm ------------------------------------------------------------------

# The nodes' size as slurmd sees it. RealMemory must not exceed what slurmd
# detects, or the node registers as invalid and drains; leave 10% for the
# system and round down to a GiB so small readings' jitter changes nothing.
# vm2 is the same machine: the same size (CPUs and memory counted twice).
node_lines() {
	local c mem
	c=$(slurmd -C | head -n 1)
	mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$c")
	mem=$((mem * 9 / 10 / 1024 * 1024))
	local topo
	topo=$(grep -o '\(CPUs\|Boards\|SocketsPerBoard\|CoresPerSocket\|ThreadsPerCore\)=[0-9]*' <<<"$c" | tr '\n' ' ')
	echo "NodeName=$NODE NodeAddr=127.0.0.1 ${topo}RealMemory=$mem Gres=gpu:4 State=UNKNOWN"
	echo "NodeName=$NODE2 NodeHostname=$NODE2 NodeAddr=127.0.0.1 Port=$NODE2_PORT ${topo}RealMemory=$mem Gres=gpu:${#NODE2_GPUS[@]} State=UNKNOWN"
}

cgroup_plugin() {
	if have_cgroups; then echo cgroup/v1; else echo cgroup/v2; fi
}

# Per-node paths (%n): two slurmd daemons share this machine.
SLURMD_SPOOL=/var/spool/slurmd
slurmd_pidfile() {
	if [[ $1 == "$NODE2" ]]; then echo "$NODE2_SLURMD_PID"; else echo "/run/slurmd-$1.pid"; fi
}

slurm_conf() {
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh: a two-node test cluster on
		# one machine ($NODE2 runs in namespaces of its own: scripts/testenv-node2.sh).
		ClusterName=userdocker-test
		SlurmctldHost=$NODE(127.0.0.1)
		SlurmUser=$SLURM_USER
		AuthType=auth/munge
		CryptoType=crypto/munge
		MpiDefault=none
		ProctrackType=proctrack/cgroup
		TaskPlugin=task/cgroup,task/affinity
		SelectType=select/cons_tres
		SelectTypeParameters=CR_Core_Memory
		# Without a default every job would take the whole node's memory.
		DefMemPerCPU=1024
		GresTypes=gpu
		# userdocker's hooks (contrib/slurm/slurm.conf.fragment).
		PrologFlags=Alloc,Contain
		Prolog=$PROLOG
		Epilog=$EPILOG
		PrologEpilogTimeout=120
		ReturnToService=2
		SlurmctldTimeout=30
		SlurmdTimeout=30
		MessageTimeout=10
		KillWait=5
		InactiveLimit=0
		MinJobAge=60
		UnkillableStepTimeout=60
		Waittime=0
		SchedulerType=sched/backfill
		AccountingStorageType=accounting_storage/none
		JobAcctGatherType=jobacct_gather/none
		JobCompType=jobcomp/none
		StateSaveLocation=/var/spool/slurmctld
		SlurmdSpoolDir=$SLURMD_SPOOL/%n
		SlurmctldPidFile=/run/slurmctld.pid
		SlurmdPidFile=/run/slurmd-%n.pid
		SlurmctldLogFile=$SLURM_LOG_DIR/slurmctld.log
		SlurmdLogFile=$SLURM_LOG_DIR/slurmd-%n.log
		SlurmctldDebug=info
		SlurmdDebug=info
		$(node_lines)
		# The host's node alone: the tests that predate $NODE2 expect their
		# containers on the host's dockerd and one line from sinfo -h -o %T.
		# $NODE2 is in no partition; a multi-node test makes one for itself
		# (scontrol create PartitionName=multi Nodes=$NODE,$NODE2) and
		# deletes it. (Hidden=YES would not do: root sees hidden partitions.)
		PartitionName=debug Default=YES Nodes=$NODE MaxTime=INFINITE State=UP
	EOF
}
gres_conf() {
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh: fake GPUs (mknod c 195 N).
		NodeName=$NODE Name=gpu File=/dev/nvidia[0-3]
		NodeName=$NODE2 Name=gpu File=/dev/nvidia[${NODE2_GPUS[0]}-${NODE2_GPUS[-1]}]
	EOF
}
cgroup_conf() {
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh.
		CgroupPlugin=$(cgroup_plugin)
		ConstrainCores=yes
		ConstrainRAMSpace=yes
		ConstrainDevices=yes
	EOF
}

# conf_differs NAME: whether /etc/slurm/NAME differs from what we would write.
conf_differs() {
	! cmp -s <("${1%.conf}_conf") "$SLURM_CONF_DIR/$1"
}
slurmd_pid() { pid_of "$(slurmd_pidfile "$1")" slurmd; }
# stray_slurmds: slurmd daemons that are neither node's, such as the one of
# the single-node layout (pid file /run/slurmd.pid). A daemon's forks for
# prologs are slurmd too, but their parent is a slurmd.
stray_slurmds() {
	local pid ppid known
	known=" $(slurmd_pid "$NODE") $(slurmd_pid "$NODE2") "
	for pid in $(pgrep -x slurmd); do
		ppid=$(ps -o ppid= -p "$pid" | tr -d ' ') || continue
		[[ $(cat "/proc/$ppid/comm" 2>/dev/null) == slurmd || $known == *" $pid "* ]] || echo "$pid"
	done
}
# slurm_stale: whether a configuration file is newer than a running daemon,
# or a slurmd runs that belongs to no node of this configuration.
slurm_stale() {
	local f p comm
	while read -r p comm; do
		pid_of "$p" "$comm" >/dev/null || continue
		for f in slurm.conf gres.conf cgroup.conf; do
			[[ $SLURM_CONF_DIR/$f -nt $p ]] && return 0
		done
	done < <(printf '%s slurmctld\n%s slurmd\n%s slurmd\n' /run/slurmctld.pid \
		"$(slurmd_pidfile "$NODE")" "$(slurmd_pidfile "$NODE2")")
	[[ -n $(stray_slurmds) ]]
}
# slurmd_without_pmix: the nodes whose slurmd started before libpmix.so
# was installed (scripts/testenv-pmix.sh): their `srun --mpi=pmix` hangs.
slurmd_without_pmix() {
	local n
	for n in "$NODE" "$NODE2"; do
		slurmd_pid "$n" >/dev/null && pmix_newer_than "$(slurmd_pidfile "$n")" && echo "$n"
	done
	return 0
}

have_slurm_conf() {
	local f
	for f in slurm.conf gres.conf cgroup.conf; do
		conf_differs "$f" && return 1
	done
	[[ -x $PROLOG && -x $EPILOG && -d /var/spool/slurmctld ]] || return 1
	[[ -d $SLURMD_SPOOL/$NODE && -d $SLURMD_SPOOL/$NODE2 ]] || return 1
	[[ $(readlink "$SLURM_LOG_DIR/slurmd.log") == "slurmd-$NODE.log" ]]
}
write_slurm_conf() {
	local f
	mkdir -p "$SLURM_CONF_DIR" "$SLURM_LOG_DIR"
	for f in slurm.conf gres.conf cgroup.conf; do
		if conf_differs "$f"; then
			"${f%.conf}_conf" >"$SLURM_CONF_DIR/$f.new"
			chmod 0644 "$SLURM_CONF_DIR/$f.new"
			mv "$SLURM_CONF_DIR/$f.new" "$SLURM_CONF_DIR/$f"
		fi
	done
	install -d -o "$SLURM_USER" -g "$SLURM_USER" -m 0755 /var/spool/slurmctld
	install -d -m 0755 "$SLURMD_SPOOL" "$SLURMD_SPOOL/$NODE" "$SLURMD_SPOOL/$NODE2"
	chown "$SLURM_USER:$SLURM_USER" "$SLURM_LOG_DIR"
	# The single-node layout logged to slurmd.log: keep that name working
	# for the host's node (and keep what it holds).
	local old=$SLURM_LOG_DIR/slurmd.log
	if [[ -f $old && ! -L $old ]]; then
		cat "$old" >>"$SLURM_LOG_DIR/slurmd-$NODE.log"
		rm -f "$old"
	fi
	ln -sfn "slurmd-$NODE.log" "$old"
	local hook
	for hook in "$PROLOG" "$EPILOG"; do
		# Only where the real binary is missing: `make test` installs it.
		[[ -e $hook ]] && continue
		printf '#!/bin/sh\n# %s: the real %s is installed by `make install`/`make test`.\nexit 0\n' \
			"$PLACEHOLDER_MARK" "$(basename "$hook")" >"$hook"
		chmod 0755 "$hook"
	done
}

slurm_daemons_up() {
	pgrep -x slurmctld >/dev/null && slurmd_pid "$NODE" >/dev/null && slurmd_pid "$NODE2" >/dev/null &&
		! slurm_stale && [[ -z $(slurmd_without_pmix) ]]
}
# stop_daemon NAME: TERM each process of exactly that name, by pid, and wait.
stop_daemon() {
	local pid
	for pid in $(pgrep -x "$1"); do
		kill -TERM "$pid" 2>/dev/null || true
		wait_for 30 bash -c "! kill -0 $pid" || die "$1: pid $pid does not stop"
	done
}
start_slurm() {
	if slurm_stale; then
		say "slurm: configuration newer than the daemons, restarting slurmctld and slurmd"
		stop_daemon slurmd
		stop_daemon slurmctld
		rm -f /run/slurmd.pid
	fi
	local n pid
	for n in $(slurmd_without_pmix); do
		say "slurm: slurmd of $n started before libpmix was installed, restarting it"
		pid=$(slurmd_pid "$n") && stop_pid "$pid" slurmd
	done
	# All daemonize themselves. vm2's slurmd runs in vm2's mount and UTS
	# namespaces, in the host's network namespace.
	pgrep -x slurmctld >/dev/null || without_fds slurmctld </dev/null >/dev/null 2>&1 ||
		{ slurm_logs; die "slurm: slurmctld does not start"; }
	wait_for 30 scontrol ping || { slurm_logs; die "slurm: slurmctld does not answer"; }
	slurmd_pid "$NODE" >/dev/null || without_fds slurmd -N "$NODE" </dev/null >/dev/null 2>&1 ||
		{ slurm_logs; die "slurm: slurmd -N $NODE does not start"; }
	slurmd_pid "$NODE2" >/dev/null || without_fds in_node2_hostnet slurmd -N "$NODE2" </dev/null >/dev/null 2>&1 ||
		{ slurm_logs; die "slurm: slurmd -N $NODE2 does not start"; }
	# slurmd writes its pid file once it has daemonized.
	wait_for 30 slurm_daemons_up || { slurm_logs; die "slurm: the daemons' pid files do not appear"; }
}

slurm_logs() {
	local f
	for f in "$SLURM_LOG_DIR/slurmctld.log" "$SLURM_LOG_DIR/slurmd-$NODE.log" "$SLURM_LOG_DIR/slurmd-$NODE2.log"; do
		[[ -e $f ]] || continue
		echo "---- last lines of $f" >&2
		tail -n 40 "$f" >&2
	done
}

# node_state NAME: the node's state as scontrol says it (IDLE, MIXED,
# IDLE+DRAIN, DOWN+NOT_RESPONDING, …): sinfo lists no node that is in no
# partition, as vm2 mostly is.
node_state() { scontrol -o show node "$1" 2>/dev/null | sed -n 's/.* State=\([^ ]*\).*/\1/p'; }
node_ready() { [[ $(node_state "$1") =~ ^(IDLE|MIXED|ALLOCATED|COMPLETING)(\+COMPLETING)?$ ]]; }
nodes_ready() { node_ready "$NODE" && node_ready "$NODE2"; }
# wait_node NAME
wait_node() {
	local deadline=$((SECONDS + 60)) st resumed=0
	while ! node_ready "$1"; do
		st=$(node_state "$1")
		# down/drain while slurmd answers means the node was set aside (a
		# failed prolog or epilog, an earlier bad registration).
		if [[ $st =~ DOWN|DRAIN|FAIL && $st != *NOT_RESPONDING* ]] && ((resumed < 3)); then
			say "slurm: node $1 is $st ($(scontrol -o show node "$1" | sed -n 's/.* Reason=\(.*\)/\1/p')), resuming it"
			scontrol update nodename="$1" state=resume || true
			resumed=$((resumed + 1))
		fi
		if ((SECONDS >= deadline)); then
			scontrol show node "$1" >&2 || true
			slurm_logs
			die "slurm: node $1 is '$st', not idle, after 60s"
		fi
		sleep 1
	done
}
have_slurm() { slurm_daemons_up && nodes_ready; }
start_slurm_and_wait() {
	start_slurm
	wait_node "$NODE"
	wait_node "$NODE2"
}

# A real job as a real user, asking for GPUs: exercises munge, the
# scheduler, GRES, the cgroup plugins and the prolog/epilog in one go.
# Inside a step Slurm 22.05 sets SLURM_STEP_GPUS and CUDA_VISIBLE_DEVICES;
# SLURM_JOB_GPUS only reaches the prolog, the epilog and batch scripts.
srun_works() {
	local out
	out=$(cd / && timeout 60 runuser -u udtest-alice -- srun --quiet -N1 -t 1 --gres=gpu:1 \
		sh -c 'echo "gpus=$SLURM_STEP_GPUS"') || return 1
	[[ $out == gpus=[0-3] ]] || {
		echo "srun printed '$out', want gpus=<index>" >&2
		return 1
	}
}
# A job on both nodes: one task each, on its node's GPUs (GRES indices
# count per node).
srun_multi_works() {
	local out
	multi_partition_up || return 1
	out=$(cd / && timeout 60 runuser -u udtest-alice -- srun --quiet -p "$MULTI_PARTITION" -N2 -t 1 --gres=gpu:1 \
		sh -c 'echo "$(hostname) gpus=$SLURM_STEP_GPUS"' | sort | tr '\n' ' ') || true
	multi_partition_down || return 1
	[[ $out =~ ^$NODE\ gpus=[0-3]\ $NODE2\ gpus=[01]\ $ ]] || {
		echo "srun -p multi -N2 printed '$out', want '$NODE gpus=<0-3> $NODE2 gpus=<0-1>'" >&2
		return 1
	}
}
# A step with a PMIx server (slurmd found libpmix): each task gets its rank.
srun_pmix_works() {
	local out
	out=$(cd / && timeout 60 runuser -u udtest-alice -- srun --quiet -N1 -n2 -t 1 --mpi=pmix \
		sh -c 'echo "$PMIX_RANK"' | sort | tr '\n' ' ') || true
	[[ $out == '0 1 ' ]] || {
		echo "srun -n2 --mpi=pmix printed '$out', want PMIX_RANK 0 and 1" >&2
		return 1
	}
}
srun_fix() {
	slurm_logs
	return 1
}

# --- main -------------------------------------------------------------------

[[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts daemons)"
[[ -r $HOOK_SRC ]] || die "$HOOK_SRC not found: run from a userdocker checkout"

step packages have_packages install_packages
step cgroups have_cgroups mount_cgroups
step gpu-hook have_hook install_hook
# dockerd first among the daemons: others may be using it, so restart it
# early and only when the hook is missing from its PATH.
step dockerd have_dockerd start_dockerd
after have_dockerd -- "images have_images build_images" "hook-records-gpus hook_works no_fix"
after have_dockerd have_packages -- "pmix-image have_pmix_image build_pmix_image"
# The registry before vm2, whose dockerd pulls through the mirror.
step registry have_registry start_registry_main
step registry-mirror have_mirror start_mirror
after have_dockerd have_registry -- "registry-images have_registry_images push_registry_images"
after have_mirror have_registry_images -- "mirror-serves mirror_serves no_fix"
# The second node: its namespaces, dockerd and images; Slurm comes later.
step vm2-network have_node2_network make_node2_network
step vm2-namespaces have_node2_ns make_node2_ns
step vm2-hosts have_node2_hosts add_node2_hosts
after have_node2_network have_node2_ns -- "vm2-dockerd have_node2_dockerd start_node2_dockerd"
after have_node2_dockerd have_images -- "vm2-images have_node2_images load_node2_images" \
	"vm2-hook-records-gpus node2_hook_works no_fix" "vm2-tcp node2_tcp_works no_fix"
step users have_users make_users
step sudoers have_sudoers install_sudoers
step fake-gpus have_gpus make_gpus
step munge have_munge start_munge
step slurm-config have_slurm_conf write_slurm_conf
after have_node2_ns -- "slurm have_slurm start_slurm_and_wait"
after have_slurm have_users -- "srun-gres srun_works srun_fix" "srun-two-nodes srun_multi_works srun_fix" \
	"srun-pmix srun_pmix_works srun_fix"
# Last: nothing above needs Podman.
step podman have_podman start_podman
after have_podman have_images -- "podman-images have_podman_images load_podman_images" \
	"podman-docker-cli podman_runs no_fix"

if ((CHECK)) && ((${#MISSING[@]})); then
	echo "testenv: missing: ${MISSING[*]}" >&2
	exit 1
fi
say "ready"
