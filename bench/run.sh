#!/usr/bin/env bash
# bench/run.sh — wall time of `sudo userdocker run --rm IMG true` against
# `docker run --rm IMG true`, alternated so that both see the same machine
# state, and userdocker's own CPU time (user+sys of the userdocker process,
# from /proc via GNU time, without the container).
#
# Targets (issue 2): median ratio userdocker/docker <= 0.9, userdocker CPU
# < 15 ms per run. Needs root, the test machine of scripts/testenv.sh and
# an installed /usr/local/bin/userdocker allowed by /etc/sudoers.d/userdocker.
set -euo pipefail

N=${N:-20}
IMG=${IMG:-ud-test/busybox:latest}
USER_NAME=${BENCH_USER:-udtest-alice}
UD=${UD:-/usr/local/bin/userdocker}
DOCKER=${DOCKER:-/usr/bin/docker}   # Debian's docker.io client, the one admins have

command -v /usr/bin/time >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null

now() { date +%s%N; }
ud_ms=() docker_ms=() cpu_ms=()
for ((i = 0; i < N; i++)); do
  t0=$(now)
  setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --init-groups sudo -n "$UD" run --rm "$IMG" true >/dev/null
  t1=$(now)
  "$DOCKER" run --rm "$IMG" true >/dev/null
  t2=$(now)
  ud_ms+=($(( (t1 - t0) / 1000000 )))
  docker_ms+=($(( (t2 - t1) / 1000000 )))
done

# userdocker's CPU time, measured separately as root (same code path; the
# caller is taken from SUDO_UID).
for ((i = 0; i < N; i++)); do
  c=$(SUDO_UID=$(id -u "$USER_NAME") SUDO_GID=$(id -g "$USER_NAME") SUDO_USER=$USER_NAME \
      /usr/bin/time -f '%U %S' "$UD" run --rm "$IMG" true 2>&1 >/dev/null | tail -n1)
  cpu_ms+=($(awk '{printf "%d", ($1+$2)*1000}' <<<"$c"))
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mu=$(median "${ud_ms[@]}"); md=$(median "${docker_ms[@]}"); mc=$(median "${cpu_ms[@]}")
ratio=$(awk -v a="$mu" -v b="$md" 'BEGIN {printf "%.2f", a/b}')
echo "runs: $N alternated; image $IMG"
echo "median wall: sudo userdocker run ${mu} ms, docker run ${md} ms, ratio ${ratio} (target <= 0.9)"
echo "median userdocker CPU (user+sys): ${mc} ms (target < 15 ms)"
