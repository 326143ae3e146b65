//go:build integration

package integration

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/pullonce"
)

// stateDir is the test policy's slurm.state_dir (the default), where
// pulls take their locks.
const stateDir = "/run/userdocker"

// The registry tests pull for real from the test cluster's registry
// (docs/testing.md): each test pushes images of its own under
// registryAddr/udtest-reg/<test>-<random>, so that tests do not see each
// other's pulls in the registry's log, and removes them from the daemon
// and the registry when it ends. The images are ud-test/busybox with one
// layer more, a file /ud-test-id holding a word of the test's: the node
// has the busybox layers already, so a pull fetches the manifest, the
// image's configuration and that one layer.

// pushed is an image a test pushed to the registry.
type pushed struct {
	repo    string // "udtest-reg/…", the registry's name for it
	ref     string // registryAddr/repo:tag
	digest  string // its manifest's digest, "sha256:…"
	id      string // the image ID
	content string // what /ud-test-id holds
}

// canonical is the image's name by digest: registryAddr/repo@sha256:….
func (p pushed) canonical() string { return registryAddr + "/" + p.repo + "@" + p.digest }

func randomWord(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// testRepo is a registry repository name for this test alone.
func testRepo(t *testing.T, what string) string {
	return "udtest-reg/" + what + "-" + randomWord(t)
}

// pushImage builds an image of its own, pushes it to the registry as
// repo:tag and removes it from the daemon again: the registry has it, the
// node has not. When the test ends, every image of repo goes from the
// daemon, and repo from the registry.
func pushImage(t *testing.T, repo, tag string) pushed {
	t.Helper()
	p := pushed{repo: repo, ref: registryAddr + "/" + repo + ":" + tag, content: randomWord(t)}
	build := exec.Command("docker", "build", "-q", "-t", p.ref, "-")
	build.Stdin = strings.NewReader("FROM " + testImage + "\nRUN echo " + p.content + " >/ud-test-id\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", p.ref, err, out)
	}
	t.Cleanup(func() {
		removeRepo(repo)
		purgeRepo(repo)
	})
	if out, err := exec.Command("docker", "push", p.ref).CombinedOutput(); err != nil {
		t.Fatalf("docker push %s: %v\n%s", p.ref, err, out)
	}
	p.id = docker(t, "image", "inspect", "-f", "{{.Id}}", p.ref)
	for _, d := range strings.Fields(strings.Trim(docker(t, "image", "inspect", "-f", "{{.RepoDigests}}", p.ref), "[]")) {
		if strings.HasPrefix(d, registryAddr+"/"+repo+"@") {
			p.digest = strings.TrimPrefix(d, registryAddr+"/"+repo+"@")
		}
	}
	if p.digest == "" {
		t.Fatalf("%s: no digest after the push", p.ref)
	}
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", p.id).Run() })
	docker(t, "image", "rm", p.ref)
	if exec.Command("docker", "image", "inspect", p.id).Run() == nil {
		t.Fatalf("%s: the daemon still has %s", p.ref, p.id)
	}
	return p
}

// removeRepo removes the daemon's images of repo, and any container of
// them first.
func removeRepo(repo string) {
	out, _ := exec.Command("docker", "image", "ls", "-q", "--no-trunc", registryAddr+"/"+repo).Output()
	for _, id := range strings.Fields(string(out)) {
		ps, _ := exec.Command("docker", "ps", "-aq", "--filter", "ancestor="+id).Output()
		for _, c := range strings.Fields(string(ps)) {
			exec.Command("docker", "rm", "-f", c).Run()
		}
		exec.Command("docker", "image", "rm", "-f", id).Run()
	}
}

// registryStore is where the test registry keeps repositories and blobs.
const registryStore = "/var/lib/userdocker-test/registry/docker/registry/v2"

