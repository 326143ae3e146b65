# testenv-node2.sh — sourced by testenv.sh: the second Slurm node, vm2.
#
# vm2 is this same machine seen through namespaces of its own, so that
# what runs "on vm2" (its slurmd, the prolog and epilog that slurmd runs,
# userdocker called in a job step there, its dockerd) finds that node's
# files and daemon at the usual paths, as on a real second node:
#
#   mount ns   $NODE2_MNT_NS   /run is $NODE2_RUN of the host (so vm2's
#                              /run/docker.sock, /run/userdocker, pid files
#                              are host-visible there); /run/munge is the
#                              host's (one munge for the cluster)
#   UTS ns     $NODE2_UTS_NS   hostname vm2
#   net ns     $NODE2_NET_NS   vm2's dockerd and its containers: eth0
#                              $NODE2_ADDR/24 <-veth-> $HOST_ADDR/24 on the
#                              host ($VETH_HOST); 127.0.0.1:5000/5001 there
#                              lead to the host's registry and mirror
#
# slurmd -N vm2 runs in vm2's mount and UTS namespaces but in the host's
# network namespace (NodeAddr=127.0.0.1 Port=$NODE2_PORT), so slurmctld and
# srun reach it as before; its dockerd runs in all three. The namespace files
# are bind mounts under $NS_DIR (`nsenter --mount=… --uts=… --net=…`), so the
# namespaces outlive their daemons and a later run finds them again.
#
# Nothing in the product knows: it reads /run/userdocker, talks to
# unix:///var/run/docker.sock and reads gres.conf for $SLURMD_NODENAME, as on
# any node.

NODE2=vm2
NODE2_PORT=6819
NODE2_GPUS=(4 5) # /dev/nvidia4, /dev/nvidia5
TEST_RUN=/run/userdocker-test
NODE2_RUN=$TEST_RUN/vm2
NS_DIR=$TEST_RUN/ns
NODE2_MNT_NS=$NS_DIR/vm2.mnt
NODE2_UTS_NS=$NS_DIR/vm2.uts
NODE2_NETNS=udtest-vm2
NODE2_NET_NS=/run/netns/$NODE2_NETNS
VETH_HOST=veth-vm2
HOST_ADDR=10.89.0.1
NODE2_ADDR=10.89.0.2
NODE2_LIB=/var/lib/userdocker-test/vm2
NODE2_SOCK=$NODE2_RUN/docker.sock
NODE2_DOCKERD_CONF=$TESTENV_ETC/vm2-daemon.json
NODE2_DOCKERD_LOG=$TEST_LOG_DIR/dockerd-vm2.log
# vm2's slurmd pid file as the host sees it (SlurmdPidFile=/run/slurmd-%n.pid).
NODE2_SLURMD_PID=$NODE2_RUN/slurmd-$NODE2.pid
# Ports of the host that vm2 reaches at 127.0.0.1: the registry and its mirror.
FORWARDED_PORTS=5000,5001

docker2() { docker -H "unix://$NODE2_SOCK" "$@"; }
# in_node2 CMD…: run CMD as a process of vm2 (its mount, UTS and network namespaces).
in_node2() { nsenter --mount="$NODE2_MNT_NS" --uts="$NODE2_UTS_NS" --net="$NODE2_NET_NS" -- "$@"; }
# in_node2_hostnet CMD…: as vm2's slurmd runs, in the host's network namespace.
in_node2_hostnet() { nsenter --mount="$NODE2_MNT_NS" --uts="$NODE2_UTS_NS" -- "$@"; }

# --- network ----------------------------------------------------------------

