package plan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRequestChecks: the named checks of the other subcommands (pull,
// load, ps, which subcommands a caller may use), each with the facts that
// pass and one fact broken, and its refusal's rule and message.
func TestRequestChecks(t *testing.T) {
	never := basePolicy()
	never.Run.Pull = "never"
	pulled := func(ref string, allTags bool) error {
		got, err := JudgePull(basePolicy(), ref, allTags)
		if err == nil && got != "docker.io/ud-test/busybox:latest" {
			t.Errorf("JudgePull(%q) = %q, want the normalized reference", ref, got)
		}
		return err
	}
	tests := []struct {
		name string
		err  error
		rule string
		msg  string
	}{
		{name: "pull an allowed image", err: pulled("ud-test/busybox", false)},
		{name: "pull every tag", err: pulled("ud-test/busybox", true), rule: "pull", msg: "-a/--all-tags is not allowed on this system: pull one image by its name"},
		{name: "pull where run.pull is never", err: func() error { _, err := JudgePull(never, "ud-test/busybox", false); return err }(), rule: "pull",
			msg: `pull is not allowed on this system (run.pull = "never"): only images already here can be run`},
		{name: "pull an image the site does not allow", err: pulled("alpine", false), rule: "image",
			msg: "image docker.io/library/alpine:latest is not allowed on this system (see run.images): not pulled"},
		{name: "pull what is no reference", err: pulled("--privileged", false), rule: "image", msg: `image "--privileged" is not a valid image reference`},

		{name: "the user's first load", err: CheckOneLoad(false, time.Hour)},
		{name: "a second load still waiting after an hour", err: CheckOneLoad(true, time.Hour), rule: "load.one_at_a_time",
			msg: "load: another load of yours is still running after 1h0m0s: userdocker loads one archive per user at a time; try again when it has finished"},
		{name: "exec with detach keys on dockerd", err: CheckDetachKeys(docker2010, "ctrl-x,x")},
		{name: "exec without detach keys on Podman", err: CheckDetachKeys(podman431, "")},
		{name: "exec with detach keys on Podman", err: CheckDetachKeys(podman431, "ctrl-x,x"), rule: "daemon",
			msg: "exec --detach-keys is not supported with Podman 4.3.1: it does not act on detach keys; use exec -d, or leave the process"},
		{name: "a load into dockerd", err: CheckLoadDaemon(docker2010)},
		{name: "a load into Podman", err: CheckLoadDaemon(podman431), rule: "load.daemon",
			msg: "load is not supported with Podman 4.3.1: it names loaded images localhost/…, which userdocker does not run; push the image to a registry the site allows, or ask your administrator"},
		{name: "a sound archive", err: CheckArchive(nil)},
		{name: "an archive with a link out", err: CheckArchive(&ArchiveProblem{Msg: `entry "x" links outside the archive`}), rule: "load",
			msg: `load: entry "x" links outside the archive`},
		{name: "an archive too large", err: CheckArchive(&ArchiveProblem{Msg: "the archive unpacks to more than 16g", TooLarge: true}), rule: "load",
			msg: "load: the archive unpacks to more than 16g (load.max_size)"},

		{name: "ps of one's own", err: CheckAllUsers(false, false)},
		{name: "ps of all users as root", err: CheckAllUsers(true, true)},
		{name: "ps of all users", err: CheckAllUsers(true, false), rule: "ps", msg: "--all-users is for root only: ps shows your own containers"},

		{name: "a listed subcommand", err: CheckSubcommand(basePolicy(), "run", false, false)},
		{name: "a subcommand not listed", err: CheckSubcommand(basePolicy(), "rm", false, false), rule: "subcommands", msg: `"rm" is not allowed on this system`},
		{name: "an admin command as root", err: CheckSubcommand(basePolicy(), "config", true, true)},
		{name: "an admin command", err: CheckSubcommand(basePolicy(), "config", true, false), rule: "subcommands", msg: `"config" is not allowed on this system`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, tt.err, tt.rule, tt.msg)
		})
	}
}

// TestEveryNamedCheckHasACase: every exported check of this package
// (Check…, Judge…) is called by a test here, and every check of the
// checks table has a case in TestChecks (which says so itself).
func TestEveryNamedCheckHasACase(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var tests strings.Builder
	var named []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tests.Write(data)
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() {
				continue
			}
			if name := fn.Name.Name; strings.HasPrefix(name, "Check") || strings.HasPrefix(name, "Judge") {
				named = append(named, name)
			}
		}
	}
	if len(named) < 10 {
		t.Fatalf("found only the checks %v: is this test reading the package?", named)
	}
	for _, name := range named {
		if !strings.Contains(tests.String(), name+"(") {
			t.Errorf("check %s is called by no test of this package", name)
		}
	}
}
