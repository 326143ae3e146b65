#!/bin/bash
# userdocker: an example batch job. Submit with `sbatch sbatch-example.sh`.
#
# The container gets this job's GPUs (as UUIDs), its CPUs and its memory
# limit, and runs as the submitting user. When the job ends, ud-epilog
# removes whatever container of the job is left.
#SBATCH --job-name=ud-example
#SBATCH --gres=gpu:2
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=01:00:00
set -euo pipefail

# userdocker runs through sudo (see sudoers.userdocker); sudo keeps the
# caller's cgroup, which is how userdocker knows which job it serves.
# The image must be allowed by the site's policy ([run] images).
srun --ntasks=1 sudo userdocker run --rm debian:12 \
	sh -c 'echo "GPUs: $NVIDIA_VISIBLE_DEVICES"; echo "CPUs: $(nproc)"'

# Interactive, from a login node:
#   srun --gres=gpu:1 --pty sudo userdocker run --rm -it debian:12 bash
