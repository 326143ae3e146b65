# bench/lib.bash — helpers sourced by bench/prolog.sh and bench/epilog.sh
# (not a benchmark itself: `make bench` runs bench/*.sh only).

# now_us prints the wall clock in microseconds (bash's EPOCHREALTIME: no
# fork, so it adds nothing to what is measured).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# median prints the median of its integer arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# pct P prints the P-th percentile (nearest rank) of the other arguments.
pct() { local p=$1; shift; printf '%s\n' "$@" | sort -n | awk -v p="$p" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }

# ms prints microseconds as milliseconds with one decimal.
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u/1000}'; }
