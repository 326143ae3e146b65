#!/usr/bin/env bash
# demo.sh — show userdocker at work on the test machine (run by `make demo`
# after scripts/testenv.sh and the install of bin/ into /usr/local).
#
# A placeholder: it says what the demo will show. The real steps come with
# the subcommands they exercise.
set -euo pipefail

cat <<'PLAN'
userdocker demo (placeholder), as user uddemo (uid 2010) on the single-node Slurm:
  1. sudo userdocker -h                     only the subcommands the policy allows
  2. srun --gres=gpu:2 sudo userdocker run --rm ud-test/cuda env
                                            NVIDIA_VISIBLE_DEVICES = the job's 2 GPUs, not "all";
                                            the stand-in GPU hook records what Docker passed on
  3. sudo userdocker run --privileged ...   refused, naming the flag
  4. sudo userdocker run ud-test/denied     refused: image not allowed by the policy
  5. sudo userdocker run -n ...             --dry-run: the final Docker request as JSON
  6. sbatch a job with a detached container, scancel it: ud-epilog removes the container
PLAN
if [[ -x /usr/local/bin/userdocker ]]; then
	echo "installed: $(ls -l /usr/local/bin/userdocker /usr/local/sbin/ud-prolog /usr/local/sbin/ud-epilog | awk '{print $NF}' | tr '\n' ' ')"
fi
