//go:build integration

package integration

// The packages of `make package` (nfpm.yaml, scripts/package.sh): what the
// .deb and the .rpm hold, and the .deb installed with dpkg on this machine,
// where the installed userdocker then runs through real sudo as a real
// user, in a real Slurm job whose prolog and epilog are the installed
// ones; then the package is removed and purged. The machine's own
// /usr/local install, which the other tests use, stays as it was.

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/alloc"
)

// Where the package puts what the tests use.
const (
	pkgLauncher = "/usr/bin/userdocker"
	pkgNvidia   = "/usr/bin/nvidia-userdocker"
	pkgProlog   = "/usr/sbin/ud-prolog"
	pkgEpilog   = "/usr/sbin/ud-epilog"
	pkgConfDir  = "/etc/userdocker"
	pkgConfig   = pkgConfDir + "/config.toml"
	pkgSnippets = "/usr/share/doc/userdocker/slurm"
)

const (
	// pkgMarker says that the userdocker package on this machine is the
	// package test's: cleanPackageTest purges it if a killed run left it.
	pkgMarker = testDir + "/package-installed"
	// pkgSudoers lets users start the installed userdocker during the test.
	pkgSudoers = "/etc/sudoers.d/userdocker-test-package"
	slurmConf  = "/etc/slurm/slurm.conf"
	// savedSlurmConf is slurm.conf as scripts/testenv.sh wrote it, bytes
	// and mtime, while the package test has Prolog= and Epilog= name the
	// packaged hooks.
	savedSlurmConf = testDir + "/slurm.conf.saved"
)

// pkgFile is a file as a package records it.
type pkgFile struct {
	Mode  fs.FileMode // type and permissions; a symlink's are 0777
	Owner string      // user:group
	Link  string      // a symlink's target
}

var (
	pkgDir   = pkgFile{Mode: fs.ModeDir | 0o755, Owner: "root:root"}
	pkgExec  = pkgFile{Mode: 0o755, Owner: "root:root"}
	pkgPlain = pkgFile{Mode: 0o644, Owner: "root:root"}
)

// wantPackage is what both packages hold. The directories are the
// package's own; the .deb lists their parents as well (/usr/bin, …), which
// other packages share and dpkg never removes while they are in use.
var wantPackage = map[string]pkgFile{
	pkgConfDir:                            pkgDir,
	pkgConfDir + "/conf.d":                pkgDir,
	pkgConfig:                             pkgPlain,
	pkgLauncher:                           pkgExec,
	pkgNvidia:                             {Mode: fs.ModeSymlink | 0o777, Owner: "root:root", Link: "userdocker"},
	"/usr/libexec/userdocker":             pkgDir,
	"/usr/libexec/userdocker/userdocker":  pkgExec,
	pkgProlog:                             pkgExec,
	pkgEpilog:                             pkgExec,
	"/usr/share/man/man1/userdocker.1.gz": pkgPlain,
	"/usr/share/man/man5/userdocker.toml.5.gz":          pkgPlain,
	"/usr/share/man/man8/ud-prolog.8.gz":                pkgPlain,
	"/usr/share/man/man8/ud-epilog.8.gz":                pkgPlain,
	"/usr/share/bash-completion/completions/userdocker": pkgPlain,
	"/usr/share/doc/userdocker":                         pkgDir,
	"/usr/share/doc/userdocker/config.toml.example":     pkgPlain,
	"/usr/share/doc/userdocker/logrotate.userdocker":    pkgPlain,
	pkgSnippets:                          pkgDir,
	pkgSnippets + "/README.md":           pkgPlain,
	pkgSnippets + "/cgroup.conf.example": pkgPlain,
	pkgSnippets + "/gres.conf.example":   pkgPlain,
	pkgSnippets + "/sbatch-example.sh":   pkgPlain,
	pkgSnippets + "/slurm.conf.fragment": pkgPlain,
	pkgSnippets + "/sudoers.userdocker":  pkgPlain,
}

