package cgparent

import (
	"fmt"
	"os"
	"testing"

	"github.com/userdocker/userdocker/internal/plan"
)

// BenchmarkEnsure is what a run adds for its parent cgroup on this host's
// real cgroup file system (root only; run it under the developer lock):
// "first", the job's first run, makes the parent; "again", every later
// run, writes the limits again and reads them back; "remove" is the
// epilog's share. Parents are made below /userdocker/bench-<pid> and
// removed.
func BenchmarkEnsure(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: makes cgroups below /sys/fs/cgroup")
	}
	tr, err := Open("/sys/fs/cgroup")
	if err != nil {
		b.Skip(err)
	}
	base := fmt.Sprintf("%s/bench-%d", Base, os.Getpid())
	want := plan.CgroupLimits{CPUs: "0", Mems: "0", MemoryBytes: 256 << 20, Pids: 100}
	b.Cleanup(func() { tr.Remove(base) })
	b.Run("first", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := fmt.Sprintf("%s/job_%d", base, i+1)
			if _, err := tr.Ensure(p, want); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			tr.Remove(p)
			b.StartTimer()
		}
	})
	b.Run("again", func(b *testing.B) {
		p := base + "/job_again"
		if _, err := tr.Ensure(p, want); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := tr.Ensure(p, want); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("usage+remove", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := fmt.Sprintf("%s/job_r%d", base, i+1)
			b.StopTimer()
			if _, err := tr.Ensure(p, want); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, _, err := tr.Usage(p); err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Remove(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