// purgeRepo removes a repository a test pushed from the registry's
// storage, with the blobs no other repository links to. Deleting a
// manifest through the API leaves its blobs until a garbage collection,
// which is unsafe while the registry serves others; a test's blobs are
// its own (random words), so it removes them itself
// (bench/registry-purge.bash does the same for the benchmarks).
func purgeRepo(repo string) {
	dir := filepath.Join(registryStore, "repositories", repo)
	if !strings.HasPrefix(repo, "udtest-reg/") {
		return
	}
	linked := func(root string) map[string]bool {
		out := map[string]bool{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p == dir && root != dir {
				return filepath.SkipDir
			}
			if d.Name() == "link" && (strings.Contains(p, "/_layers/sha256/") || strings.Contains(p, "/_manifests/revisions/sha256/")) {
				out[filepath.Base(filepath.Dir(p))] = true
			}
			return nil
		})
		return out
	}
	others := linked(filepath.Join(registryStore, "repositories"))
	for d := range linked(dir) {
		if !others[d] && len(d) == 64 && strings.Trim(d, "0123456789abcdef") == "" {
			os.RemoveAll(filepath.Join(registryStore, "blobs", "sha256", d[:2], d))
		}
	}
	os.RemoveAll(dir)
}

// regConfig is the base policy with run.images and run.pull replaced, and
// --pull allowed.
func regConfig(pull string, images ...string) string {
	c := strings.Replace(baseConfig, `images = ['^docker\.io/library/(debian|ubuntu):', '^ud-test/(busybox|cuda):']`,
		`images = ['`+strings.Join(images, `', '`)+`']`, 1)
	c = strings.Replace(c, `allowed = ["-i",`, `allowed = ["--pull", "-i",`, 1)
	return strings.Replace(c, `pull = "never"`, `pull = "`+pull+`"`, 1)
}

