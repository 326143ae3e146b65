//go:build integration

package integration

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func statOwner(fi fs.FileInfo) string {
	return strconv.FormatUint(uint64(fi.Sys().(*syscall.Stat_t).Uid), 10)
}

// TestRefusals tries, as alice through real sudo, every way we know to get
// more than the policy allows (DESIGN.md §3). Each attempt must exit 125
// with the reason, create no container, and leave bob's container as it was.
func TestRefusals(t *testing.T) {
	requireSetup(t)
	prepareDirs(t)
	os.MkdirAll("/srv/udtest/files", 0o755)
	os.WriteFile("/srv/udtest/files/root-only", []byte("SECRET=1\n"), 0o600)
	os.Remove("/srv/udtest/files/cid-as-root")
	home := "/home/" + alice
	os.MkdirAll(filepath.Join(home, "proj"), 0o755)
	os.Symlink("/etc", filepath.Join(home, "etc-link"))
	chownR(t, filepath.Join(home, "proj"), alice)

	r := ud(t, bob, nil, "run", "-d", "--name", "victim", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("bob's container: %s", r.stderr)
	}
	bobID := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { docker(t, "rm", "-f", bobID) })
	bobState := docker(t, "inspect", "--format", "{{.State.StartedAt}} {{.State.Status}} {{.RestartCount}}", bobID)

	img := testImage
	cases := []struct {
		name string
		args []string
		want string
	}{
		// privileges and capabilities
		{"privileged", []string{"--privileged", img}, "--privileged is not allowed on this system"},
		{"privileged=true", []string{"--privileged=true", img}, "--privileged is not allowed on this system"},
		{"cap-add SYS_ADMIN", []string{"--cap-add", "SYS_ADMIN", img}, "--cap-add is not allowed on this system"},
		{"cap-add ALL", []string{"--cap-add=ALL", img}, "--cap-add is not allowed on this system"},
		{"security-opt seccomp", []string{"--security-opt", "seccomp=unconfined", img}, "--security-opt is not allowed"},
		{"security-opt apparmor", []string{"--security-opt", "apparmor=unconfined", img}, "--security-opt is not allowed"},
		{"security-opt nnp false", []string{"--security-opt", "no-new-privileges=false", img}, "--security-opt is not allowed"},
		// devices
		{"device", []string{"--device", "/dev/sda", img}, "--device is not allowed"},
		{"device nvidia", []string{"--device=/dev/nvidia0", img}, "--device is not allowed"},
		{"device cgroup rule", []string{"--device-cgroup-rule", "a *:* rwm", img}, "--device-cgroup-rule is not allowed"},
		{"gpus outside a job", []string{"--gpus", "all", img}, "no GPUs are available to you here"},
		// host and other containers' namespaces
		{"pid host", []string{"--pid=host", img}, "--pid is not allowed"},
		{"pid of bob's container", []string{"--pid", "container:" + bobID, img}, "--pid is not allowed"},
		{"ipc host", []string{"--ipc=host", img}, "--ipc is not allowed"},
		{"net host", []string{"--net=host", img}, "--network is not allowed"},
		{"network of bob's container", []string{"--network", "container:" + bobID, img}, "--network is not allowed"},
		{"uts host", []string{"--uts=host", img}, "--uts is not allowed"},
		{"userns host", []string{"--userns=host", img}, "--userns is not allowed"},
		{"cgroupns host", []string{"--cgroupns=host", img}, "--cgroupns is not allowed"},
		{"volumes-from bob", []string{"--volumes-from", bobID, img}, "--volumes-from is not allowed"},
		{"link to bob", []string{"--link", bobID + ":db", img}, "--link is not allowed"},
		// mounts
		{"mount /", []string{"-v", "/:/host", img}, "mounting / at /host is not allowed"},
		{"mount docker socket", []string{"-v", "/var/run/docker.sock:/s", img}, "is not allowed on this system"},
		{"mount /etc", []string{"-v", "/etc:/data", img}, "mounting /etc at /data is not allowed"},
		{"dotdot out of scratch", []string{"-v", "/srv/udtest/scratch/" + alice + "/../../../../etc:/scratch", img}, "mounting /etc at /scratch is not allowed"},
		{"symlink in home to /etc", []string{"-v", home + "/etc-link:/x", img}, "mounting /etc at /x is not allowed"},
		{"home subdir could be swapped", []string{"-v", home + "/proj:/proj", img}, "could replace " + home + "/proj with a symlink"},
		{"bob's scratch", []string{"-v", "/srv/udtest/scratch/" + bob + ":/scratch", img}, "is not allowed on this system"},
		{"data read-write at other path", []string{"-v", "/srv/udtest/data:/elsewhere", img}, "is not allowed on this system"},
		{"over always-mount", []string{"-v", "/srv/udtest/scratch/" + alice + ":/etc/passwd", img}, "is not allowed on this system"},
		{"named volume", []string{"-v", "myvol:/v", img}, "named volumes are not allowed"},
		{"anonymous volume", []string{"-v", "/anon", img}, "anonymous volumes are not allowed"},
		{"volume driver options", []string{"--mount", "type=volume,src=x,dst=/x,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc", img}, "named volumes are not allowed"},
		{"volume-driver flag", []string{"--volume-driver", "local", img}, "--volume-driver is not allowed"},
		{"bind propagation", []string{"--mount", "type=bind,src=" + home + ",dst=/h,bind-propagation=rshared", img}, "is not allowed on this system"},
		{"selinux relabel", []string{"-v", home + ":/h:Z", img}, `mount option "Z" is not allowed`},
		{"tmpfs via --mount", []string{"--mount", "type=tmpfs,dst=/t", img}, "tmpfs mounts are not allowed"},
		// user and groups
		{"user root", []string{"-u", "0", img}, `--user "0" is not allowed`},
		{"user root:root", []string{"-u", "root:root", img}, `--user "root:root" is not allowed`},
		{"user bob", []string{"-u", uidOf(t, bob), img}, "is not allowed: containers run as you"},
		{"own uid with gid 0", []string{"-u", uidOf(t, alice) + ":0", img}, "is not allowed: containers run as you"},
		{"group-add 0", []string{"--group-add", "0", img}, `--group-add "0" is not allowed`},
		{"group-add docker", []string{"--group-add", "docker", img}, `--group-add "docker" is not allowed`},
		// cgroups, runtime, kernel
		{"cgroup-parent", []string{"--cgroup-parent", "/", img}, "--cgroup-parent is not allowed"},
		{"sysctl", []string{"--sysctl", "net.ipv4.ip_forward=1", img}, "--sysctl is not allowed"},
		{"runtime", []string{"--runtime", "io.containerd.runc.v2", img}, "--runtime is not allowed"},
		{"oom-kill-disable", []string{"--oom-kill-disable", img}, "--oom-kill-disable is not allowed"},
		{"annotation", []string{"--annotation", "cdi.k8s.io/x=nvidia.com/gpu=all", img}, "--annotation is not allowed"},
		{"pids-limit unlimited", []string{"--pids-limit", "-1", img}, `--pids-limit is fixed to "4096"`},
		// files read or written as root
		{"env-file root-only", []string{"--env-file", "/srv/udtest/files/root-only", img}, "permission denied"},
		{"env-file shadow", []string{"--env-file", "/etc/shadow", img}, "permission denied"},
		{"label-file root-only", []string{"--label-file", "/srv/udtest/files/root-only", img}, "permission denied"},
		{"cidfile in root's dir", []string{"--cidfile", "/srv/udtest/files/cid-as-root", img}, "permission denied"},
		{"cidfile over /etc/passwd", []string{"--cidfile", "/etc/passwd", img}, "container ID file found"},
		// images and argument injection
		{"denied image", []string{deniedImage}, "image docker.io/ud-test/denied:latest is not allowed"},
		{"image from another registry", []string{"evil.example.com/ud-test/busybox"}, "is not allowed on this system"},
		{"flag as image after --", []string{"--", "--privileged"}, "is not a valid image reference"},
		{"image by ID", []string{strings.Repeat("a", 64)}, "is not a valid image reference"},
		// forged environment and identity
		{"NVIDIA_VISIBLE_DEVICES", []string{"-e", "NVIDIA_VISIBLE_DEVICES=all", img}, "-e NVIDIA_VISIBLE_DEVICES is not allowed"},
		{"NVIDIA_MIG_CONFIG_DEVICES", []string{"-e", "NVIDIA_MIG_CONFIG_DEVICES=all", img}, "is not allowed"},
		{"HOME", []string{"-e", "HOME=/root", img}, "-e HOME is not allowed: this system sets it"},
		{"label owner uid", []string{"-l", "io.userdocker.uid=" + uidOf(t, bob), img}, "io.userdocker.* labels are set by userdocker"},
		{"label job", []string{"-l", "io.userdocker.job=1", img}, "io.userdocker.* labels are set by userdocker"},
		{"invalid name", []string{"--name", "../" + bob, img}, "is not a valid container name"},
		// network exposure
		{"publish on all interfaces", []string{"-p", "8080:80", img}, "-p :8080:80 is not allowed"},
		{"publish all", []string{"-P", img}, "-P/--publish-all is not allowed"},
		{"pull widening", []string{"--pull", "always", img}, "--pull is not allowed"},
		{"unknown subcommand flag", []string{"--config", "/tmp/x.toml", img}, "unknown flag: --config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := allContainers(t)
			r := ud(t, alice, nil, append([]string{"run", "--rm"}, append(c.args[:len(c.args):len(c.args)], "true")...)...)
			if r.code != 125 {
				t.Fatalf("exit %d, want 125; stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			if c.want != "" && !strings.Contains(r.stderr, c.want) {
				t.Fatalf("stderr %q, want it to contain %q", r.stderr, c.want)
			}
			if !strings.HasPrefix(r.stderr, "userdocker: ") {
				t.Fatalf("stderr %q: a refusal is userdocker's own line", r.stderr)
			}
			if after := allContainers(t); len(after) != len(before) {
				t.Fatalf("a container was created: before %v after %v", before, after)
			}
		})
	}
	if got := docker(t, "inspect", "--format", "{{.State.StartedAt}} {{.State.Status}} {{.RestartCount}}", bobID); got != bobState {
		t.Fatalf("bob's container changed: %q → %q", bobState, got)
	}
	if _, err := os.Stat("/srv/udtest/files/cid-as-root"); err == nil {
		t.Fatal("a cidfile was written where only root may write")
	}
}

func chownR(t *testing.T, path, who string) {
	t.Helper()
	u := uidOf(t, who)
	n, _ := strconv.Atoi(u)
	filepath.Walk(path, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, n, n) })
}