# What vm2's network namespace must hold, as `ip -br` and iptables show it.
have_node2_network() {
	[[ -e $NODE2_NET_NS ]] || return 1
	ip -br addr show dev "$VETH_HOST" 2>/dev/null | grep -q "UP.* $HOST_ADDR/24" || return 1
	ip -n "$NODE2_NETNS" -br addr show dev eth0 2>/dev/null | grep -q "UP.* $NODE2_ADDR/24" || return 1
	ip -n "$NODE2_NETNS" -br link show dev lo 2>/dev/null | grep -q UNKNOWN || return 1
	# No default route: like the host, vm2 reaches nothing outside, and
	# fails at once (not after DNS timeouts) when it tries.
	[[ -z $(ip -n "$NODE2_NETNS" route show default) ]] || return 1
	[[ $(cat "/proc/sys/net/ipv4/conf/$VETH_HOST/route_localnet" 2>/dev/null) == 1 ]] || return 1
	[[ $(ip netns exec "$NODE2_NETNS" cat /proc/sys/net/ipv4/conf/all/route_localnet 2>/dev/null) == 1 ]] || return 1
	iptables -w -t nat -C PREROUTING "${HOST_NAT_RULE[@]}" 2>/dev/null || return 1
	ip netns exec "$NODE2_NETNS" iptables -w -t nat -C OUTPUT "${NODE2_NAT_RULE[@]}" 2>/dev/null || return 1
	ip netns exec "$NODE2_NETNS" iptables -w -t nat -C POSTROUTING "${NODE2_SNAT_RULE[@]}" 2>/dev/null || return 1
}
# 127.0.0.1:5000 and :5001 inside vm2 are the host's registry and mirror, so
# that one image name (127.0.0.1:5000/…, insecure for dockerd by default)
# works on every node: vm2 sends them to $HOST_ADDR, the host hands what
# arrives there from the veth to its loopback (route_localnet on that one
# interface). The registry's log shows vm2's requests as from $NODE2_ADDR.
HOST_NAT_RULE=(-i "$VETH_HOST" -d "$HOST_ADDR" -p tcp -m multiport --dports "$FORWARDED_PORTS"
	-j DNAT --to-destination 127.0.0.1)
NODE2_NAT_RULE=(-d 127.0.0.1 -p tcp -m multiport --dports "$FORWARDED_PORTS"
	-j DNAT --to-destination "$HOST_ADDR")
NODE2_SNAT_RULE=(-s 127.0.0.0/8 -o eth0 -j SNAT --to-source "$NODE2_ADDR")
make_node2_network() {
	[[ -e $NODE2_NET_NS ]] || ip netns add "$NODE2_NETNS"
	if ! ip link show dev "$VETH_HOST" >/dev/null 2>&1; then
		ip link add "$VETH_HOST" type veth peer name eth0 netns "$NODE2_NETNS"
	fi
	ip addr replace "$HOST_ADDR/24" dev "$VETH_HOST"
	ip link set "$VETH_HOST" up
	ip -n "$NODE2_NETNS" addr replace "$NODE2_ADDR/24" dev eth0
	ip -n "$NODE2_NETNS" link set eth0 up
	ip -n "$NODE2_NETNS" link set lo up
	ip -n "$NODE2_NETNS" route flush exact 0.0.0.0/0
	sysctl -q -w "net.ipv4.conf.$VETH_HOST.route_localnet=1"
	ip netns exec "$NODE2_NETNS" sysctl -q -w net.ipv4.conf.all.route_localnet=1
	iptables -w -t nat -C PREROUTING "${HOST_NAT_RULE[@]}" 2>/dev/null ||
		iptables -w -t nat -I PREROUTING "${HOST_NAT_RULE[@]}"
	ip netns exec "$NODE2_NETNS" iptables -w -t nat -C OUTPUT "${NODE2_NAT_RULE[@]}" 2>/dev/null ||
		ip netns exec "$NODE2_NETNS" iptables -w -t nat -I OUTPUT "${NODE2_NAT_RULE[@]}"
	ip netns exec "$NODE2_NETNS" iptables -w -t nat -C POSTROUTING "${NODE2_SNAT_RULE[@]}" 2>/dev/null ||
		ip netns exec "$NODE2_NETNS" iptables -w -t nat -I POSTROUTING "${NODE2_SNAT_RULE[@]}"
}

# --- mount and UTS namespaces -------------------------------------------------

