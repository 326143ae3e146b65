package launch

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"what sudo passes", []string{
			"TERM=xterm", "PATH=/usr/bin", "HOME=/root", "MAIL=/var/mail/root", "LOGNAME=root", "USER=root", "SHELL=/bin/bash",
			"SUDO_COMMAND=/usr/local/bin/userdocker ps", "SUDO_USER=alice", "SUDO_UID=2001", "SUDO_GID=2001",
		}, []string{"SUDO_UID=2001", "SUDO_GID=2001", "SUDO_USER=alice"}},
		{"NV_GPU kept, empty values kept", []string{"NV_GPU=0,1", "SUDO_UID="}, []string{"SUDO_UID=", "NV_GPU=0,1"}},
		{"the last of a name wins", []string{"SUDO_UID=2002", "SUDO_UID=2001"}, []string{"SUDO_UID=2001"}},
		{"the loader's variables are dropped and named", []string{
			"SUDO_UID=2001", "LD_PRELOAD=/tmp/x.so", "LD_LIBRARY_PATH=/tmp", "LD_AUDIT=/tmp/a.so", "LD_PRELOAD=/tmp/y.so",
		}, []string{"SUDO_UID=2001", UnsafeVar + "=LD_PRELOAD,LD_LIBRARY_PATH,LD_AUDIT"}},
		{"the C library's variables are dropped and named", []string{"GCONV_PATH=/tmp", "GLIBC_TUNABLES=glibc.malloc.check=3", "TZDIR=/tmp"},
			[]string{UnsafeVar + "=GCONV_PATH,GLIBC_TUNABLES,TZDIR"}},
		{"a forged marker is dropped", []string{UnsafeVar + "=", "SUDO_UID=2001"}, []string{"SUDO_UID=2001"}},
		{"Go's runtime variables are dropped", []string{"GODEBUG=x", "GOTRACEBACK=crash", "GOMAXPROCS=64", "GOGC=off"}, nil},
		{"the launcher's variables pass as they are", []string{
			"SLURM_PROCID=1", "SUDO_UID=2001", "PMIX_RANK=1", "PMIX_SERVER_URI4=pmix-server.1;tcp4://127.0.0.1:1", "OMPI_MCA_btl=^openib",
			"NCCL_DEBUG=INFO", "UCX_TLS=rc", "PMI_RANK=1",
		}, []string{"SUDO_UID=2001", "SLURM_PROCID=1", "PMIX_RANK=1", "PMIX_SERVER_URI4=pmix-server.1;tcp4://127.0.0.1:1",
			"OMPI_MCA_btl=^openib", "NCCL_DEBUG=INFO", "UCX_TLS=rc", "PMI_RANK=1"}},
		{"names like theirs that are not theirs are dropped", []string{
			"SLURM_=x", "SLURM_A.B=x", "SLURMD_NODENAME=vm", "slurm_procid=1", "XSLURM_A=1", "SLURM_A-B=1", "CUDA_VISIBLE_DEVICES=0",
			"NVIDIA_VISIBLE_DEVICES=all", "DOCKER_HOST=tcp://x", "PATH=/tmp", "USERDOCKER_CALLER=x",
		}, nil},
		{"launcher names never let the loader's through", []string{"SLURM_X=1", "LD_PRELOAD=/tmp/x.so"},
			[]string{"SLURM_X=1", UnsafeVar + "=LD_PRELOAD"}},
		{"an entry without = is no variable", []string{"SUDO_UID", "LD_PRELOAD", "SUDO_USER=alice"}, []string{"SUDO_USER=alice"}},
		{"nothing", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Env(tc.environ); !slices.Equal(got, tc.want) {
				t.Errorf("Env = %q\nwant  %q", got, tc.want)
			}
		})
	}
}

// TestNoCLibrary: ud-launch and this package must build without cgo: a
// program linked with the C library starts through the dynamic loader,
// which is what ud-launch keeps the caller's variables away from.
func TestNoCLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/userdocker/userdocker/cmd/ud-launch").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "runtime/cgo" || pkg == "os/user" || pkg == "net" {
			t.Errorf("ud-launch depends on %s, which links the C library", pkg)
		}
	}
}
