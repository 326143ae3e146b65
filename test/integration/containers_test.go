//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/tty"
	"github.com/userdocker/userdocker/test/harness"
)

// ownConfig is baseConfig with every own-container subcommand allowed.
var ownConfig = strings.Replace(baseConfig,
	`subcommands = ["run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version"]`,
	`subcommands = ["run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version", "rm", "kill", "wait", "exec"]`, 1)

// startAs runs a detached container for who through userdocker and
// returns its ID; it is removed when the test ends.
func startAs(t *testing.T, who string, args ...string) string {
	t.Helper()
	r := ud(t, who, nil, append([]string{"run", "-d"}, args...)...)
	if r.code != 0 {
		t.Fatalf("run -d %v as %s: exit %d: %s", args, who, r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	return id
}

func state(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", "{{.Id}} {{.State.Status}}", id).CombinedOutput()
	if err != nil {
		return "gone"
	}
	return strings.TrimSpace(string(out))
}

func TestOwnContainersOthersRefused(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownConfig)
	bobs := startAs(t, bob, "--name", "web", testImage, "sleep", "300")
	before := state(t, bobs)
	mine := startAs(t, alice, "--name", "web", testImage, "sleep", "300")
	for _, arg := range []string{bob + "-web", bobs, bobs[:12]} {
		for _, args := range [][]string{
			{"stop", "-t", "0", arg}, {"kill", arg}, {"rm", "-f", arg}, {"logs", arg},
			{"exec", arg, "id"}, {"attach", "--no-stdin", arg}, {"wait", arg},
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				r := ud(t, alice, nil, args...)
				want := "userdocker: no container " + arg + " of yours\n"
				if r.code != 1 || r.stderr != want || r.stdout != "" {
					t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and %q", r.code, r.stdout, r.stderr, want)
				}
			})
		}
	}
	if got := state(t, bobs); got != before || !strings.HasSuffix(got, " running") {
		t.Fatalf("bob's container is %q after alice's attempts, want %q", got, before)
	}
	if state(t, mine) != mine+" running" {
		t.Fatalf("alice's own container changed: %s", state(t, mine))
	}

	t.Run("ps shows her own only", func(t *testing.T) {
		r := ud(t, alice, nil, "ps", "-q", "--no-trunc")
		if r.code != 0 || !contains(strings.Fields(r.stdout), mine) || strings.Contains(r.stdout, bobs) {
			t.Fatalf("exit %d, ps -q %q; want %s and not %s (%s)", r.code, r.stdout, mine, bobs, r.stderr)
		}
		for _, id := range strings.Fields(r.stdout) {
			if !contains(containersOf(t, alice), id) {
				t.Fatalf("ps lists %s, which is not alice's", id)
			}
		}
		r = ud(t, alice, nil, "ps", "--format", "{{.Names}} {{.User}}", "--filter", "id="+mine)
		if r.stdout != alice+"-web "+alice+"\n" {
			t.Fatalf("ps --format: %q (%s)", r.stdout, r.stderr)
		}
		r = ud(t, alice, nil, "ps", "--all-users")
		if r.code != 125 || r.stderr != "userdocker: --all-users is for root only: ps shows your own containers\n" {
			t.Fatalf("ps --all-users: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestOwnContainersByNameIDAndPrefix(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownConfig)
	id := startAs(t, alice, "--name", "talker", testImage, "sh", "-c", "echo hello from talker; sleep 300")
	waitFor(t, "the container's first line", func() bool { return strings.Contains(docker(t, "logs", id), "hello") })

	if r := ud(t, alice, nil, "logs", "talker"); r.code != 0 || r.stdout != "hello from talker\n" {
		t.Fatalf("logs by name: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := ud(t, alice, nil, "logs", "-t", "--tail", "1", id); r.code != 0 || !strings.HasSuffix(r.stdout, "Z hello from talker\n") {
		t.Fatalf("logs -t by ID: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r := ud(t, alice, nil, "exec", id[:10], "id")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "uid="+uidOf(t, alice)+"("+alice+") ") {
		t.Fatalf("exec by prefix: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := ud(t, alice, nil, "exec", "talker", "sh", "-c", "exit 5"); r.code != 5 {
		t.Fatalf("exec's status: exit %d, want 5 (%s)", r.code, r.stderr)
	}
	if r := ud(t, alice, nil, "exec", "-u", "0", "talker", "id"); r.code != 125 || r.stderr != "userdocker: --user \"0\" is not allowed: exec runs as you ("+uidOf(t, alice)+":"+uidOf(t, alice)+")\n" {
		t.Fatalf("exec -u 0: exit %d, %q", r.code, r.stderr)
	}
	if r := ud(t, alice, nil, "exec", "--privileged", "talker", "id"); r.code != 125 || r.stderr != "userdocker: --privileged is not allowed on this system\n" {
		t.Fatalf("exec --privileged: exit %d, %q", r.code, r.stderr)
	}

	if r := ud(t, alice, nil, "exec", "-e", "NVIDIA_VISIBLE_DEVICES=all", "talker", "id"); r.code != 125 || r.stderr != "userdocker: -e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it from the GPUs you were granted\n" {
		t.Fatalf("exec -e NVIDIA_VISIBLE_DEVICES: exit %d, %q", r.code, r.stderr)
	}
	// wait returns when kill (by full name) ends the container.
	waited, followed := make(chan result, 1), make(chan result, 1)
	go func() { waited <- ud(t, alice, nil, "wait", id[:12]) }()
	go func() { followed <- ud(t, alice, nil, "logs", "-f", "--since", "1h", "talker") }()
	time.Sleep(500 * time.Millisecond)
	if r := ud(t, alice, nil, "kill", alice+"-talker"); r.code != 0 || r.stdout != alice+"-talker\n" {
		t.Fatalf("kill by full name: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if w := <-waited; w.code != 0 || w.stdout != "137\n" {
		t.Fatalf("wait by prefix: exit %d, %q %q; want 137", w.code, w.stdout, w.stderr)
	}
	if f := <-followed; f.code != 0 || f.stdout != "hello from talker\n" {
		t.Fatalf("logs -f must end with the container: exit %d, %q %q", f.code, f.stdout, f.stderr)
	}
	if rec := lastAudit(t, "kill"); rec.Decision != "allowed" || len(rec.Containers) != 1 || rec.Containers[0] != id {
		t.Fatalf("kill's audit record: %+v; want allowed, containers [%s]", rec, id)
	}
	if r := ud(t, alice, nil, "rm", "talker"); r.code != 0 || state(t, id) != "gone" {
		t.Fatalf("rm by name: exit %d, %q, state %s", r.code, r.stderr, state(t, id))
	}

	id = startAs(t, alice, "--name", "stopper", testImage, "sleep", "300")
	if r := ud(t, alice, nil, "stop", "-t", "1", id); r.code != 0 || !strings.HasSuffix(state(t, id), " exited") {
		t.Fatalf("stop by ID: exit %d, %q, state %s", r.code, r.stderr, state(t, id))
	}
	if r := ud(t, alice, nil, "rm", id[:12], "nothing-here"); r.code != 1 || r.stderr != "userdocker: no container nothing-here of yours\n" || state(t, id) != "gone" {
		t.Fatalf("rm by prefix with a missing one: exit %d, %q, state %s", r.code, r.stderr, state(t, id))
	}
}

// lastAudit returns the newest audit record of the subcommand in the test
// config's audit log.
func lastAudit(t *testing.T, sub string) audit.Record {
	t.Helper()
	data, err := os.ReadFile("/var/log/userdocker-test-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var r audit.Record
		if json.Unmarshal([]byte(lines[i]), &r) == nil && r.Subcommand == sub {
			return r
		}
	}
	t.Fatalf("no audit record of %s", sub)
	return audit.Record{}
}

// underPTY runs userdocker as who on a new pseudo-terminal of 30x100,
// types each of keys after a pause, and returns the exit status and all the
// terminal showed.
func underPTY(t *testing.T, who string, keys []string, args ...string) (int, string) {
	t.Helper()
	return commandUnderPTY(t, who, keys, append([]string{"sudo", "-n", testBinary}, args...)...)
}

// commandUnderPTY runs argv as who on a 30x100 pseudo-terminal, types keys
// (1.5 s apart), and returns the exit status and what the terminal showed.
func commandUnderPTY(t *testing.T, who string, keys []string, argv ...string) (int, string) {
	t.Helper()
	master, slave, err := tty.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	tty.SetSize(slave.Fd(), 30, 100)
	cmd := exec.Command(argv[0], argv[1:]...)
	harness.AsUser(t, cmd, who)
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty = true, true
	cmd.Env = []string{"PATH=/usr/bin:/bin", "TERM=xterm"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, master); close(done) }()
	for _, k := range keys {
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(master, k)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v did not end; screen:\n%s", argv, screen.String())
	}
	<-done
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), screen.String()
	}
	return 0, screen.String()
}

func TestAttachAndExecUnderPTY(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownConfig)
	id := startAs(t, alice, "-it", "--name", "shell", testImage, "sh")
	t.Run("exec -it", func(t *testing.T) {
		code, screen := underPTY(t, alice, []string{"stty size; tty; id -u; exit 4\r"}, "exec", "-it", "shell", "sh")
		if code != 4 || !strings.Contains(screen, "30 100") || !strings.Contains(screen, "/dev/pts/") || !strings.Contains(screen, uidOf(t, alice)) {
			t.Fatalf("exit %d, want 4, a 30x100 pty and uid %s; screen:\n%s", code, uidOf(t, alice), screen)
		}
	})
	t.Run("attach, then detach with ctrl-p ctrl-q", func(t *testing.T) {
		code, screen := underPTY(t, alice, []string{"echo $((6*7))\r", "\x10\x11"}, "attach", id[:12])
		if code != 0 || !strings.Contains(screen, "42") {
			t.Fatalf("exit %d, want 0 and 42 on the screen; screen:\n%s", code, screen)
		}
		if !strings.HasSuffix(state(t, id), " running") {
			t.Fatalf("the container must run on after a detach: %s", state(t, id))
		}
	})
	t.Run("attach returns the container's status", func(t *testing.T) {
		code, screen := underPTY(t, alice, []string{"exit 6\r"}, "attach", "shell")
		if code != 6 {
			t.Fatalf("exit %d, want 6; screen:\n%s", code, screen)
		}
	})
}

// hijackArchive is `docker save` of the denied test image with its tags
// rewritten to tags, in a file alice can read.
func hijackArchive(t *testing.T, tags ...string) string {
	t.Helper()
	return writeArchive(t, withTags(savedEntries(t, deniedImage), tags...))
}

func TestLoadHijackRefused(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownConfig)
	before := docker(t, "image", "inspect", "--format", "{{.Id}}", testImage)
	path := hijackArchive(t, testImage)
	if !bytes.Contains(must(os.ReadFile(path)), []byte(`"`+testImage+`"`)) {
		t.Fatal("the archive does not carry the hijacking tag")
	}
	want := "userdocker: load: tag docker.io/" + testImage + " is refused: this system lets it run (run.images), and a loaded image must not replace it\n"
	t.Run("-i FILE", func(t *testing.T) {
		r := ud(t, alice, nil, "load", "-i", path)
		if r.code != 125 || r.stderr != want {
			t.Fatalf("exit %d, stderr %q; want 125, %q", r.code, r.stderr, want)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		cmd := exec.Command("sudo", "-n", testBinary, "load")
		harness.AsUser(t, cmd, alice)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		f, _ := os.Open(path)
		defer f.Close()
		cmd.Stdin = f
		if r := harness.Run(t, cmd); r.Code != 125 || r.Stderr != want {
			t.Fatalf("exit %d, stderr %q; want 125, %q", r.Code, r.Stderr, want)
		}
	})
	if after := docker(t, "image", "inspect", "--format", "{{.Id}}", testImage); after != before {
		t.Fatalf("%s changed from %s to %s", testImage, before, after)
	}
	t.Run("a new tag nobody may run loads", func(t *testing.T) {
		tag := "udtest-alice/loaded:1"
		t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
		r := ud(t, alice, nil, "load", "-i", hijackArchive(t, tag))
		if r.code != 0 || !strings.Contains(r.stdout, "Loaded image: "+tag) {
			t.Fatalf("exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		// The same image again changes nothing: skipped (TestLoadAgainSkipped).
		// Another image under the tag is a hijack.
		r = ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(savedEntries(t, testImage), tag)))
		if wantExists := "userdocker: load: tag docker.io/" + tag + " is refused: it exists already, and a loaded image must not replace it\n"; r.code != 125 || r.stderr != wantExists {
			t.Fatalf("load of another image as %s: exit %d, %q; want %q", tag, r.code, r.stderr, wantExists)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestImagesTree(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownConfig)
	r := ud(t, alice, nil, "images", "--tree")
	id := docker(t, "image", "inspect", "--format", "{{.Id}}", testImage)[len("sha256:"):][:12]
	if r.code != 0 || !strings.Contains(r.stdout, id+" ") || !strings.Contains(r.stdout, "Tags: "+testImage) || strings.Contains(r.stdout, "<none>") {
		t.Fatalf("exit %d; want %s tagged %s in the tree, no <none> tags:\n%s%s", r.code, id, testImage, r.stdout, r.stderr)
	}
}

func TestPullDeniedRefusedBeforeFetching(t *testing.T) {
	requireSetup(t)
	writeConfig(t, strings.Replace(ownConfig, `pull = "never"`, `pull = "missing"`, 1))
	since := time.Now().Add(-time.Second).Format(time.RFC3339)
	r := ud(t, alice, nil, "pull", "ud-test/denied:other")
	want := "userdocker: image docker.io/ud-test/denied:other is not allowed on this system (see run.images): not pulled\n"
	if r.code != 125 || r.stderr != want || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 125, %q", r.code, r.stdout, r.stderr, want)
	}
	events := docker(t, "events", "--since", since, "--until", time.Now().Add(time.Second).Format(time.RFC3339),
		"--filter", "type=image", "--filter", "event=pull", "--format", "{{.Action}} {{.Actor.ID}}")
	if events != "" {
		t.Fatalf("the daemon pulled: %s", events)
	}
	writeConfig(t, ownConfig) // pull = "never"
	r = ud(t, alice, nil, "pull", testImage)
	if r.code != 125 || r.stderr != "userdocker: pull is not allowed on this system (run.pull = \"never\"): only images already here can be run\n" {
		t.Fatalf("pull under run.pull = never: exit %d, %q", r.code, r.stderr)
	}
}