// TestPackage builds the packages with `make package` and checks what they
// hold, then installs the .deb and uses it (see testInstalledPackage).
func TestPackage(t *testing.T) {
	requireSlurm(t)
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-query", "visudo"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool+" is not installed: run scripts/testenv.sh")
		}
	}
	dir := t.TempDir()
	start := time.Now()
	if out, err := exec.Command("make", "--no-print-directory", "-C", "../..", "package", "PKGDIR="+dir).CombinedOutput(); err != nil {
		t.Fatalf("make package: %v\n%s", err, out)
	}
	t.Logf("make package: %v", time.Since(start).Round(100*time.Millisecond))
	debs, _ := filepath.Glob(filepath.Join(dir, "userdocker_*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(dir, "userdocker-*.rpm"))
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("make package made %v and %v, want one .deb and one .rpm", debs, rpms)
	}
	out, err := exec.Command("../../scripts/package-version.sh").Output()
	if err != nil {
		t.Fatalf("scripts/package-version.sh: %v", err)
	}
	version := strings.TrimSpace(string(out))
	stage := filepath.Join(dir, "root")

	t.Run("deb", func(t *testing.T) { checkDeb(t, debs[0], version, stage) })
	t.Run("rpm", func(t *testing.T) { checkRPM(t, rpms[0], version) })
	t.Run("staged", func(t *testing.T) { checkStaged(t, stage) })
	t.Run("installed", func(t *testing.T) { testInstalledPackage(t, debs[0], version) })
}

// checkDeb reads the .deb as dpkg would: its files, control fields and
// conffiles.
func checkDeb(t *testing.T, deb, version, stage string) {
	files := debFiles(t, deb)
	own := map[string]pkgFile{}
	for name, f := range files {
		if _, ok := wantPackage[name]; ok || f.Mode&fs.ModeDir == 0 {
			own[name] = f
		} else if !isParentOfWanted(name) {
			t.Errorf("the .deb has directory %s, which holds nothing of it", name)
		}
	}
	comparePackageFiles(t, "the .deb", own)

	fields := map[string]string{"Package": "userdocker", "Version": version, "Architecture": goEnv(t, "GOARCH"),
		"Depends": "sudo, libc6 (>= 2.34)", "Recommends": "docker.io | docker-ce | podman",
		"Suggests": "slurmd, nvidia-container-toolkit", "Section": "admin"}
	for field, want := range fields {
		if got := debField(t, deb, field); got != want {
			t.Errorf("the .deb's %s is %q, want %q", field, got, want)
		}
	}
	if got := debControlFile(t, deb, "conffiles"); got != pkgConfig+"\n" {
		t.Errorf("the .deb's conffiles: %q, want only %s", got, pkgConfig)
	}
	for _, script := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if got := debControlFile(t, deb, script); got != "" {
			t.Errorf("the .deb has a %s script; installing must enable nothing:\n%s", script, got)
		}
	}
	checkLibcNeeds(t, stage, regexp.MustCompile(`libc6 \(>= ([0-9.]+)\)`).FindStringSubmatch(fields["Depends"])[1])
}

// checkRPM reads the .rpm with rpm, if it is there (Debian cannot install
// the package, but can read it).
func checkRPM(t *testing.T, rpm, version string) {
	if _, err := exec.LookPath("rpm"); err != nil {
		missing(t, "rpm is not installed (the .rpm is not checked): run scripts/testenv.sh")
	}
	out := rpmQuery(t, rpm, `[%{FILENAMES}\t%{FILEMODES}\t%{FILEUSERNAME}:%{FILEGROUPNAME}\t%{FILELINKTOS}\t%{FILEFLAGS:fflags}\n]`)
	files := map[string]pkgFile{}
	var configs []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("rpm -qp: %q", line)
		}
		mode, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			t.Fatalf("rpm -qp: mode %q of %s", f[1], f[0])
		}
		files[f[0]] = pkgFile{Mode: statMode(uint32(mode)), Owner: f[2], Link: f[3]}
		if strings.Contains(f[4], "c") {
			configs = append(configs, f[0]+" "+f[4])
		}
	}
	comparePackageFiles(t, "the .rpm", files)
	if want := []string{pkgConfig + " cn"}; !slices.Equal(configs, want) {
		t.Errorf("config files of the .rpm: %q, want %q (%%config(noreplace))", configs, want)
	}
	if got, want := rpmQuery(t, rpm, `%{NAME} %{VERSION} %{RELEASE} %{ARCH}`), "userdocker "+version+" 1 x86_64"; goEnv(t, "GOARCH") == "amd64" && got != want {
		t.Errorf("the .rpm is %q, want %q", got, want)
	}
	if got, want := rpmQuery(t, rpm, `[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]`), "sudo  \nglibc >= 2.34\n"; got != want {
		t.Errorf("the .rpm requires %q, want %q", got, want)
	}
	if got := rpmQuery(t, rpm, `%{PREIN}%{POSTIN}%{PREUN}%{POSTUN}`); got != "(none)(none)(none)(none)" {
		t.Errorf("the .rpm has scriptlets; installing must enable nothing: %q", got)
	}
}

