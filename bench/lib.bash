# bench/lib.bash — helpers sourced by bench/prolog.sh and bench/epilog.sh
# (not a benchmark itself: `make bench` runs bench/*.sh only).

# now_us sets NOW to the wall clock in microseconds, from bash's
# EPOCHREALTIME. Call it, don't $(…) it: a command substitution forks, and
# the fork would be measured.
now_us() { NOW=${EPOCHREALTIME/[.,]/}; }

# median prints the median of its integer arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# pct P prints the P-th percentile (nearest rank) of the other arguments.
pct() { local p=$1; shift; printf '%s\n' "$@" | sort -n | awk -v p="$p" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }

# ms prints microseconds as milliseconds with one decimal.
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u/1000}'; }

# machine_lock waits for the integration suites' machine lock
# (test/testlock), so that no test's containers and jobs run alongside the
# measurement. It is held until the script exits.
machine_lock() {
	exec 9>/run/userdocker-integration.lock
	flock -n 9 || { echo "waiting for the integration tests running on this machine…" >&2; flock 9; }
}
