package alloc

import (
	"errors"
	"testing"
)

// thisMachine is /proc/self/cgroup of a shell on the project's test machine
// (cgroup v1 plus an empty unified hierarchy), outside any job.
const thisMachine = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/0f218900e77cac4f5ed79c9eef906a18
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`

// inV1Job is the same machine inside step 0 of job 4 of uid 2001, as
// DESIGN.md §4 records it (node "vm": the hierarchy is slurm_vm).
const inV1Job = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/slurm_vm/uid_2001/job_4/step_0
5:devices:/slurm_vm/uid_2001/job_4/step_0
4:memory:/slurm_vm/uid_2001/job_4/step_0/task_0
3:cpuset:/slurm_vm/uid_2001/job_4/step_0
2:cpuacct:/
1:cpu:/
0::/
`

func TestJobFromCgroup(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    JobRef
		wantErr string // "" with want set, or ErrNotInJob's text
	}{
		{name: "v1 step on this machine", in: inV1Job, want: JobRef{ID: "4", UID: 2001, Step: "0"}},
		{name: "v1 plain slurm", in: "3:cpuset:/slurm/uid_1000/job_123/step_batch\n", want: JobRef{ID: "123", UID: 1000, Step: "batch"}},
		{name: "v1 extern step", in: "4:memory:/slurm/uid_1000/job_9/step_extern\n", want: JobRef{ID: "9", UID: 1000, Step: "extern"}},
		{name: "v1 interactive step", in: "4:memory:/slurm/uid_1000/job_9/step_interactive/task_0\n", want: JobRef{ID: "9", UID: 1000, Step: "interactive"}},
		{name: "v1 job level", in: "6:freezer:/slurm/uid_0/job_4294967295\n", want: JobRef{ID: "4294967295", UID: 0}},
		{name: "v1 step further down", in: "3:cpuset:/slurm/uid_5/job_7/step_12/task_3\n", want: JobRef{ID: "7", UID: 5, Step: "12"}},
		{name: "v1 co-mounted controllers", in: "2:cpu,cpuacct:/slurm/uid_5/job_7/step_1\n", want: JobRef{ID: "7", UID: 5, Step: "1"}},
		{
			name: "v2 before 26.05",
			in:   "0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n",
			want: JobRef{ID: "42", UID: NoUID, Step: "0"},
		},
		{
			name: "v2 slurmstepd's own cgroup",
			in:   "0::/system.slice/slurmstepd.scope/job_42/step_batch/slurm\n",
			want: JobRef{ID: "42", UID: NoUID, Step: "batch"},
		},
		{
			name: "v2 multiple slurmd",
			in:   "0::/system.slice/node17_slurmstepd.scope/job_42/step_extern/user/task_special\n",
			want: JobRef{ID: "42", UID: NoUID, Step: "extern"},
		},
		{
			name: "v2 CgroupSlice elsewhere",
			in:   "0::/hpc.slice/hpc-slurm.slice/slurmstepd.scope/job_8/step_3/user/task_1\n",
			want: JobRef{ID: "8", UID: NoUID, Step: "3"},
		},
		{
			name: "v2 26.05 default: SLUID",
			in:   "0::/system.slice/slurmstepd.scope/sEKNKTV3WPV500/step_0/user/task_0\n",
			want: JobRef{SLUID: "sEKNKTV3WPV500", UID: NoUID, Step: "0"},
		},
		{
			name: "v2 26.05 with CgroupJobIdPaths=yes",
			in:   "0::/system.slice/slurmstepd.scope/job_3385/step_1/user/task_0\n",
			want: JobRef{ID: "3385", UID: NoUID, Step: "1"},
		},
		{name: "not in a job: this machine", in: thisMachine, wantErr: ErrNotInJob.Error()},
		{name: "not in a job: v2 login session", in: "0::/user.slice/user-1000.slice/session-3.scope\n", wantErr: ErrNotInJob.Error()},
		{name: "empty", in: "", wantErr: ErrNotInJob.Error()},
		{
			name:    "v2 look-alike in a user's delegated subtree",
			in:      "0::/user.slice/user-2001.slice/user@2001.service/app.slice/slurmstepd.scope/job_9/step_0\n",
			wantErr: ErrNotInJob.Error(),
		},
		{name: "v2 scope at the root", in: "0::/slurmstepd.scope/job_9/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v2 scope without job", in: "0::/system.slice/slurmstepd.scope/system\n", wantErr: ErrNotInJob.Error()},
		{name: "v2 lower-case SLUID", in: "0::/system.slice/slurmstepd.scope/sekNKTV3WPV500/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v2 SLUID with U", in: "0::/system.slice/slurmstepd.scope/sUKNKTV3WPV500/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v2 layout in a v1 hierarchy", in: "3:cpuset:/system.slice/slurmstepd.scope/job_9/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 layout in the unified hierarchy", in: "0::/slurm/uid_1/job_9/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 not at the hierarchy root", in: "3:cpuset:/docker/abc/slurm/uid_1/job_2/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 slurmX is not slurm_X", in: "3:cpuset:/slurmX/uid_1/job_2/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 leading zero", in: "3:cpuset:/slurm/uid_1/job_04/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 job 0", in: "3:cpuset:/slurm/uid_1/job_0/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 job id too big", in: "3:cpuset:/slurm/uid_1/job_4294967296/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 uid not a number", in: "3:cpuset:/slurm/uid_x/job_4/step_0\n", wantErr: ErrNotInJob.Error()},
		{name: "v1 no uid level", in: "3:cpuset:/slurm/job_4/step_0\n", wantErr: ErrNotInJob.Error()},
		{
			name:    "two jobs",
			in:      "3:cpuset:/slurm/uid_1/job_4/step_0\n4:memory:/slurm/uid_1/job_5/step_0\n",
			wantErr: "/proc/self/cgroup names two Slurm jobs: /slurm/uid_1/job_4/step_0 and /slurm/uid_1/job_5/step_0",
		},
		{
			name:    "two uids",
			in:      "3:cpuset:/slurm/uid_1/job_4/step_0\n4:memory:/slurm/uid_2/job_4/step_0\n",
			wantErr: "/proc/self/cgroup names two Slurm jobs: /slurm/uid_1/job_4/step_0 and /slurm/uid_2/job_4/step_0",
		},
		{name: "garbage", in: "hello world\n", wantErr: `/proc/self/cgroup line 1: "hello world" is not hierarchy:controllers:/path`},
		{name: "relative path", in: "3:cpuset:slurm/uid_1/job_4\n", wantErr: `/proc/self/cgroup line 1: "3:cpuset:slurm/uid_1/job_4" is not hierarchy:controllers:/path`},
		{name: "bad hierarchy id", in: "0::/\nx:cpuset:/\n", wantErr: `/proc/self/cgroup line 2: "x:cpuset:/" is not hierarchy:controllers:/path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := JobFromCgroup([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("JobFromCgroup() = %+v, %v; want error %q", got, err, tc.wantErr)
				}
				if tc.wantErr == ErrNotInJob.Error() && !errors.Is(err, ErrNotInJob) {
					t.Errorf("error is not ErrNotInJob")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tc.want {
				t.Errorf("JobFromCgroup() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestJobRefKey(t *testing.T) {
	if k := (JobRef{ID: "4"}).Key(); k != "4" {
		t.Errorf("Key() = %q, want the job id", k)
	}
	if k := (JobRef{SLUID: "sEKNKTV3WPV500"}).Key(); k != "sEKNKTV3WPV500" {
		t.Errorf("Key() = %q, want the SLUID", k)
	}
}

func FuzzJobFromCgroup(f *testing.F) {
	for _, s := range []string{
		thisMachine, inV1Job,
		"0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n",
		"0::/system.slice/slurmstepd.scope/sEKNKTV3WPV500/step_0/user/task_0\n",
		"0::/a.slice/n_slurmstepd.scope/job_1\n",
		"3:cpuset:/slurm/uid_1/job_4/step_0\n4:memory:/slurm/uid_1/job_5/step_0\n",
		"1:x:y:z\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := JobFromCgroup(data)
		if err != nil {
			if ref != (JobRef{}) {
				t.Fatalf("error %v with a non-zero JobRef %+v", err, ref)
			}
			return
		}
		if (ref.ID == "") == (ref.SLUID == "") {
			t.Fatalf("want exactly one of ID and SLUID: %+v", ref)
		}
		if ref.ID != "" && !ValidJobID(ref.ID) || ref.SLUID != "" && !ValidSLUID(ref.SLUID) {
			t.Fatalf("invalid job in %+v", ref)
		}
		if ref.UID < NoUID {
			t.Fatalf("uid %d", ref.UID)
		}
		if ref.Key() == "" {
			t.Fatalf("empty key for %+v", ref)
		}
	})
}