// checkStaged looks at what make install put into the staging tree for
// the packages: nothing left out of them, the snippets filled in with the
// package's paths, the config the example.
func checkStaged(t *testing.T, stage string) {
	var staged []string
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			staged = append(staged, strings.TrimPrefix(p, stage))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, f := range wantPackage {
		if f.Mode&fs.ModeDir == 0 {
			want = append(want, name)
		}
	}
	slices.Sort(staged)
	slices.Sort(want)
	if !slices.Equal(staged, want) {
		t.Errorf("make install staged %q,\nthe packages hold %q: nfpm.yaml and the Makefile disagree", staged, want)
	}

	sudoers := filepath.Join(stage, pkgSnippets, "sudoers.userdocker")
	text := readFile(t, sudoers)
	if !strings.Contains(text, "\nCmnd_Alias USERDOCKER = "+pkgLauncher+", "+pkgNvidia+"\n") || strings.Contains(text, "/usr/local/") {
		t.Errorf("the packaged sudoers.userdocker must name %s and %s, and nothing in /usr/local:\n%s", pkgLauncher, pkgNvidia, text)
	}
	if out, err := exec.Command("visudo", "-c", "-f", sudoers).CombinedOutput(); err != nil {
		t.Errorf("visudo -c -f sudoers.userdocker: %v\n%s", err, out)
	}
	fragment := readFile(t, filepath.Join(stage, pkgSnippets, "slurm.conf.fragment"))
	if !strings.Contains(fragment, "\nProlog="+pkgProlog+"\n") || !strings.Contains(fragment, "\nEpilog="+pkgEpilog+"\n") || strings.Contains(fragment, "/usr/local/") {
		t.Errorf("the packaged slurm.conf.fragment must name %s and %s, and nothing in /usr/local:\n%s", pkgProlog, pkgEpilog, fragment)
	}
	if got, want := readFile(t, filepath.Join(stage, pkgConfig)), readFile(t, "../../contrib/config.toml.example"); got != want {
		t.Errorf("the packaged %s is not contrib/config.toml.example", pkgConfig)
	}
	// What sudo starts has no dynamic loader (ud-launch); the real one
	// needs the C library.
	if interp, err := elfInterpreter(filepath.Join(stage, pkgLauncher)); err != nil || interp != "" {
		t.Errorf("%s: interpreter %q, %v; want the static ud-launch", pkgLauncher, interp, err)
	}
	if interp, err := elfInterpreter(filepath.Join(stage, "/usr/libexec/userdocker/userdocker")); err != nil || interp == "" {
		t.Errorf("the real userdocker: interpreter %q, %v; want the C library's loader", interp, err)
	}
}

