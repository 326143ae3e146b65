//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Podman tests run userdocker through real sudo, as a real user, with
// a config whose docker_host is the test machine's rootful Podman service
// (Podman 4.3.1), for what differs from dockerd (docs/compatibility.md).
// Their containers carry the label podmanTestLabel and are removed at the
// end: the service is shared.

const podmanTestLabel = "io.userdocker-test.podman=1"

// podmanConfig is baseConfig on Podman, with the own-container
// subcommands, and -l for the test's label.
var podmanConfig = strings.Replace(strings.Replace(baseConfig,
	`docker_host = "unix:///var/run/docker.sock"`, `docker_host = "unix://`+podmanSocket+`"`, 1),
	`subcommands = ["run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version"]`,
	`subcommands = ["run", "attach", "exec", "stop", "ps", "logs", "rm", "kill", "wait", "load"]`, 1)

// requirePodman skips the test (fails it under CI=true) when the Podman
// service does not answer, and uses podmanConfig for the test.
func requirePodman(t *testing.T) {
	t.Helper()
	requireSetup(t)
	out, err := exec.Command("docker", "-H", "unix://"+podmanSocket, "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		missing(t, "the Podman service on "+podmanSocket+" does not answer ("+strings.TrimSpace(string(out))+"): run scripts/testenv.sh")
	}
	t.Logf("Podman %s", strings.TrimSpace(string(out)))
	writeConfig(t, podmanConfig)
	t.Cleanup(func() { removePodmanContainers(t) })
}

// podman runs the docker CLI on the Podman service, as root, for checks
// from the outside.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	return docker(t, append([]string{"-H", "unix://" + podmanSocket}, args...)...)
}

// podmanContainers lists the IDs of the test's containers on Podman (all
// states) that have label too.
func podmanContainers(t *testing.T, label string) []string {
	t.Helper()
	args := []string{"ps", "-aq", "--no-trunc", "--filter", "label=" + podmanTestLabel}
	if label != "" {
		args = append(args, "--filter", "label="+label)
	}
	return strings.Fields(podman(t, args...))
}

func removePodmanContainers(t *testing.T) {
	t.Helper()
	if ids := podmanContainers(t, ""); len(ids) > 0 {
		podman(t, append([]string{"rm", "-f"}, ids...)...)
	}
}

// podmanInspect is what a test reads of a Podman container.
type podmanInspected struct {
	Config struct {
		User   string
		Labels map[string]string
	}
	State struct {
		Running  bool
		ExitCode int
	}
}

