#!/usr/bin/env bash
# demo.sh — userdocker at work on the test machine, as the unprivileged
# user uddemo: a container in a 2-GPU Slurm job gets exactly the job's GPUs
# and CPUs and runs as uddemo; a detached container is removed by ud-epilog
# when its job ends; a job on two nodes gets a container on each, on that
# node's dockerd with that node's GPU.
#
# `make demo` runs it after scripts/testenv.sh and `make install-test-bins`
# (userdocker in /usr/local/bin, ud-prolog/ud-epilog in /usr/local/sbin).
# It needs root: it reads what the stand-in GPU hook recorded and what
# Docker and Slurm say from the outside.
set -euo pipefail

DEMO_USER=${DEMO_USER:-uddemo}
UD=/usr/local/bin/userdocker
CONFIG=/etc/userdocker/config.toml
DEMO_CONFIG=$(cd "$(dirname "$0")/.." && pwd)/contrib/config/demo.toml
HOOK_DIR=/var/lib/userdocker-test/hook
STATE_DIR=/run/userdocker

if [[ -t 1 ]]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[0m'; else B= D= G= R=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$R"; }
say() { printf '%s%s%s\n' "$D" "$*" "$R"; }
show() { printf '%s$ %s%s\n' "$G" "$*" "$R"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
# as_demo runs a shell command line as the demo user, in a login shell.
as_demo() { su - "$DEMO_USER" -c "$1"; }

[[ $(id -u) == 0 ]] || die "run as root (make demo)"
[[ -x $UD ]] || die "$UD is missing: make install-test-bins"
id "$DEMO_USER" >/dev/null 2>&1 || die "user $DEMO_USER is missing: scripts/testenv.sh"
# The integration suites' machine lock (test/testlock): the demo's jobs
# would take the CPUs their jobs wait for.
exec 9>/run/userdocker-integration.lock
flock -n 9 || { say "waiting for the integration tests running on this machine…"; flock 9; }

step "0. the site policy"
if [[ -e $CONFIG ]]; then
	say "using the existing $CONFIG (not changed; it must allow ud-test/* images for this demo)"
else
	install -d -m 0755 /etc/userdocker
	install -m 0644 "$DEMO_CONFIG" "$CONFIG"
	say "no $CONFIG yet: installed the demo policy contrib/config/demo.toml there (remove it when done)"
fi
"$UD" config check >/dev/null || die "$CONFIG does not pass 'userdocker config check'"

step "1. a container in a 2-GPU job gets exactly the job's GPUs and CPUs"
say "uddemo asks Slurm for 2 GPUs and 1 CPU, then runs a CUDA-style image (ENV NVIDIA_VISIBLE_DEVICES=all) through sudo:"
step1=$(mktemp /tmp/ud-demo.XXXXXX)
trap 'rm -f "$step1"' EXIT
cat >"$step1" <<EOS
#!/bin/sh
echo "  Slurm gave job \$SLURM_JOB_ID: GPUs \$SLURM_STEP_GPUS, CPUs \$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
exec sudo -n $UD run --rm ud-test/cuda sh -c 'echo "  container: uid \$(id -u), NVIDIA_VISIBLE_DEVICES=\$NVIDIA_VISIBLE_DEVICES, cpuset \$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)"; sed -n "s#^[0-9]*:cpuset:/docker/##p" /proc/self/cgroup'
EOS
chmod 0755 "$step1"
cmd="srun --gres=gpu:2 -c1 --mem=256 $step1"
show "srun --gres=gpu:2 -c1 --mem=256 sudo userdocker run --rm ud-test/cuda sh -c 'id -u; echo \$NVIDIA_VISIBLE_DEVICES; cat …/cpuset.cpus'"
out=$(as_demo "$cmd")
grep -v '^[0-9a-f]\{64\}$' <<<"$out"
cid=$(grep '^[0-9a-f]\{64\}$' <<<"$out" || true)
if [[ -n $cid && -e $HOOK_DIR/$cid ]]; then
	say "what dockerd handed the NVIDIA hook for that container ($HOOK_DIR/${cid:0:12}…):"
	echo "  hook: NVIDIA_VISIBLE_DEVICES=$(cat "$HOOK_DIR/$cid")"
else
	say "(the stand-in GPU hook recorded nothing for the container: is dockerd running with it? scripts/testenv.sh)"
fi

step "2. outside a job, nothing runs"
show "sudo userdocker run --rm ud-test/busybox true"
as_demo "sudo -n $UD run --rm ud-test/busybox true" 2>&1 | sed 's/^/  /' || true

step "3. a detached container lives only as long as its job"
say "uddemo submits a batch job and starts a detached container in it with srun --jobid:"
job=$(as_demo "cd /tmp && sbatch --parsable --gres=gpu:1 -c1 --mem=128 --output=/dev/null --job-name=ud-demo --wrap='sleep 600'")
for _ in $(seq 100); do [[ $(squeue -h -j "$job" -o %T) == RUNNING ]] && break; sleep 0.2; done
show "srun --jobid=$job --overlap sudo userdocker run -d ud-test/busybox sh -c 'trap exit TERM; sleep 600 & wait'"
id=$(as_demo "srun --jobid=$job --overlap sudo -n $UD run -d ud-test/busybox sh -c 'trap \"exit 0\" TERM; sleep 600 & wait'")
say "Docker's view (as root), and ud-prolog's record of the job:"
docker ps --filter "label=io.userdocker.job=$job" --format '{{.Names}}  {{.Status}}  job={{.Label "io.userdocker.job"}} uid={{.Label "io.userdocker.uid"}} gpus={{.Label "io.userdocker.gpus"}}' | sed 's/^/  /'
echo "  $(ls "$STATE_DIR/job-$job.json")"
show "scancel $job"
scancel "$job"
t0=$(date +%s%N)
for _ in $(seq 300); do docker inspect "$id" >/dev/null 2>&1 || break; sleep 0.1; done
if docker inspect "$id" >/dev/null 2>&1; then
	say "the container is still there after 30 s: see /var/log/slurm/slurmd-$(hostname -s).log"
	exit 1
fi
say "ud-epilog removed the container $(( ($(date +%s%N) - t0) / 1000000 )) ms after scancel; the record is gone too:"
echo "  containers of job $job: $(docker ps -aq --filter "label=io.userdocker.job=$job" | wc -l); record: $(ls "$STATE_DIR/job-$job.json" 2>/dev/null || echo none)"
echo "  node state: $(sinfo -h -o %T)"

step "4. one job on two nodes: a container on each, with that node's GPU"
say "vm2 is this machine in namespaces of its own, with its own slurmd, dockerd and GPUs /dev/nvidia4-5 (docs/testing.md)."
step4=$(mktemp /tmp/ud-demo.XXXXXX)
trap 'rm -f "$step1" "$step4"' EXIT
cat >"$step4" <<EOS
#!/bin/sh
c=\$(sudo -n $UD run --rm ud-test/cuda sh -c 'echo "NVIDIA_VISIBLE_DEVICES=\$NVIDIA_VISIBLE_DEVICES"')
echo "  node \$(hostname): Slurm gave GPU \$SLURM_STEP_GPUS; its container got \$c"
EOS
chmod 0755 "$step4"
# vm2 is in no partition of the test slurm.conf (docs/testing.md): one
# made for this step.
scontrol show partition multi >/dev/null 2>&1 || scontrol create PartitionName=multi Nodes="$(hostname -s),vm2" State=UP
show "srun -p multi -N2 --gres=gpu:1 -c1 --mem=256 sudo userdocker run --rm ud-test/cuda sh -c 'echo \$NVIDIA_VISIBLE_DEVICES'"
as_demo "srun -p multi -N2 --gres=gpu:1 -c1 --mem=256 $step4" | sort
for _ in $(seq 60); do scontrol delete PartitionName=multi 2>/dev/null && break; sleep 1; done