// testInstalledPackage installs the .deb with dpkg -i and checks the files
// on disk and what dpkg knows. Then, with a temporary sudoers rule for
// /usr/bin/userdocker (the packaged snippet's) and slurm.conf pointing at
// /usr/sbin/ud-prolog and ud-epilog for the test: a job of alice's runs a
// container in the foreground and one detached, both with the job's GPU,
// cpuset and memory, under the config the package installed, unchanged;
// bob is refused outside a job by that config; the kernel saw slurmd start
// the packaged prolog and epilog, not /usr/local's; the epilog removes the
// detached container. Last, the conffile: an admin's change survives
// reinstalling and dpkg -r, dpkg -P removes it and nothing of the package
// is left.
func testInstalledPackage(t *testing.T, deb, version string) {
	if err := cleanPackageTest(); err != nil {
		t.Fatal(err)
	}
	if st := dpkgStatus(); st != "" {
		missing(t, "the userdocker package is installed on this machine ("+st+"): the package test would remove it")
	}
	if _, err := os.Lstat(pkgConfDir); err == nil {
		missing(t, pkgConfDir+" exists and is no package's: the package test would install its config there")
	}
	before := fingerprint(t)
	if err := os.WriteFile(pkgMarker, []byte(deb+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(savedSlurmConf); err == nil {
			t.Errorf("slurm.conf may still name the packaged hooks: the package stays installed (the next Slurm test retries)")
			return
		}
		if out, err := dpkg("--purge", "userdocker"); err != nil {
			t.Errorf("dpkg --purge userdocker: %v\n%s", err, out)
		} else {
			os.Remove(pkgMarker)
		}
		if after := fingerprint(t); !maps.Equal(before, after) {
			t.Errorf("the package test changed the machine's own install:\nbefore %v\nafter  %v", before, after)
		}
	})
	start := time.Now()
	if out, err := dpkg("-i", deb); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Logf("dpkg -i: %v", time.Since(start).Round(100*time.Millisecond))

	if st := dpkgStatus(); st != "install ok installed" {
		t.Fatalf("dpkg status after dpkg -i: %q", st)
	}
	if got := dpkgQuery(t, "${Version}"); got != version {
		t.Errorf("installed version %q, want %q", got, version)
	}
	listed := strings.Split(output(t, "dpkg", "-L", "userdocker"), "\n")
	for name, want := range wantPackage {
		if !slices.Contains(listed, name) {
			t.Errorf("dpkg -L userdocker does not list %s", name)
		}
		if got, err := installedFile(name); err != nil || got != want {
			t.Errorf("installed %s: %+v, %v; want %+v", name, got, err, want)
		}
	}
	shipped := readFile(t, pkgConfig)
	if got, want := dpkgQuery(t, "${Conffiles}"), fmt.Sprintf("%s %x", pkgConfig, md5.Sum([]byte(shipped))); got != want {
		t.Errorf("dpkg's conffiles %q, want %q", got, want)
	}
	root := func(args ...string) result {
		cmd := exec.Command(pkgLauncher, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
		return collect(t, cmd)
	}
	// ud-launch starts the real userdocker at the path compiled in, which
	// knows the package's version.
	if r := root("--version"); r.code != 0 || r.stdout != "userdocker version "+version+"\n" {
		t.Errorf("%s --version: exit %d, %q %q; want the package's version %s", pkgLauncher, r.code, r.stdout, r.stderr, version)
	}
	if r := root("config", "check"); r.code != 0 || !strings.HasPrefix(r.stdout, "configuration OK: "+pkgConfig+" ") {
		t.Errorf("config check of the installed config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	allowPackagedUserdocker(t)
	execs, err := watchFiles(unix.FAN_OPEN_EXEC, pkgProlog, pkgEpilog, prologPath, epilogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer execs.close()
	if err := setSlurmHooks(pkgProlog, pkgEpilog); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restoreSlurmConf(); err != nil {
			t.Error(err)
		}
	})
	runJobWithPackage(t)
	if err := restoreSlurmConf(); err != nil {
		t.Fatal(err)
	}
	evs, err := execs.events()
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	for _, e := range evs {
		ran[e.Path]++
	}
	if ran[pkgProlog] == 0 || ran[pkgEpilog] == 0 || ran[prologPath]+ran[epilogPath] != 0 {
		t.Errorf("programs the kernel started during the job: %v; want %s and %s, and neither of %s",
			ran, pkgProlog, pkgEpilog, filepath.Dir(prologPath))
	}

	before0 := containersOf(t, bob)
	deny := `userdocker: containers run only inside a Slurm job on this system (slurm.outside_job = "deny"): srun [--gres=gpu:N] userdocker run ...` + "\n"
	if r := sudoAs(t, bob, nil, pkgLauncher, "run", "--rm", cudaImage, "true"); r.code != 125 || r.stderr != deny {
		t.Errorf("bob outside a job, under the installed config: exit %d, stderr %q; want 125, %q", r.code, r.stderr, deny)
	}
	if after := containersOf(t, bob); !slices.Equal(before0, after) {
		t.Errorf("bob's containers %v, were %v: a refused run created one", after, before0)
	}

	edited := shipped + "\n# A change of the site's, which the package manager keeps.\n"
	if err := os.WriteFile(pkgConfig, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := dpkg("-i", deb); err != nil {
		t.Fatalf("dpkg -i again: %v\n%s", err, out)
	}
	if got := readFile(t, pkgConfig); got != edited {
		t.Errorf("installing the package again replaced the admin's %s", pkgConfig)
	}
	if out, err := dpkg("--remove", "userdocker"); err != nil {
		t.Fatalf("dpkg --remove: %v\n%s", err, out)
	}
	if st := dpkgStatus(); st != "deinstall ok config-files" {
		t.Errorf("dpkg status after dpkg --remove: %q", st)
	}
	if got, err := os.ReadFile(pkgConfig); err != nil || string(got) != edited {
		t.Errorf("dpkg --remove must keep the admin's %s: %v", pkgConfig, err)
	}
	for name, f := range wantPackage {
		if _, err := os.Lstat(name); f.Mode&fs.ModeDir == 0 && name != pkgConfig && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after dpkg --remove (%v)", name, err)
		}
	}
	if out, err := dpkg("--purge", "userdocker"); err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	os.Remove(pkgMarker)
	if st := dpkgStatus(); st != "" {
		t.Errorf("dpkg status after dpkg --purge: %q", st)
	}
	for name := range wantPackage {
		if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after dpkg --purge (%v)", name, err)
		}
	}
}

// runJobWithPackage runs containers in a job of alice's through the
// installed userdocker, and ends the job.
func runJobWithPackage(t *testing.T) {
	j := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=200")
	gpus := joinIndices(jobGPUs(t, j))
	r := inJobBinary(t, j, pkgLauncher, nil, "run", "--rm", cudaImage, "sh", "-c", "id -u; echo $NVIDIA_VISIBLE_DEVICES")
	if want := uidOf(t, alice) + "\n" + gpus + "\n"; r.code != 0 || r.stdout != want {
		t.Errorf("foreground run in the job: exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
	r = inJobBinary(t, j, pkgLauncher, nil, "run", "-d", cudaImage, "sh", "-c", quickStop)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d in job %s: exit %d, stdout %q, stderr %q", j.ID, r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	checkJobContainer(t, j, id, gpus)
	// The link for scripts written for the Python userdocker, allowed by
	// the same sudoers alias.
	if r := inJobBinary(t, j, pkgNvidia, nil, "ps", "-q"); r.code != 0 || !strings.Contains(r.stdout, id[:12]) {
		t.Errorf("nvidia-userdocker ps -q in the job: exit %d, %q %q; want container %s", r.code, r.stdout, r.stderr, id[:12])
	}
	record := alloc.RecordPath(alloc.DefaultStateDir, j.ID)
	if _, err := os.Stat(record); err != nil {
		t.Errorf("the packaged prolog's record of the job: %v", err)
	}
	cancelJob(t, j)
	waitFor(t, "the packaged epilog removes the job's container", func() bool {
		return exec.Command("docker", "inspect", id).Run() != nil
	})
	if _, err := os.Stat(record); err == nil {
		t.Errorf("record %s is still there after the job ended", record)
	}
}

// allowPackagedUserdocker installs the package's own sudoers snippet for
// the test, with its alias renamed (the machine's drop-in, the same
// snippet for /usr/local, defines USERDOCKER already). It is checked with
// visudo before it goes in: a broken drop-in would break sudo for all.
func allowPackagedUserdocker(t *testing.T) {
	rule := strings.ReplaceAll(readFile(t, pkgSnippets+"/sudoers.userdocker"), "USERDOCKER", "USERDOCKER_PACKAGE_TEST")
	tmp := pkgSudoers + ".new" // sudo skips names with a dot
	if err := os.WriteFile(tmp, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("visudo", "-c", "-f", tmp).CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("visudo -c of the packaged sudoers snippet: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, pkgSudoers); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(pkgSudoers) })
}

// cleanPackageTest undoes what a killed package test left behind:
// slurm.conf naming the packaged hooks, the sudoers rule, the package. The
// package stays while slurm.conf may still name its hooks: without them
// every job would drain the node.
func cleanPackageTest() error {
	os.Remove(pkgSudoers)
	if err := restoreSlurmConf(); err != nil {
		return err
	}
	if _, err := os.Stat(pkgMarker); err != nil {
		return nil
	}
	if out, err := dpkg("--purge", "userdocker"); err != nil {
		return fmt.Errorf("dpkg --purge userdocker: %w\n%s", err, out)
	}
	return os.Remove(pkgMarker)
}

// setSlurmHooks has slurm.conf's Prolog= and Epilog= name prolog and
// epilog instead of this tree's hooks in /usr/local/sbin, keeps the file as
// it was in savedSlurmConf, and returns once the host's slurmd has read
// the new one. restoreSlurmConf undoes it.
func setSlurmHooks(prolog, epilog string) error {
	fi, err := os.Stat(slurmConf)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(slurmConf)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(old), "\n")
	for _, r := range []struct{ from, to string }{{"Prolog=" + prologPath, "Prolog=" + prolog}, {"Epilog=" + epilogPath, "Epilog=" + epilog}} {
		i := slices.Index(lines, r.from+"\n")
		if i < 0 || slices.Contains(lines[i+1:], r.from+"\n") {
			return fmt.Errorf("%s does not have the line %q once: run scripts/testenv.sh", slurmConf, r.from)
		}
		lines[i] = r.to + "\n"
	}
	if _, err := os.Stat(savedSlurmConf); err == nil {
		return fmt.Errorf("%s exists: slurm.conf is not testenv.sh's", savedSlurmConf)
	}
	if err := writeWithMtime(savedSlurmConf, old, fi.ModTime()); err != nil {
		return err
	}
	return rewriteSlurmConf([]byte(strings.Join(lines, "")), time.Now())
}

// restoreSlurmConf puts back the slurm.conf setSlurmHooks saved, with its
// mtime, so that scripts/testenv.sh sees nothing changed and restarts
// nothing, and returns once the host's slurmd has read it.
func restoreSlurmConf() error {
	fi, err := os.Stat(savedSlurmConf)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	saved, err := os.ReadFile(savedSlurmConf)
	if err != nil {
		return err
	}
	if err := rewriteSlurmConf(saved, fi.ModTime()); err != nil {
		return err
	}
	return os.Remove(savedSlurmConf)
}

// rewriteSlurmConf replaces slurm.conf with data (through a rename: no
// daemon reads half a file), has slurmctld read it again and tell the
// slurmd daemons, and waits until the host's slurmd has opened it: a job
// that starts later runs the prolog the new file names.
func rewriteSlurmConf(data []byte, mtime time.Time) error {
	if err := writeWithMtime(slurmConf, data, mtime); err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	pidFile := "/run/slurmd-" + strings.SplitN(host, ".", 2)[0] + ".pid" // SlurmdPidFile of testenv.sh
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("slurmd's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("slurmd's pid in %s: %w", pidFile, err)
	}
	w, err := watchFiles(unix.FAN_OPEN, slurmConf)
	if err != nil {
		return err
	}
	defer w.close()
	if out, err := exec.Command("scontrol", "reconfigure").CombinedOutput(); err != nil {
		return fmt.Errorf("scontrol reconfigure: %w\n%s", err, out)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		evs, err := w.events()
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.PID == pid {
				return nil
			}
		}
	}
	return fmt.Errorf("slurmd (pid %d) has not read %s 60 s after scontrol reconfigure", pid, slurmConf)
}

// writeWithMtime replaces path with data, mode 0644, modified at mtime,
// through a rename.
func writeWithMtime(path string, data []byte, mtime time.Time) error {
	tmp := path + ".udtest"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fingerprint is the state of what the other suites use and the package
// test must leave alone: the /usr/local install, the sudoers drop-ins,
// slurm.conf (bytes, mode and mtime of each).
func fingerprint(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, p := range []string{"/usr/local/bin/userdocker", "/usr/local/libexec/userdocker/userdocker", prologPath, epilogPath,
		"/etc/sudoers.d/userdocker", sudoersFile, slurmConf} {
		fi, err := os.Lstat(p)
		if err != nil {
			got[p] = err.Error()
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		got[p] = fmt.Sprintf("%s %v %s", hex.EncodeToString(sum[:8]), fi.Mode(), fi.ModTime().Format(time.RFC3339Nano))
	}
	return got
}

// comparePackageFiles compares what a package holds with wantPackage.
func comparePackageFiles(t *testing.T, what string, got map[string]pkgFile) {
	t.Helper()
	for name, want := range wantPackage {
		if g, ok := got[name]; !ok {
			t.Errorf("%s lacks %s", what, name)
		} else if g != want {
			t.Errorf("%s has %s as %+v, want %+v", what, name, g, want)
		}
	}
	for name := range got {
		if _, ok := wantPackage[name]; !ok {
			t.Errorf("%s has %s, which it should not", what, name)
		}
	}
}

func isParentOfWanted(dir string) bool {
	for name := range wantPackage {
		if strings.HasPrefix(name, dir+"/") {
			return true
		}
	}
	return false
}

// debFiles lists the files of a .deb, from its data archive.
func debFiles(t *testing.T, deb string) map[string]pkgFile {
	t.Helper()
	data := []byte(output(t, "dpkg-deb", "--fsys-tarfile", deb))
	files := map[string]pkgFile{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("data of %s: %v", deb, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "."), "/")
		if name == "" {
			continue
		}
		files[name] = pkgFile{Mode: h.FileInfo().Mode(), Owner: h.Uname + ":" + h.Gname, Link: h.Linkname}
	}
	return files
}

func debField(t *testing.T, deb, field string) string {
	t.Helper()
	return strings.TrimSpace(output(t, "dpkg-deb", "--field", deb, field))
}

// debControlFile is a file of the .deb's control archive, "" if it has none.
func debControlFile(t *testing.T, deb, name string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--info", deb, name).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func rpmQuery(t *testing.T, rpm, format string) string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--qf", format, rpm).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qp --qf %q: %v\n%s", format, err, out)
	}
	return string(out)
}

// statMode turns an st_mode, as rpm records it, into an fs.FileMode; a
// symlink's permissions are 0777 whatever rpm says (Linux ignores them).
func statMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFLNK:
		mode = fs.ModeSymlink | 0o777
	}
	return mode
}

