#!/usr/bin/env bash
# vm2.sh — run a command as a process of the test cluster's second node,
# vm2 (scripts/testenv-node2.sh, docs/testing.md). Needs root.
#
#   scripts/vm2.sh                   a shell on vm2
#   scripts/vm2.sh docker ps         vm2's dockerd (its /run/docker.sock)
#   scripts/vm2.sh ls /run/userdocker
#   scripts/vm2.sh --hostnet CMD…    in vm2's mount and UTS namespaces but the
#                                    host's network namespace, where vm2's
#                                    slurmd and its job steps run
set -euo pipefail
NS=/run/userdocker-test/ns
net=(--net=/run/netns/udtest-vm2)
if [[ ${1:-} == --hostnet ]]; then
	net=()
	shift
fi
[[ -e $NS/vm2.mnt ]] || { echo "vm2.sh: $NS/vm2.mnt is missing: run scripts/testenv.sh" >&2; exit 1; }
(($#)) || set -- bash
exec nsenter --mount="$NS/vm2.mnt" --uts="$NS/vm2.uts" "${net[@]}" -- "$@"
