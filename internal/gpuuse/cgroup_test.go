package gpuuse

import (
	"strings"
	"testing"
)

var (
	idA = strings.Repeat("a1", 32)
	idB = strings.Repeat("b2", 32)
)

func TestContainerID(t *testing.T) {
	tests := []struct {
		name   string
		cgroup string
		want   string
	}{
		{"v1 cgroupfs", "12:memory:/docker/" + idA + "\n11:cpuset:/docker/" + idA + "\n1:name=systemd:/docker/" + idA + "\n", idA},
		{"v1 systemd driver", "4:devices:/system.slice/docker-" + idA + ".scope\n", idA},
		{"v2 systemd driver", "0::/system.slice/docker-" + idA + ".scope\n", idA},
		{"v2 cgroupfs", "0::/docker/" + idA + "\n", idA},
		{"v2 nested cgroup inside the container", "0::/system.slice/docker-" + idA + ".scope/init.scope\n", idA},
		{"v1 some controllers elsewhere", "12:memory:/docker/" + idA + "\n3:net_cls:/\n", idA},
		{"no trailing newline", "0::/docker/" + idA, idA},
		{"host process, v1", "12:memory:/user.slice\n11:cpuset:/\n", ""},
		{"host process, v2", "0::/user.slice/user-0.slice/session-1.scope\n", ""},
		{"slurm job", "12:memory:/slurm/uid_2001/job_4/step_0\n", ""},
		{"two containers", "12:memory:/docker/" + idA + "\n11:cpuset:/docker/" + idB + "\n", ""},
		{"two containers in one path", "0::/docker/" + idA + "/docker/" + idB + "\n", ""},
		{"short id", "0::/docker/" + idA[:12] + "\n", ""},
		{"upper-case id", "0::/docker/" + strings.ToUpper(idA) + "\n", ""},
		{"scope without docker prefix", "0::/system.slice/containerd-" + idA + ".scope\n", ""},
		{"docker- prefix without .scope", "0::/system.slice/docker-" + idA + "\n", ""},
		{"id not under docker", "0::/kubepods/" + idA + "\n", ""},
		{"path with colon", "0::/weird:name/docker/" + idA + "\n", idA},
		{"empty", "", ""},
		{"v1 a job's parent", "12:memory:/userdocker/vm/job_42/" + idA + "\n11:cpuset:/userdocker/vm/job_42/" + idA + "\n", idA},
		{"v2 a caller's parent, nested", "0::/userdocker/vm2/user_2001/" + idA + "/sub\n", idA},
		{"the parent itself", "0::/userdocker/vm/job_42\n", ""},
		{"not below a parent", "0::/userdocker/vm/other/" + idA + "\n", ""},
		{"too deep", "0::/userdocker/vm/job_42/x/" + idA + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ContainerID([]byte(tt.cgroup))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("ContainerID(%q) = %q, %v; want %q", tt.cgroup, got, ok, tt.want)
			}
		})
	}
}

func FuzzContainerID(f *testing.F) {
	f.Add([]byte("12:memory:/docker/" + idA + "\n"))
	f.Add([]byte("0::/system.slice/docker-" + idA + ".scope\n"))
	f.Add([]byte("0::/docker/" + idA + "/docker/" + idB))
	f.Add([]byte("::\n:::"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, ok := ContainerID(data)
		if ok != (id != "") {
			t.Fatalf("ContainerID = %q, %v: ok must say whether an ID was found", id, ok)
		}
		if ok && (!isContainerID(id) || !strings.Contains(string(data), id)) {
			t.Fatalf("ContainerID = %q: not a full ID taken from the input", id)
		}
	})
}