// logMark is where the registry's log ends now: requests after it are
// the test's.
func logMark(t *testing.T) int64 {
	t.Helper()
	fi, err := os.Stat(registryLog)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// requestsSince are the registry's request lines for repo logged after
// mark ("GET /v2/<repo>/manifests/v1", "HEAD …", one per request).
func requestsSince(t *testing.T, mark int64, repo string) []string {
	t.Helper()
	f, err := os.Open(registryLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, mark, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"([A-Z]+) (/v2/` + regexp.QuoteMeta(repo) + `/[^ ]*) HTTP/`)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	return out
}

// fetches counts the manifest and blob requests among reqs: the manifest
// requests (HEAD and GET, by tag or digest) in all, and each blob's GETs.
func fetches(reqs []string) (manifests int, blobs map[string]int) {
	blobs = map[string]int{}
	for _, r := range reqs {
		switch {
		case strings.Contains(r, "/manifests/"):
			manifests++
		case strings.HasPrefix(r, "GET ") && strings.Contains(r, "/blobs/"):
			blobs[r[strings.LastIndex(r, "/")+1:]]++
		}
	}
	return manifests, blobs
}

// waitRequests waits until the registry has logged at least n requests
// for repo after mark (it logs a request once answered), and returns them.
func waitRequests(t *testing.T, mark int64, repo string, n int) []string {
	t.Helper()
	var reqs []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if reqs = requestsSince(t, mark, repo); len(reqs) >= n {
			break
		}
	}
	return reqs
}

// runsContent runs the image as alice and returns what /ud-test-id says.
func runsContent(t *testing.T, ref string) result {
	t.Helper()
	return ud(t, alice, nil, "run", "--rm", ref, "cat", "/ud-test-id")
}

// TestRegistryPullProgress pulls a pushed image for real, and shows it
// as docker does: per-layer lines without cursor movements when the
// output is not a terminal, moving the cursor on one, the reference alone
// with -q. An image the policy refuses never reaches the registry.
func TestRegistryPullProgress(t *testing.T) {
	requireSetup(t)
	repo := testRepo(t, "progress")
	p := pushImage(t, repo, "v1")
	writeConfig(t, regConfig("missing", `^127\.0\.0\.1:5000/udtest-reg/`))

	mark := logMark(t)
	for _, args := range [][]string{{"pull", registryAddr + "/ud-test/denied:latest"}, {"run", "--rm", registryAddr + "/ud-test/denied:latest", "true"}} {
		r := ud(t, alice, nil, args...)
		want := "userdocker: image " + registryAddr + "/ud-test/denied:latest is not allowed on this system (see run.images)"
		if r.code != 125 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 125 and %q", args, r.code, r.stderr, want)
		}
	}

	r := ud(t, alice, nil, "pull", p.ref)
	for _, want := range []string{"v1: Pulling from " + repo + "\n", ": Pull complete\n", "Digest: " + p.digest + "\n",
		"Status: Downloaded newer image for " + p.ref + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pull, not on a terminal: stdout lacks %q", want)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, "\x1b[") || r.stderr != "" {
		t.Errorf("pull, not on a terminal: exit %d, stderr %q; want 0, plain lines:\n%s", r.code, r.stderr, r.stdout)
	}
	if got := docker(t, "image", "inspect", "-f", "{{.Id}}", p.ref); got != p.id {
		t.Errorf("after the pull the daemon's %s is %s, want the pushed %s", p.ref, got, p.id)
	}
	// The refusals above asked the registry nothing; the pull asked it once.
	if denied := requestsSince(t, mark, "ud-test/denied"); len(denied) != 0 {
		t.Errorf("refused images reached the registry: %q", denied)
	}
	if m, blobs := fetches(waitRequests(t, mark, repo, 4)); m != 2 || len(blobs) != 2 {
		t.Errorf("one pull: %d manifest requests (want HEAD and GET), blobs %v (want the config and one layer)", m, blobs)
	}

	docker(t, "image", "rm", p.ref)
	if r := ud(t, alice, nil, "pull", "-q", p.ref); r.code != 0 || r.stdout != p.ref+"\n" || r.stderr != "" {
		t.Errorf("pull -q: exit %d, stdout %q, stderr %q; want 0 and the reference alone", r.code, r.stdout, r.stderr)
	}

	docker(t, "image", "rm", p.ref)
	code, screen := underPTY(t, alice, nil, "pull", p.ref)
	if code != 0 || !strings.Contains(screen, "\x1b[") || !strings.Contains(screen, "Pull complete") {
		t.Errorf("pull on a terminal: exit %d, want 0 and per-layer lines updated in place:\n%q", code, screen)
	}
}

// TestRegistryPullPolicies runs an image the node does not have under
// each run.pull, and again after its tag moved in the registry: "never"
// refuses and asks the registry nothing, "missing" pulls once and then
// keeps what the node has, "always" asks every time and runs what the tag
// names now. ps shows the digest each container runs.
func TestRegistryPullPolicies(t *testing.T) {
	requireSetup(t)
	repo := testRepo(t, "policies")
	p1 := pushImage(t, repo, "v1")

	writeConfig(t, regConfig("never", `^127\.0\.0\.1:5000/udtest-reg/`))
	mark := logMark(t)
	r := runsContent(t, p1.ref)
	want := "userdocker: image " + p1.ref + " is not on node " + hostNode(t) + ", and this system does not pull images (run.pull = \"never\"): ask your admin to put it on every node\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("run.pull = never: exit %d, stderr %q; want 125, %q", r.code, r.stderr, want)
	}
	if reqs := requestsSince(t, mark, repo); len(reqs) != 0 {
		t.Errorf("run.pull = never asked the registry: %q", reqs)
	}

	writeConfig(t, regConfig("missing", `^127\.0\.0\.1:5000/udtest-reg/`))
	mark = logMark(t)
	r = runsContent(t, p1.ref)
	if r.code != 0 || r.stdout != p1.content+"\n" || !strings.HasPrefix(r.stderr, "Unable to find image '"+p1.ref+"' locally\n") {
		t.Errorf("run.pull = missing, first run: exit %d, stdout %q, stderr %q; want %q after a pull", r.code, r.stdout, r.stderr, p1.content)
	}
	waitRequests(t, mark, repo, 4)
	// --pull may ask for less than the site, never for more.
	mark = logMark(t)
	r = ud(t, alice, nil, "run", "--rm", "--pull=always", p1.ref, "true")
	if want := "userdocker: --pull=always is not allowed on this system (run.pull = \"missing\")\n"; r.code != 125 || r.stderr != want {
		t.Errorf("run --pull=always under missing: exit %d, stderr %q; want 125, %q", r.code, r.stderr, want)
	}
	if reqs := requestsSince(t, mark, repo); len(reqs) != 0 {
		t.Errorf("a refused --pull=always asked the registry: %q", reqs)
	}
	if r = runsContent(t, p1.ref); r.code != 0 || r.stdout != p1.content+"\n" || r.stderr != "" {
		t.Errorf("run.pull = missing, second run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// The tag moves in the registry; the node keeps its v1.
	p2 := pushImage(t, repo, "v1")
	docker(t, "tag", p1.id, p1.ref)
	mark = logMark(t)
	if r = runsContent(t, p1.ref); r.code != 0 || r.stdout != p1.content+"\n" {
		t.Errorf("run.pull = missing after the tag moved: exit %d, stdout %q, stderr %q; want the node's %q", r.code, r.stdout, r.stderr, p1.content)
	}
	if reqs := requestsSince(t, mark, repo); len(reqs) != 0 {
		t.Errorf("run.pull = missing with the image here asked the registry: %q", reqs)
	}
	old := runDetached(t, ud, p1.ref, "sleep", "60")

	writeConfig(t, regConfig("always", `^127\.0\.0\.1:5000/udtest-reg/`))
	mark = logMark(t)
	if r = runsContent(t, p1.ref); r.code != 0 || r.stdout != p2.content+"\n" {
		t.Errorf("run.pull = always after the tag moved: exit %d, stdout %q, stderr %q; want the registry's %q", r.code, r.stdout, r.stderr, p2.content)
	}
	if m, _ := fetches(waitRequests(t, mark, repo, 1)); m == 0 {
		t.Errorf("run.pull = always did not ask the registry")
	}
	cur := runDetached(t, ud, p1.ref, "sleep", "60")
	mark = logMark(t)
	if r = ud(t, alice, nil, "run", "--rm", "--pull=missing", p1.ref, "cat", "/ud-test-id"); r.code != 0 || r.stdout != p2.content+"\n" {
		t.Errorf("run --pull=missing under always: exit %d, stdout %q, stderr %q; want the node's %q", r.code, r.stdout, r.stderr, p2.content)
	}
	if reqs := requestsSince(t, mark, repo); len(reqs) != 0 {
		t.Errorf("run --pull=missing of an image here asked the registry: %q", reqs)
	}

	r = ud(t, alice, nil, "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}} {{.Digest}}")
	for id, digest := range map[string]string{old: p1.digest, cur: p2.digest} {
		if line := id + " " + p1.ref + " " + registryAddr + "/" + repo + "@" + digest; !strings.Contains(r.stdout, line+"\n") {
			t.Errorf("ps: want the line %q:\n%s%s", line, r.stdout, r.stderr)
		}
	}
	if r = ud(t, alice, nil, "ps", "--digests"); !strings.Contains(r.stdout, "DIGEST") || !strings.Contains(r.stdout, p2.digest) {
		t.Errorf("ps --digests: no DIGEST column with %s:\n%s%s", p2.digest, r.stdout, r.stderr)
	}
}

// TestRegistryDigestPinned: a site pins a validated image by its digest
// in run.images; that digest runs and ps shows it, config explain shows
// the pin, and the same image by tag, or another digest of the
// repository, is refused before anything reaches the registry.
func TestRegistryDigestPinned(t *testing.T) {
	requireSetup(t)
	repo := testRepo(t, "pinned")
	p := pushImage(t, repo, "v1")
	pin := `^127\.0\.0\.1:5000/` + regexp.QuoteMeta(repo) + `@` + regexp.QuoteMeta(p.digest) + `$`
	writeConfig(t, regConfig("missing", pin))

	mark := logMark(t)
	other := registryAddr + "/" + repo + "@sha256:" + strings.Repeat("0", 64)
	for _, ref := range []string{p.ref, other} {
		r := runsContent(t, ref)
		if r.code != 125 || !strings.Contains(r.stderr, "is not allowed on this system (see run.images)") {
			t.Errorf("run %s under a pin of %s: exit %d, stderr %q; want the refusal", ref, p.digest, r.code, r.stderr)
		}
	}
	if reqs := requestsSince(t, mark, repo); len(reqs) != 0 {
		t.Errorf("refused references reached the registry: %q", reqs)
	}

	if r := runsContent(t, p.canonical()); r.code != 0 || r.stdout != p.content+"\n" {
		t.Errorf("run %s: exit %d, stdout %q, stderr %q; want %q", p.canonical(), r.code, r.stdout, r.stderr, p.content)
	}
	id := runDetached(t, ud, p.canonical(), "sleep", "60")
	r := ud(t, alice, nil, "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}} {{.Digest}}")
	if want := id + " " + p.canonical() + " " + p.canonical() + "\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("ps: want %q:\n%s%s", want, r.stdout, r.stderr)
	}
	if got := docker(t, "inspect", "-f", "{{.Image}}", id); got != p.id {
		t.Errorf("the container runs %s, want the pinned image %s", got, p.id)
	}
	if r := udRoot(t, "config", "explain", "--user", alice); !strings.Contains(r.stdout, p.digest) {
		t.Errorf("config explain does not show the pinned digest %s:\n%s%s", p.digest, r.stdout, r.stderr)
	}
}

// TestRegistryConcurrentFirstRuns starts eight runs of an image the node
// does not have at once: they share one pull (the registry answers one
// HEAD and one GET of the manifest and one GET per blob), the others wait
// for it, and all eight run the image.
func TestRegistryConcurrentFirstRuns(t *testing.T) {
	requireSetup(t)
	repo := testRepo(t, "flight")
	p := pushImage(t, repo, "v1")
	writeConfig(t, regConfig("missing", `^127\.0\.0\.1:5000/udtest-reg/`))

	mark := logMark(t)
	const n = 8
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runsContent(t, p.ref)
		}()
	}
	wg.Wait()
	waiting := 0
	for i, r := range results {
		if r.code != 0 || r.stdout != p.content+"\n" {
			t.Errorf("run %d: exit %d, stdout %q, stderr %q; want %q", i, r.code, r.stdout, r.stderr, p.content)
		}
		if strings.Contains(r.stderr, "waiting for the pull of "+p.ref+" started by another job\n") {
			waiting++
		}
	}
	reqs := waitRequests(t, mark, repo, 4)
	time.Sleep(500 * time.Millisecond) // a late line of a second pull would show now
	reqs = requestsSince(t, mark, repo)
	m, blobs := fetches(reqs)
	if m != 2 || len(blobs) != 2 {
		t.Errorf("%d runs at once: %d manifest requests, blobs %v; want one pull (HEAD and GET of the manifest, two blobs):\n%s",
			n, m, blobs, strings.Join(reqs, "\n"))
	}
	for b, c := range blobs {
		if c != 1 {
			t.Errorf("blob %s fetched %d times, want once", b, c)
		}
	}
	t.Logf("%d of %d runs waited for another's pull", waiting, n)
	noPullLock(t, p.ref)
}

