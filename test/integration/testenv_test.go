//go:build integration

package integration

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/harness"
)

// The test machine's second Slurm node, image registries and Podman
// service, as scripts/testenv.sh sets them up (docs/testing.md). vm2 is
// this machine seen through namespaces of its own; everything of it that a
// test checks from the outside is reachable from the host at these paths.
const (
	node2          = "vm2"
	multiPartition = "multi"                           // made by withMultiPartition; "debug" (the default) is vm alone
	node2Run       = "/run/userdocker-test/vm2"        // vm2's /run as the host sees it
	node2Socket    = node2Run + "/docker.sock"         // vm2's dockerd, its /run/docker.sock
	node2StateDir  = node2Run + "/userdocker"          // vm2's /run/userdocker (ud-prolog's records)
	node2MountNS   = "/run/userdocker-test/ns/vm2.mnt" // nsenter --mount=
	node2UTSNS     = "/run/userdocker-test/ns/vm2.uts" // nsenter --uts=
	node2NetNS     = "/run/netns/udtest-vm2"           // nsenter --net=, ip -n udtest-vm2
	node2Addr      = "10.89.0.2"                       // vm2's dockerd network (containers with --network host)
	node1Addr      = "10.89.0.1"                       // the host (vm) as vm2 reaches it
	registryAddr   = "127.0.0.1:5000"                  // the registry, the same name on both nodes
	mirrorAddr     = "127.0.0.1:5001"                  // its pull-through mirror; vm2's registry-mirrors
	registryLog    = "/var/log/userdocker-test/registry.log"
	mirrorLog      = "/var/log/userdocker-test/registry-mirror.log"
	podmanSocket   = "/run/podman/podman.sock"
)

// requireNode2 skips the test (fails it under CI=true) when vm2's dockerd
// does not answer as vm2.
func requireNode2(t *testing.T) {
	t.Helper()
	requireSetup(t)
	out, err := exec.Command("docker", "-H", "unix://"+node2Socket, "info", "--format", "{{.Name}}").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != node2 {
		missing(t, "the second node "+node2+" is not running (docker info on "+node2Socket+": "+strings.TrimSpace(string(out))+"): run scripts/testenv.sh")
	}
}

// withMultiPartition makes the Slurm partition multiPartition of the
// host's node and vm2 for the test, and deletes it when the test ends. vm2
// is in no partition of the test slurm.conf: every partition shows in
// `sinfo` as root (hidden ones too), and other tests want one line.
// Slurm deletes a partition only once its jobs have finished, epilog
// included: the cleanup retries for a minute.
func withMultiPartition(t *testing.T) {
	t.Helper()
	// Left by a test that crashed: use it, and delete it at the end.
	if exec.Command("scontrol", "show", "partition", multiPartition).Run() != nil {
		createMultiPartition(t)
	}
	t.Cleanup(func() { deleteMultiPartition(t) })
}

func createMultiPartition(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("scontrol", "create", "PartitionName="+multiPartition,
		"Nodes="+hostNode(t)+","+node2, "MaxTime=INFINITE", "State=UP").CombinedOutput(); err != nil {
		t.Fatalf("scontrol create PartitionName=%s: %v\n%s", multiPartition, err, out)
	}
}

func deleteMultiPartition(t *testing.T) {
	t.Helper()
	var out []byte
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if out, err = exec.Command("scontrol", "delete", "PartitionName="+multiPartition).CombinedOutput(); err == nil {
			return
		}
	}
	t.Errorf("scontrol delete PartitionName=%s: %v\n%s", multiPartition, err, out)
}

// hostNode is the host's Slurm node name: its short host name.
func hostNode(t *testing.T) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(host, ".", 2)[0]
}

// dockerOn runs the docker CLI as root against a node's dockerd: node2
// for vm2's, anything else for the host's.
func dockerOn(t *testing.T, node string, args ...string) string {
	t.Helper()
	if node == node2 {
		args = append([]string{"-H", "unix://" + node2Socket}, args...)
	}
	return docker(t, args...)
}