func podmanInspect(t *testing.T, id string) podmanInspected {
	t.Helper()
	var got []podmanInspected
	if err := json.Unmarshal([]byte(podman(t, "inspect", id)), &got); err != nil || len(got) != 1 {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return got[0]
}

// run --rm: the container's own exit status (Podman 4.3 reports 0 to a
// wait for "removed"), the container gone when run returns, and a
// command that is not there is docker's 127 with the runtime's reason
// (Podman fails the attach with a bare 409).
func TestPodmanRunExitStatus(t *testing.T) {
	requirePodman(t)
	r := ud(t, alice, nil, "run", "--rm", "-l", podmanTestLabel, testImage, "sh", "-c", "echo out; exit 7")
	if r.code != 7 || r.stdout != "out\n" {
		t.Fatalf("run --rm: exit %d, stdout %q, stderr %q; want 7 and out", r.code, r.stdout, r.stderr)
	}
	if ids := podmanContainers(t, "io.userdocker.uid="+uidOf(t, alice)); len(ids) != 0 {
		t.Errorf("containers left when run --rm returned: %v", ids)
	}

	r = ud(t, alice, nil, "run", "--rm", "-l", podmanTestLabel, testImage, "/no/such/command")
	if r.code != 127 || !strings.Contains(r.stderr, "/no/such/command") {
		t.Errorf("missing command: exit %d, stderr %q; want 127 and the runtime's reason", r.code, r.stderr)
	}
	if ids := podmanContainers(t, ""); len(ids) != 0 {
		t.Errorf("containers left by a run --rm that did not start: %v", ids)
	}

	// Podman raises nofile to 1048576 for a request without it, which
	// fails here (root lacks CAP_SYS_RESOURCE) and is past the caller's
	// own limit: the request carries the caller's.
	r = ud(t, alice, nil, "run", "--rm", "-l", podmanTestLabel, testImage, "sh", "-c", "ulimit -Hn; ulimit -Hu")
	if r.code != 0 || strings.Contains(r.stdout, "1048576") {
		t.Errorf("limits: exit %d, stdout %q, stderr %q; want the caller's, not Podman's 1048576", r.code, r.stdout, r.stderr)
	}
}

// -d, then the own-container subcommands on it: ps, logs, stop with the
// user's signal (below API 1.42 the client drops it: userdocker sends
// it), rm; the labels and user the policy sets, as Podman holds them.
func TestPodmanDetachedContainer(t *testing.T) {
	requirePodman(t)
	name := "udtest-alice-pm-" + strings.ReplaceAll(t.Name(), "/", "-")
	r := ud(t, alice, nil, "run", "-d", "--name", name, "-l", podmanTestLabel, testImage,
		"sh", "-c", "echo ready; trap 'exit 3' INT; sleep 300 & wait")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	got := podmanInspect(t, id)
	if got.Config.Labels["io.userdocker.uid"] != uidOf(t, alice) || got.Config.Labels["io.userdocker.user"] != alice {
		t.Errorf("labels = %v, want alice's", got.Config.Labels)
	}
	if !strings.HasPrefix(got.Config.User, uidOf(t, alice)+":") {
		t.Errorf("User = %q, want alice's uid", got.Config.User)
	}
	if ps := ud(t, alice, nil, "ps"); ps.code != 0 || !strings.Contains(ps.stdout, name) || !strings.Contains(ps.stdout, "ud-test/busybox") {
		t.Errorf("ps: exit %d, stdout %q, stderr %q; want the container", ps.code, ps.stdout, ps.stderr)
	}
	if ps := ud(t, bob, nil, "ps", "-a"); strings.Contains(ps.stdout, name) {
		t.Errorf("bob's ps shows alice's container: %q", ps.stdout)
	}
	waitFor(t, "the container's log", func() bool { return ud(t, alice, nil, "logs", name).stdout == "ready\n" })
	if r := ud(t, bob, nil, "stop", name); r.code == 0 {
		t.Errorf("bob stopped alice's container")
	}
	if r := ud(t, alice, nil, "stop", "-s", "INT", "-t", "60", name); r.code != 0 {
		t.Fatalf("stop -s INT: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := podmanInspect(t, id); got.State.Running || got.State.ExitCode != 3 {
		t.Errorf("after stop -s INT: running %v, exit %d; want 3 (the trap of the user's signal)", got.State.Running, got.State.ExitCode)
	}
	if r := ud(t, alice, nil, "rm", name); r.code != 0 {
		t.Fatalf("rm: exit %d, stderr %q", r.code, r.stderr)
	}
	if ids := podmanContainers(t, ""); len(ids) != 0 {
		t.Errorf("containers left after rm: %v", ids)
	}
}

// The own-container subcommands that talk to a running container, on
// Podman, under a pseudo-terminal as a user would: exec -it, attach with
// the detach keys (which userdocker acts on there: Podman would hand them
// to the shell), attach until the shell's exit status, wait, and kill of
// an exited container (Podman's 500, read as docker's 409).
func TestPodmanAttachExecUnderPTY(t *testing.T) {
	requirePodman(t)
	name := "udtest-alice-pm-shell"
	r := ud(t, alice, nil, "run", "-dit", "--name", name, "-l", podmanTestLabel, testImage, "sh")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -dit: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if code, screen := underPTY(t, alice, []string{"id -u; exit 4\r"}, "exec", "-it", name, "sh"); code != 4 || !strings.Contains(screen, uidOf(t, alice)) {
		t.Fatalf("exec -it: exit %d, want 4 and uid %s; screen:\n%s", code, uidOf(t, alice), screen)
	}
	code, screen := underPTY(t, alice, []string{"echo $((6*7))\r", "\x10\x11"}, "attach", id[:12])
	if code != 0 || !strings.Contains(screen, "42") {
		t.Fatalf("attach, then ctrl-p ctrl-q: exit %d, want 0 and 42; screen:\n%s", code, screen)
	}
	if !podmanInspect(t, id).State.Running {
		t.Fatalf("the container must run on after a detach")
	}
	if code, screen := underPTY(t, alice, []string{"exit 6\r"}, "attach", name); code != 6 {
		t.Fatalf("attach: exit %d, want the shell's 6; screen:\n%s", code, screen)
	}
	if w := ud(t, alice, nil, "wait", name); w.code != 0 || strings.TrimSpace(w.stdout) != "6" {
		t.Errorf("wait: exit %d, stdout %q, stderr %q; want 6", w.code, w.stdout, w.stderr)
	}
	if k := ud(t, bob, nil, "rm", name); k.code == 0 {
		t.Errorf("bob removed alice's container")
	}
	if k := ud(t, alice, nil, "kill", name); k.code == 0 {
		t.Errorf("kill of an exited container: exit 0, stderr %q", k.stderr)
	}
	if r := ud(t, alice, nil, "rm", name); r.code != 0 {
		t.Errorf("rm: exit %d, stderr %q", r.code, r.stderr)
	}
}

// load is refused on Podman (it names loaded images localhost/…), before
// anything is read.
func TestPodmanLoadRefused(t *testing.T) {
	requirePodman(t)
	r := ud(t, alice, nil, "load", "-i", "/dev/null")
	if r.code == 0 || !strings.Contains(r.stderr, "load is not supported with Podman 4.3.1") {
		t.Errorf("load: exit %d, stderr %q; want the refusal", r.code, r.stderr)
	}
}

// In a Slurm job: a run with the job's GPUs is refused on Podman 4.3
// (it would drop the device request and start the container without
// them), and creates nothing; the epilog, pointed at Podman, removes a
// job's detached containers there.
func TestPodmanSlurmGPUsRefusedAndEpilog(t *testing.T) {
	requireSlurm(t)
	requirePodman(t)

	gpuJob := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=128")
	r := inJob(t, gpuJob, nil, "run", "--rm", "-l", podmanTestLabel, testImage, "true")
	if r.code != 125 || !strings.Contains(r.stderr, `GPUs cannot be delivered by Podman 4.3.1 with gpu.delivery = "device-requests"`) {
		t.Errorf("GPU run on Podman: exit %d, stderr %q; want the refusal", r.code, r.stderr)
	}
	if ids := podmanContainers(t, ""); len(ids) != 0 {
		t.Errorf("a refused run left containers: %v", ids)
	}
	cancelJob(t, gpuJob)

	j := holdJob(t, alice, "-c1", "--mem=128")
	var ids []string
	for i := 0; i < 2; i++ {
		r := inJob(t, j, nil, "run", "-d", "-l", podmanTestLabel, testImage, "sh", "-c", quickStop)
		id := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(id) != 64 {
			t.Fatalf("run -d in job %s: exit %d, stdout %q, stderr %q", j.ID, r.code, r.stdout, r.stderr)
		}
		ids = append(ids, id)
	}
	if got := podmanContainers(t, "io.userdocker.job="+j.ID); len(got) != 2 {
		t.Fatalf("job %s has %v on Podman, want its 2 containers", j.ID, got)
	}
	// One has ended already: the epilog removes stopped ones too.
	podman(t, "kill", ids[1])
	// As slurmd runs it, with the test config (docker_host: Podman), and
	// a state dir of its own: the real epilog deletes the job's records
	// when the job ends.
	cmd := exec.Command(epilogPath, "--config", testConfig, "--state-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "SLURM_JOB_ID="+j.ID, "SLURM_JOB_USER="+alice, "SLURM_JOB_UID="+uidOf(t, alice))
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ud-epilog on Podman: %v\n%s", err, out)
	}
	t.Logf("ud-epilog on Podman took %v", time.Since(start).Round(10*time.Millisecond))
	if got := podmanContainers(t, "io.userdocker.job="+j.ID); len(got) != 0 {
		t.Errorf("the epilog left the job's containers on Podman: %v", got)
	}
}

// config check as root names Podman and says it injects no CDI devices
// when gpu.delivery is "cdi": a problem.
func TestPodmanConfigCheck(t *testing.T) {
	requirePodman(t)
	r := udRoot(t, "config", "check")
	if r.code != 0 || !strings.Contains(r.stdout, "daemon: Podman 4.3.1 (Docker API 1.41) at unix://"+podmanSocket) ||
		!strings.Contains(r.stdout, `warning: gpu.delivery = "device-requests" does not work on Podman`) {
		t.Errorf("config check: exit %d, stdout %q", r.code, r.stdout)
	}
	writeConfig(t, strings.Replace(podmanConfig, "[gpu]\n", "[gpu]\ndelivery = \"cdi\"\n", 1))
	r = udRoot(t, "config", "check")
	if r.code != 1 || !strings.Contains(r.stdout, `gpu.delivery is "cdi", and Podman 4.3.1 does not inject CDI devices`) {
		t.Errorf("config check with CDI: exit %d, stdout %q", r.code, r.stdout)
	}
}

// gpu.delivery = "cdi" end to end as far as the engines here go: the job's
// GPUs (UUIDs, from the mock NVML prolog) become one CDI device request
// with their qualified names, NVIDIA_VISIBLE_DEVICES still forced; neither
// engine here injects CDI devices through the Docker API (Podman from
// 5.5, Docker from 25), so a real run is refused before the create, where
// Docker 20.10 would create the container and then fail its start.
func TestSlurmCDIDelivery(t *testing.T) {
	requireSlurm(t)
	requirePodman(t)
	useMockProlog(t)
	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	var uuids, names []string
	for _, g := range jobGPUs(t, j) {
		uuids = append(uuids, mockUUID(g))
		names = append(names, "nvidia.com/gpu="+mockUUID(g))
	}
	cdi := func(config string) string {
		return strings.Replace(config, "[gpu]\n", "[gpu]\ndelivery = \"cdi\"\n", 1)
	}

	writeConfig(t, cdi(baseConfig))
	r := inJob(t, j, nil, "run", "--dry-run", testImage, "true")
	var plan struct {
		Config struct{ Env []string } `json:"config"`
		Host   struct {
			DeviceRequests []struct {
				Driver       string
				Count        int
				DeviceIDs    []string
				Capabilities [][]string
			}
			Runtime string
		} `json:"host_config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); r.code != 0 || err != nil {
		t.Fatalf("dry run: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
	dr := plan.Host.DeviceRequests
	if len(dr) != 1 || dr[0].Driver != "cdi" || dr[0].Count != 0 || len(dr[0].Capabilities) != 0 || strings.Join(dr[0].DeviceIDs, ",") != strings.Join(names, ",") || plan.Host.Runtime != "" {
		t.Errorf("device requests %+v, runtime %q; want one of driver cdi with %v", dr, plan.Host.Runtime, names)
	}
	if want := "NVIDIA_VISIBLE_DEVICES=" + strings.Join(uuids, ","); !slices.Contains(plan.Config.Env, want) {
		t.Errorf("env %v, want %s", plan.Config.Env, want)
	}

	for _, c := range []struct{ config, want string }{
		{baseConfig, `gpu.delivery is "cdi", and Docker 20.10`},
		{podmanConfig, `gpu.delivery is "cdi", and Podman 4.3.1 does not inject CDI devices`},
	} {
		writeConfig(t, cdi(c.config))
		r := inJob(t, j, nil, "run", "--rm", "-l", podmanTestLabel, testImage, "true")
		if r.code != 125 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("CDI run: exit %d, stderr %q; want the refusal %q", r.code, r.stderr, c.want)
		}
		if ids := append(podmanContainers(t, ""), containersOf(t, alice)...); len(ids) != 0 {
			t.Errorf("a refused CDI run left containers: %v", ids)
		}
	}
}