// noPullLock checks that the pulls of ref left no lock in the state
// directory.
func noPullLock(t *testing.T, ref string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(stateDir, pullonce.LockFile(ref))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the pull lock of %s is still there (%v)", ref, err)
	}
}

// stallingRegistry listens on the loopback and never answers a request:
// a registry that hangs. TLS handshakes (dockerd tries https first) are
// closed at once. conns receives one value per HTTP connection.
func stallingRegistry(t *testing.T) (addr string, conns chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = make(chan struct{}, 16)
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b := make([]byte, 1)
			if _, err := io.ReadFull(c, b); err != nil || b[0] == 0x16 {
				c.Close()
				continue
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			conns <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String(), conns
}

// TestRegistryDownOrStalled: a registry with nothing listening, and one
// that accepts and never answers. Each pull ends with one line and exit
// 125 and leaves no image and no container; the runs and pulls that came
// while the stalled pull was waiting waited for it (the registry saw one
// connection) and report its error.
func TestRegistryDownOrStalled(t *testing.T) {
	requireSetup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	stalled, conns := stallingRegistry(t)
	writeConfig(t, regConfig("missing", `^127\.0\.0\.1:[0-9]+/udtest-reg/`))
	before := containersOf(t, alice)

	ref := down + "/udtest-reg/down:v1"
	for _, args := range [][]string{{"pull", ref}, {"run", "--rm", ref, "true"}} {
		r := ud(t, alice, nil, args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if args[0] == "run" && lines[0] == "Unable to find image '"+ref+"' locally" {
			lines = lines[1:]
		}
		if r.code != 125 || len(lines) != 1 || !strings.HasPrefix(lines[0], "userdocker: ") || !strings.HasSuffix(lines[0], "connection refused") {
			t.Errorf("%v, nothing listening: exit %d, stdout %q, stderr %q; want 125 and one line saying the connection was refused", args, r.code, r.stdout, r.stderr)
		}
	}

	ref = stalled + "/udtest-reg/stalled:v1"
	type call struct {
		args []string
		r    result
	}
	calls := []*call{{args: []string{"pull", ref}}, {args: []string{"pull", ref}}, {args: []string{"run", "--rm", ref, "true"}}}
	var wg sync.WaitGroup
	start := func(c *call) {
		wg.Add(1)
		go func() { defer wg.Done(); c.r = ud(t, alice, nil, c.args...) }()
	}
	start(calls[0])
	select {
	case <-conns:
	case <-time.After(time.Minute):
		t.Fatal("the daemon never reached the stalling registry")
	}
	for _, c := range calls[1:] {
		start(c)
	}
	wg.Wait()
	first := calls[0].r
	// dockerd gives up on the registry after 15 s, saying so as
	// "Client.Timeout exceeded" or "context deadline exceeded".
	if first.code != 125 || !strings.HasPrefix(first.stderr, "userdocker: pull image "+ref+": ") ||
		!strings.Contains(first.stderr, "http://"+stalled+"/v2/") || strings.Count(first.stderr, "\n") != 1 {
		t.Errorf("the first pull from the stalled registry: exit %d, stderr %q; want 125 and the daemon's timeout on one line", first.code, first.stderr)
	}
	for _, c := range calls[1:] {
		out := c.r.stdout + c.r.stderr
		if c.r.code != 125 || !strings.Contains(out, "waiting for the pull of "+ref+" started by another job\n") || !strings.HasSuffix(c.r.stderr, first.stderr) {
			t.Errorf("%v while the first waited: exit %d, stdout %q, stderr %q; want 125, the waiting line and the first's error %q",
				c.args, c.r.code, c.r.stdout, c.r.stderr, first.stderr)
		}
	}
	if n := len(conns); n != 0 {
		t.Errorf("the stalled registry got %d more connections, want none: the others waited for the first pull", n)
	}
	for _, r := range []string{down + "/udtest-reg/down:v1", ref} {
		if exec.Command("docker", "image", "inspect", r).Run() == nil {
			t.Errorf("the daemon has %s after the failed pulls", r)
		}
	}
	noPullLock(t, ref)
	if after := containersOf(t, alice); len(after) != len(before) {
		t.Errorf("alice's containers went from %d to %d: a failed pull left one", len(before), len(after))
	}
}