// installedFile is a file as installed on this machine.
func installedFile(name string) (pkgFile, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return pkgFile{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	f := pkgFile{Mode: fi.Mode(), Owner: fmt.Sprintf("%d:%d", st.Uid, st.Gid)}
	if f.Owner == "0:0" {
		f.Owner = "root:root"
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		f.Link, err = os.Readlink(name)
	}
	return f, err
}

// checkLibcNeeds checks that no binary of the package needs a newer C
// library than the package depends on (min): the GLIBC_x.y versions its
// symbols need.
func checkLibcNeeds(t *testing.T, stage, min string) {
	t.Helper()
	for name, f := range wantPackage {
		if f != pkgExec {
			continue
		}
		e, err := elf.Open(filepath.Join(stage, name))
		if err != nil {
			t.Fatal(err)
		}
		needs, err := e.DynamicVersionNeeds()
		e.Close()
		if err != nil && name != pkgLauncher {
			t.Errorf("%s: symbol versions: %v", name, err)
		}
		for _, n := range needs {
			for _, d := range n.Needs {
				if v, ok := strings.CutPrefix(d.Dep, "GLIBC_"); ok && n.Name == "libc.so.6" && versionLess(min, v) {
					t.Errorf("%s needs %s of %s, the package depends on %s", name, d.Dep, n.Name, min)
				}
			}
		}
	}
}

// versionLess compares dotted numbers, such as 2.34 and 2.2.5; a part that
// is not a number (GLIBC_PRIVATE) is never newer.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		var err error
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			if y, err = strconv.Atoi(bs[i]); err != nil {
				return false
			}
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// dpkgStatus is dpkg's status of the userdocker package, such as "install
// ok installed"; "" when dpkg has no record of it.
func dpkgStatus() string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "userdocker").Output()
	s := strings.TrimSpace(string(out))
	if err != nil || strings.HasSuffix(s, " not-installed") {
		return ""
	}
	return s
}

func dpkgQuery(t *testing.T, format string) string {
	t.Helper()
	return strings.TrimSpace(output(t, "dpkg-query", "-W", "-f="+format, "userdocker"))
}

// dpkg runs dpkg as an admin would, without questions.
func dpkg(args ...string) ([]byte, error) {
	cmd := exec.Command("dpkg", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd.CombinedOutput()
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	return strings.TrimSpace(output(t, "go", "env", key))
}

// output runs a command and returns its standard output.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
