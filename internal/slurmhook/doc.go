// Package slurmhook is userdocker's side of Slurm: the logic of ud-prolog
// and ud-epilog, which slurmd runs as root on a node when a job's
// allocation starts there and when the job ends (DESIGN.md §4), and the
// settings they take from the configuration.
//
// The prolog records the job's owner, GPUs (as UUIDs), CPUs and memory
// in an allocation record (internal/alloc), so that userdocker can give
// the job's containers exactly the job's GPUs; the epilog removes the
// job's records and every container labelled with the job, within a
// budget. Both fail only when that matters more than a drained node: the
// prolog when no record can be written, the epilog when something of the
// job is left.
package slurmhook