# devino PATH: the device and inode of PATH, to tell whether two paths are
# the same directory.
devino() { stat -L -c '%d:%i' "$1"; }
# in_node2_ns PID [net]: whether PID runs in vm2's mount and UTS namespaces
# (and, with "net", its network namespace) — not in those of an earlier vm2.
in_node2_ns() {
	[[ $(stat -L -c %i "/proc/$1/ns/mnt") == "$(stat -L -c %i "$NODE2_MNT_NS")" &&
		$(stat -L -c %i "/proc/$1/ns/uts") == "$(stat -L -c %i "$NODE2_UTS_NS")" ]] || return 1
	[[ ${2:-} != net || $(stat -L -c %i "/proc/$1/ns/net") == "$(stat -L -c %i "$NODE2_NET_NS")" ]]
}
have_node2_ns() {
	mountpoint -q "$NODE2_MNT_NS" && mountpoint -q "$NODE2_UTS_NS" || return 1
	[[ $(in_node2_hostnet hostname) == "$NODE2" ]] || return 1
	[[ $(in_node2_hostnet stat -L -c '%d:%i' /run) == "$(devino "$NODE2_RUN")" ]] || return 1
	[[ $(in_node2_hostnet stat -L -c '%d:%i' /run/munge) == "$(devino /run/munge)" ]]
}
make_node2_ns() {
	mkdir -p "$NS_DIR" "$NODE2_RUN/munge" "$NODE2_RUN/lock"
	install -d -m 0755 /run/munge
	# unshare(1) can only keep a mount namespace in a file on a private mount.
	if ! mountpoint -q "$NS_DIR"; then
		mount --bind "$NS_DIR" "$NS_DIR"
		mount --make-private "$NS_DIR"
	fi
	# vm2's daemons live in the namespaces they were started in: a new
	# namespace means new daemons.
	local f pid
	for f in "$NODE2_RUN/docker.pid dockerd" "$NODE2_SLURMD_PID slurmd"; do
		set -- $f
		if pid=$(pid_of "$1" "$2"); then
			say "$NODE2-namespaces: stopping $2 (pid $pid) of the namespaces being replaced"
			stop_pid "$pid" "$2"
		fi
	done
	# Left over from a namespace whose setup failed half-way.
	for f in "$NODE2_MNT_NS" "$NODE2_UTS_NS"; do
		mountpoint -q "$f" && umount "$f"
		: >"$f"
	done
	# In the new namespace: drop the copies of the host's container and
	# namespace mounts (they would keep the host's containers' file systems
	# busy), then give vm2 its own /run with the host's munge socket in it.
	unshare --mount="$NODE2_MNT_NS" --uts="$NODE2_UTS_NS" --propagation private sh -euc '
		hostname "$1"
		for m in $(awk '\''$5 ~ "^/(run|var/lib/docker|var/lib/containers)/" { print $5 }'\'' /proc/self/mountinfo | sort -r); do
			umount -l "$m" 2>/dev/null || true
		done
		mount --bind /run/munge "$2/munge"
		mount --rbind "$2" /run
	' sh "$NODE2" "$NODE2_RUN"
}

# --- dockerd ------------------------------------------------------------------

# vm2's dockerd: its own data root, exec root (/run/docker of vm2), socket,
# pid file, bridge (in its own network namespace) and cgroup parent. It is
# vm2's only daemon, so it listens on vm2's /run/docker.sock, which the host
# sees as $NODE2_SOCK. Docker Hub names are pulled through the mirror.
node2_dockerd_conf() {
	cat <<-EOF
		{
			"data-root": "$NODE2_LIB/docker",
			"exec-root": "/run/docker",
			"pidfile": "/run/docker.pid",
			"hosts": ["unix:///run/docker.sock"],
			"bip": "172.18.0.1/16",
			"cgroup-parent": "/docker-$NODE2",
			"registry-mirrors": ["http://127.0.0.1:$MIRROR_PORT"]
		}
	EOF
}
node2_dockerd_pid() { pid_of "$NODE2_RUN/docker.pid" dockerd; }
have_node2_dockerd() {
	local pid
	pid=$(node2_dockerd_pid) || return 1
	in_node2_ns "$pid" net || return 1
	cmp -s <(node2_dockerd_conf) "$NODE2_DOCKERD_CONF" || return 1
	[[ ! $NODE2_DOCKERD_CONF -nt $NODE2_RUN/docker.pid ]] || return 1
	has_hook_path "$pid" || return 1
	[[ $(docker2 info --format '{{.Name}}' 2>/dev/null) == "$NODE2" ]]
}
start_node2_dockerd() {
	mkdir -p "$TESTENV_ETC" "$NODE2_LIB/docker" "$TEST_LOG_DIR"
	if ! cmp -s <(node2_dockerd_conf) "$NODE2_DOCKERD_CONF"; then
		node2_dockerd_conf >"$NODE2_DOCKERD_CONF.new"
		mv "$NODE2_DOCKERD_CONF.new" "$NODE2_DOCKERD_CONF"
	fi
	local pid
	if pid=$(node2_dockerd_pid); then
		if [[ $NODE2_DOCKERD_CONF -nt $NODE2_RUN/docker.pid ]] || ! has_hook_path "$pid" || ! in_node2_ns "$pid" net; then
			say "$NODE2-dockerd: pid $pid runs with an older configuration or in older namespaces, restarting it"
			stop_pid "$pid" dockerd
			pid=
		fi
	fi
	if [[ -z $pid ]]; then
		without_fds in_node2 env PATH="$DOCKERD_PATH" setsid -f dockerd --config-file "$NODE2_DOCKERD_CONF" \
			>>"$NODE2_DOCKERD_LOG" 2>&1 </dev/null
	fi
	if ! wait_for 60 docker2 info; then
		tail -n 30 "$NODE2_DOCKERD_LOG" >&2 || true
		die "$NODE2-dockerd: does not answer on $NODE2_SOCK after 60s (log: $NODE2_DOCKERD_LOG)"
	fi
}

