package alloc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (path relative to root → contents) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJobLimits(t *testing.T) {
	const v1Job = "slurm_vm/uid_2001/job_4"
	const v2Job = "system.slice/slurmstepd.scope/job_42"
	tests := []struct {
		name    string
		cgroup  string
		files   map[string]string
		want    Limits
		wantErr string
	}{
		{
			name:   "v1 cpuset and memory at the job level",
			cgroup: inV1Job,
			files: map[string]string{
				"cpuset/" + v1Job + "/cpuset.cpus":                  "0-1\n",
				"cpuset/" + v1Job + "/cpuset.mems":                  "0\n",
				"cpuset/" + v1Job + "/step_0/cpuset.cpus":           "1\n",
				"memory/" + v1Job + "/memory.limit_in_bytes":        "2147483648\n",
				"memory/" + v1Job + "/step_0/memory.limit_in_bytes": "1073741824\n",
			},
			want: Limits{CPUs: "0-1", Mems: "0", MemoryBytes: 2 << 30},
		},
		{
			name:   "v1 memory not limited",
			cgroup: inV1Job,
			files: map[string]string{
				"cpuset/" + v1Job + "/cpuset.cpus":           "0-3",
				"memory/" + v1Job + "/memory.limit_in_bytes": "9223372036854771712\n",
			},
			want: Limits{CPUs: "0-3"},
		},
		{
			name:   "v1 without ConstrainCores: no Slurm cpuset cgroup",
			cgroup: "3:cpuset:/\n4:memory:/slurm/uid_1/job_5/step_0\n",
			files:  map[string]string{"memory/slurm/uid_1/job_5/memory.limit_in_bytes": "1048576"},
			want:   Limits{MemoryBytes: 1 << 20},
		},
		{
			name:   "v2",
			cgroup: "0::/" + v2Job + "/step_0/user/task_0\n",
			files: map[string]string{
				v2Job + "/cpuset.cpus.effective": "2-3,6\n",
				v2Job + "/cpuset.mems.effective": "0-1\n",
				v2Job + "/memory.max":            "4294967296\n",
			},
			want: Limits{CPUs: "2-3,6", Mems: "0-1", MemoryBytes: 4 << 30},
		},
		{
			name:   "v2 unlimited memory",
			cgroup: "0::/" + v2Job + "/step_0/user/task_0\n",
			files: map[string]string{
				v2Job + "/cpuset.cpus.effective": "0",
				v2Job + "/memory.max":            "max\n",
			},
			want: Limits{CPUs: "0"},
		},
		{
			name:    "v2 cpuset that is not a cpu list",
			cgroup:  "0::/" + v2Job + "/step_0\n",
			files:   map[string]string{v2Job + "/cpuset.cpus.effective": "0-3; echo\n"},
			wantErr: `cpu list "0-3; echo": "0-3; echo" is not a cpu number or low-high range`,
		},
		{
			name:    "v1 memory limit that is not a number",
			cgroup:  inV1Job,
			files:   map[string]string{"memory/" + v1Job + "/memory.limit_in_bytes": "lots"},
			wantErr: `memory limit "lots" is not a number of bytes`,
		},
		{
			name:    "unreadable limit file",
			cgroup:  inV1Job,
			files:   map[string]string{"cpuset/" + v1Job + "/cpuset.cpus/x": ""},
			wantErr: "read job cpuset: read ",
		},
		{name: "outside a job", cgroup: thisMachine, wantErr: ErrNotInJob.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			got, err := JobLimits([]byte(tc.cgroup), root)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("JobLimits() = %+v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tc.want {
				t.Errorf("JobLimits() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestJobLimitsNotInJobIsTyped(t *testing.T) {
	_, err := JobLimits([]byte(thisMachine), t.TempDir())
	if !errors.Is(err, ErrNotInJob) {
		t.Errorf("error = %v, want ErrNotInJob", err)
	}
}

func TestJobLimitsByID(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  Limits
	}{
		{name: "nothing there yet (prolog before the extern step)", want: Limits{}},
		{
			name: "v1",
			files: map[string]string{
				"cpuset/slurm_vm/uid_2001/job_4/cpuset.cpus":           "0-1\n",
				"memory/slurm_vm/uid_2001/job_4/memory.limit_in_bytes": "1073741824\n",
				"cpuset/slurmfoo/uid_2001/job_4/cpuset.cpus":           "5\n",
				"cpuset/slurm_vm/uid_2002/job_4/cpuset.cpus":           "6\n",
			},
			want: Limits{CPUs: "0-1", MemoryBytes: 1 << 30},
		},
		{
			name: "v2 by SLUID",
			files: map[string]string{
				"system.slice/slurmstepd.scope/sEKNKTV3WPV500/cpuset.cpus.effective": "3\n",
				"system.slice/slurmstepd.scope/sEKNKTV3WPV500/memory.max":            "max\n",
			},
			want: Limits{CPUs: "3"},
		},
		{
			name:  "garbage is ignored",
			files: map[string]string{"cpuset/slurm/uid_2001/job_4/cpuset.cpus": "all of them\n"},
			want:  Limits{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			if got := JobLimitsByID(root, "4", "sEKNKTV3WPV500", 2001); got != tc.want {
				t.Errorf("JobLimitsByID() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "1073741824\n", want: 1 << 30},
		{in: "max\n", want: 0},
		{in: "9223372036854771712", want: 0},
		{in: "0", want: 0},
		{in: "-1", wantErr: true},
		{in: "", wantErr: true},
		{in: "1G", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseMemoryLimit(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestValidateCPUList(t *testing.T) {
	for _, ok := range []string{"", "0", "0-3", "0-3,8,10-11", "127"} {
		if err := ValidateCPUList(ok); err != nil {
			t.Errorf("ValidateCPUList(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"3-0", "0-", "-1", "0,,1", "a", "0 1", "01", "0-3\n", "65536"} {
		if err := ValidateCPUList(bad); err == nil {
			t.Errorf("ValidateCPUList(%q) = nil, want an error", bad)
		}
	}
}
