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
# sudo -n fails at once, instead of asking for a password, if the sudoers
# drop-in is missing.
srun --ntasks=1 sudo -n userdocker run --rm debian:12 \
	sh -c 'echo "GPUs: $NVIDIA_VISIBLE_DEVICES"; echo "CPUs: $(nproc)"'

# Interactive, from a login node:
#   srun --gres=gpu:1 --pty sudo userdocker run --rm -it debian:12 bash
# Into a job that is already running (e.g. this one, from a login node):
#   srun --jobid=<jobid> --overlap sudo userdocker run -d debian:12 sleep 600
