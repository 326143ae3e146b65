// Package layering checks the shape of the import graph: which package
// may import which, and what the pure core may not touch. Run it with
// `go test ./test/layering` (make unit does); it reads the graph with
// `go list -json`, and the pure packages' sources with go/parser.
package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/userdocker/userdocker"

// layers are the packages of this module from the bottom up. A package
// may import packages of its own layer and of the layers below, never of
// one above: nothing below cli imports cli, nothing in the core imports
// the edge. A new package must be placed here.
var layers = []struct {
	name string
	pkgs []string
}{
	// The names and values every layer shares.
	{"vocabulary", []string{"internal/label", "internal/refusal", "internal/rangelist", "internal/request", "internal/launch", "internal/shortlived"}},
	// Pure: parsing the command line and the configuration, and what is
	// judged without the world (ownership, image archives as streams).
	{"parse", []string{"internal/runflags", "internal/policy", "internal/pyliteral", "internal/oldconfig", "internal/owned", "internal/imagetar"}},
	// Pure: every decision about a request.
	{"plan", []string{"internal/plan"}},
	// The edge: the system, the daemon, the files, the GPUs.
	{"edge", []string{"internal/caller", "internal/alloc", "internal/asuser", "internal/audit", "internal/cgparent", "internal/engine", "internal/gpu",
		"internal/gpuuse", "internal/gpureserve", "internal/hostpath", "internal/listing", "internal/ownmount", "internal/pullonce", "internal/spool", "internal/sudoers", "internal/tty"}},
	// What puts the edge to work for one purpose: a request's facts; the
	// Slurm hooks.
	{"gathering and hooks", []string{"internal/gather", "internal/slurmhook"}},
	// The command line: results to output and exit codes.
	{"command line", []string{"internal/cli"}},
	// The programs.
	{"programs", []string{"cmd/userdocker", "cmd/ud-prolog", "cmd/ud-epilog", "cmd/ud-launch"}},
}

// helpers are the packages for tests (internal/docscheck holds only tests
// of the documentation): no product package imports them.
var helpers = []string{"internal/docscheck", "internal/golden", "test/fakedocker", "test/harness", "test/testacl", "test/testlock"}

// pure are the layers whose packages do no I/O and read no clock: they
// take facts as values (DESIGN.md §2).
var pure = []string{"vocabulary", "parse", "plan"}

// forbidden are the packages a pure package's files may not import: the
// file system and processes (os, os/exec, os/user, path/filepath, which
// walks and globs, syscall, x/sys/unix), the network and the Docker
// client, the system log, GPUs, and randomness. io/fs is allowed: it
// only names file types and modes; without os nothing opens a file.
var forbidden = []string{
	"os", "os/exec", "os/signal", "os/user", "path/filepath", "syscall", "golang.org/x/sys/unix", "io/ioutil",
	"net", "net/http", "github.com/docker/docker/client", "log/syslog", "github.com/NVIDIA/go-nvml/pkg/nvml",
	"crypto/rand", "math/rand", "math/rand/v2",
}

// forbiddenDeps are what a pure package may not reach even through
// others: the Docker client, processes, the network's client, the system
// log, GPUs, randomness. (os and syscall come in with fmt, net with
// Docker's API types, which name IP addresses, os/user with archive/tar,
// which names a file's owner: they are checked file by file above.)
var forbiddenDeps = []string{
	"github.com/docker/docker/client", "net/http", "os/exec", "os/signal", "log/syslog",
	"golang.org/x/sys/unix", "github.com/NVIDIA/go-nvml/pkg/nvml", "crypto/rand", "math/rand", "math/rand/v2",
}

// clock are the functions of package time that read or wait for the
// clock; a pure package may use time's types and parse durations.
var clock = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"}

// allowed are the files of pure packages that may do what the others may
// not, and why.
var allowed = map[string][]string{
	// DESIGN.md places configuration loading in policy: these read the
	// configuration files and check who owns them.
	"internal/policy/files.go": {"os", "path/filepath", "syscall"},
}

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	Deps       []string
}

func TestLayers(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l.pkgs {
			layerOf[p] = i
		}
	}
	for _, p := range list(t) {
		name := strings.TrimPrefix(p.ImportPath, module+"/")
		if slices.Contains(helpers, name) || strings.HasPrefix(name, "test/") {
			continue
		}
		me, ok := layerOf[name]
		if !ok {
			t.Errorf("%s is in no layer: place it in the layers of %s", name, "test/layering")
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if slices.Contains(helpers, dep) || strings.HasPrefix(dep, "test/") {
				t.Errorf("%s imports the test helper %s", name, dep)
				continue
			}
			if them, ok := layerOf[dep]; ok && them > me {
				t.Errorf("%s (%s) imports %s (%s): an arrow from a lower layer to a higher one", name, layers[me].name, dep, layers[them].name)
			}
		}
	}
}

func TestPureCore(t *testing.T) {
	purePkgs := map[string]bool{}
	for _, l := range layers {
		if slices.Contains(pure, l.name) {
			for _, p := range l.pkgs {
				purePkgs[p] = true
			}
		}
	}
	checked := 0
	for _, p := range list(t) {
		name := strings.TrimPrefix(p.ImportPath, module+"/")
		if !purePkgs[name] {
			continue
		}
		checked++
		for _, d := range p.Deps {
			if slices.Contains(forbiddenDeps, d) {
				t.Errorf("%s depends on %s, through the packages it imports", name, d)
			}
		}
		for _, f := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
			checkFile(t, name+"/"+f, filepath.Join(p.Dir, f))
		}
	}
	if checked != len(purePkgs) {
		t.Errorf("go list showed %d of the %d pure packages", checked, len(purePkgs))
	}
}

// checkFile fails the test for each forbidden import of a pure package's
// file, and each use of the clock.
func checkFile(t *testing.T, name, path string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	timeName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if slices.Contains(forbidden, p) && !slices.Contains(allowed[name], p) {
			t.Errorf("%s imports %s: the pure core does no I/O", name, p)
		}
		if p == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	if timeName == "" {
		return
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == timeName && slices.Contains(clock, sel.Sel.Name) {
			t.Errorf("%s calls time.%s: the pure core reads no clock; take the time as a fact", name, sel.Sel.Name)
		}
		return true
	})
}

// list returns what `go list -json` says of every package of the module.
func list(t *testing.T) []pkg {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go tool is not on PATH: %v", err)
		}
		t.Skipf("the go tool is not on PATH (%v): the import graph cannot be read", err)
	}
	cmd := exec.Command(goTool, "list", "-json", module+"/...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list showed %d packages: is this the module?", len(pkgs))
	}
	return pkgs
}

// moduleRoot is the directory of go.mod above the test's.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	t.Fatal("no go.mod above the test")
	return ""
}