// onNode2 runs a command as root as a process of vm2: in its mount, UTS
// and network namespaces, where /run/userdocker and /run/docker.sock are
// vm2's. With hostNet it stays in the host's network namespace, as vm2's
// slurmd and its job steps do.
func onNode2(t *testing.T, hostNet bool, args ...string) (string, error) {
	t.Helper()
	ns := []string{"--mount=" + node2MountNS, "--uts=" + node2UTSNS}
	if !hostNet {
		ns = append(ns, "--net="+node2NetNS)
	}
	out, err := exec.Command("nsenter", append(append(ns, "--"), args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// logLines counts the lines of a log file (such as registryLog, one line
// per request) that contain substr.
func logLines(t *testing.T, path, substr string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.Count(string(data), substr)
}

// waitLogLines waits up to a minute until logLines(path, substr) reaches
// want (the registry writes its line after the response), and returns
// the count it saw last.
func waitLogLines(t *testing.T, path, substr string, want int) int {
	t.Helper()
	n := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n = logLines(t, path, substr); n >= want {
			break
		}
	}
	return n
}

// TestTestEnvNode2 checks the helpers above against the machine: vm2's
// daemon is its own, the node's processes see it at the standard path,
// and the registry logs a request made through vm2's network.
func TestTestEnvNode2(t *testing.T) {
	requireSlurm(t)
	requireNode2(t)
	if got := dockerOn(t, node2, "info", "--format", "{{.Name}} {{.DockerRootDir}}"); got != node2+" /var/lib/userdocker-test/vm2/docker" {
		t.Errorf("vm2's dockerd says %q, want its own name and data root", got)
	}
	if got := dockerOn(t, "", "info", "--format", "{{.Name}}"); got == node2 {
		t.Errorf("the host's dockerd answers as %q", got)
	}
	// What userdocker on vm2 would reach through its default docker_host.
	for _, hostNet := range []bool{false, true} {
		got, err := onNode2(t, hostNet, "docker", "-H", "unix:///var/run/docker.sock", "info", "--format", "{{.Name}}")
		if err != nil || got != node2 {
			t.Errorf("on vm2 (host network %v), /var/run/docker.sock answers as %q (%v), want %q", hostNet, got, err, node2)
		}
	}
	if got, err := onNode2(t, true, "hostname"); err != nil || got != node2 {
		t.Errorf("hostname on vm2: %q, %v", got, err)
	}

	// A job on both nodes runs a task on each, as a test user would.
	withMultiPartition(t)
	cmd := exec.Command("srun", "--quiet", "-p", multiPartition, "-N2", "-t", "1", "hostname")
	harness.AsUser(t, cmd, alice)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/home/" + alice, "LANG=C"}
	out, err := cmd.CombinedOutput()
	if lines := strings.Fields(string(out)); err != nil || len(lines) != 2 || !strings.Contains(string(out), node2) || !strings.Contains(string(out), hostNode(t)) {
		t.Errorf("srun -p %s -N2 hostname: %v\n%s", multiPartition, err, out)
	}

	path := "/v2/ud-test/busybox/manifests/latest"
	before := logLines(t, registryLog, node2Addr)
	if out, err := onNode2(t, false, "curl", "-fsS", "-o", "/dev/null", "http://"+registryAddr+path); err != nil {
		t.Fatalf("curl %s%s on vm2: %v\n%s", registryAddr, path, err, out)
	}
	if n := waitLogLines(t, registryLog, node2Addr, before+1); n <= before {
		t.Errorf("%s: no new line from %s after a request from vm2", registryLog, node2Addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+mirrorAddr+path, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET through the mirror: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), docker(t, "image", "inspect", "-f", "{{.Id}}", testImage)) {
		t.Errorf("the mirror answered %s for %s, want the manifest of the host's %s:\n%s", resp.Status, path, testImage, body)
	}
}
