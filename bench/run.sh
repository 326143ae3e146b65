#!/usr/bin/env bash
# bench/run.sh — wall time of `sudo userdocker run --rm IMG true` against
# `docker run --rm IMG true`, alternated so that both see the same machine
# state, and userdocker's own CPU time (user+sys of the userdocker process,
# from /proc via GNU time, without the container).
#
# Targets (issue 2): median ratio userdocker/docker <= 0.9, userdocker CPU
# < 15 ms per run. Needs root and the test machine of scripts/testenv.sh.
#
# Fair start: both commands are started the same way, by one shell running
# as an unprivileged user who may use both: a member of the docker group
# (for `docker run`) with a sudo rule for userdocker. That user and rule
# exist only while the benchmark runs.
set -euo pipefail

N=${N:-20}
IMG=${IMG:-ud-test/busybox:latest}
USER_NAME=udbench
UD=${UD:-/usr/local/lib/userdocker-test/userdocker}  # built with the test config by the integration suite
DOCKER=${DOCKER:-/usr/bin/docker}   # Debian's docker.io client, the one admins have

id "$USER_NAME" >/dev/null 2>&1 || useradd -m -G docker "$USER_NAME"
echo "$USER_NAME ALL=(root) NOPASSWD: $UD, /bin/true" >/etc/sudoers.d/userdocker-bench
chmod 0440 /etc/sudoers.d/userdocker-bench
trap 'rm -f /etc/sudoers.d/userdocker-bench; userdel -r "$USER_NAME" 2>/dev/null || true' EXIT

[ -x "$UD" ] && [ -f /etc/userdocker-test/config.toml ] || {
  echo "bench: $UD and its config come from the integration suite: run make test first" >&2; exit 1; }
# The alternating loop runs inside one shell of the benchmark user and
# prints "userdocker_ms docker_ms" per round.
mapfile -t rounds < <(setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --init-groups \
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/$USER_NAME bash -c '
  now() { date +%s%N; }
  for ((i = 0; i < '"$N"'; i++)); do
    t0=$(now); sudo -n '"$UD"' run --rm '"$IMG"' true >/dev/null
    t1=$(now); '"$DOCKER"' run --rm '"$IMG"' true >/dev/null
    t2=$(now); echo $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))
  done')
ud_ms=() docker_ms=()
for r in "${rounds[@]}"; do
  ud_ms+=("${r% *}") docker_ms+=("${r#* }")
done
[ "${#ud_ms[@]}" -eq "$N" ] || { echo "bench: only ${#ud_ms[@]} of $N rounds ran" >&2; exit 1; }

# userdocker's CPU time (user+sys of the process and its threads, not the
# container's): bash's `times` sums the children it waited for, and theirs
# (sudo waits for userdocker). userdocker believes SUDO_UID only from a
# real sudo, so it runs through sudo as the benchmark user, and sudo's own
# CPU, measured by `sudo -n /bin/true`, is taken off. Per run: divided by N.
cpu_of() {
  setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --init-groups \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/$USER_NAME bash -c '
    for ((i = 0; i < '"$N"'; i++)); do sudo -n '"$1"' >/dev/null; done; times' | tail -n1 |
    awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", (u[1]*60 + u[2] + s[1]*60 + s[2]) * 1000 }'
}
with_ud=$(cpu_of "$UD run --rm $IMG true")
sudo_only=$(cpu_of /bin/true)
mc=$(awk -v a="$with_ud" -v b="$sudo_only" -v n="$N" 'BEGIN { printf "%.1f", (a - b) / n }')

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mu=$(median "${ud_ms[@]}"); md=$(median "${docker_ms[@]}")
ratio=$(awk -v a="$mu" -v b="$md" 'BEGIN {printf "%.2f", a/b}')
echo "runs: $N alternated; image $IMG"
echo "median wall: sudo userdocker run ${mu} ms, docker run ${md} ms, ratio ${ratio} (target <= 0.9)"
echo "mean userdocker CPU (user+sys) per run: ${mc} ms (target < 15 ms)"