# The same images as the host's, with the same IDs (as if both had pulled
# them from one registry).
have_node2_images() {
	local i
	for i in "${IMAGES[@]}"; do
		[[ $(docker2 image inspect -f '{{.Id}}' "$i" 2>/dev/null) == "$(docker image inspect -f '{{.Id}}' "$i")" ]] || return 1
	done
}
load_node2_images() { docker save "${IMAGES[@]}" | docker2 load -q >/dev/null; }

node2_hook_works() { hook_works docker2; }

# A container on each node, both in their node's host network, talk TCP:
# busybox httpd on vm at $HOST_ADDR serves its /etc/hostname, and wget on
# vm2 fetches it.
node2_tcp_works() {
	local srv out port=18089
	srv=$(docker run -d --rm --network host ud-test/busybox:latest \
		httpd -f -p "$HOST_ADDR:$port" -h /etc) || return 1
	out=$(docker2 run --rm --network host ud-test/busybox:latest sh -c \
		"for i in \$(seq 50); do wget -q -O- http://$HOST_ADDR:$port/hostname 2>/dev/null && exit 0; sleep 0.1; done; exit 1") || true
	docker rm -f "$srv" >/dev/null 2>&1 || true
	[[ $out == "$NODE" ]] || {
		echo "a container on $NODE2 read '$out' from $HOST_ADDR:$port, want '$NODE'" >&2
		return 1
	}
}

# --- Slurm ----------------------------------------------------------------------

# vm2 is in no partition of slurm.conf: root sees every partition, hidden
# or not, and the older suites want one line from `sinfo -h -o %T` as root.
# A multi-node job runs in a partition made for the time it needs.
MULTI_PARTITION=multi
multi_partition_up() {
	scontrol show partition "$MULTI_PARTITION" >/dev/null 2>&1 ||
		scontrol create PartitionName="$MULTI_PARTITION" Nodes="$NODE,$NODE2" MaxTime=INFINITE State=UP
}
# Slurm refuses to delete a partition while a job of it is not finished
# (the epilog still runs): retry for a minute.
multi_partition_down() {
	wait_for 60 bash -c "! scontrol show partition $MULTI_PARTITION >/dev/null 2>&1 ||
		scontrol delete PartitionName=$MULTI_PARTITION" ||
		{ echo "scontrol delete PartitionName=$MULTI_PARTITION keeps failing" >&2; return 1; }
}

# Real nodes resolve each other's names, and sudo resolves its own host's
# (else: "sudo: unable to resolve host vm2").
HOSTS_LINE="$NODE2_ADDR $NODE2 # userdocker testenv: the emulated second node"
have_node2_hosts() { grep -qxF "$HOSTS_LINE" /etc/hosts; }
add_node2_hosts() { echo "$HOSTS_LINE" >>/etc/hosts; }

# --- helpers shared with testenv.sh -------------------------------------------

# pid_of PIDFILE COMM: the pid in PIDFILE if that process lives and is COMM.
pid_of() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 1
	echo "$pid"
}
# stop_pid PID NAME: TERM it and wait; KILL after 30 s.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	wait_for 30 bash -c "! kill -0 $1" && return 0
	say "$2: pid $1 did not stop within 30s, killing it"
	kill -KILL "$1" 2>/dev/null || true
	wait_for 10 bash -c "! kill -0 $1" || die "$2: pid $1 does not go away"
}
