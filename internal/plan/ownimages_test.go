package plan

import (
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
)

func TestOwnNamespace(t *testing.T) {
	tests := []struct {
		user, want string
	}{
		{"alice", "local/alice/"},
		{"udtest-alice", "local/udtest-alice/"},
		{"a.b", "local/a.b/"},
		{"a_b", "local/a_b/"},
		{"a__b", "local/a__b/"},
		{"a--b", "local/a--b/"},
		{"2001", "local/2001/"},
		// Not mapped to something valid: another user's name could map there too.
		{"Alice", ""},
		{"A_b", ""},
		{"_apt", ""},
		{"a..b", ""},
		{"a___b", ""},
		{"a-", ""},
		{"machine$", ""},
		{"jdoe@example.org", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := OwnNamespace(tt.user)
			if tt.want == "" {
				want := `your user name "` + tt.user + `" cannot be part of an image name`
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("OwnNamespace(%q) = %q, %v; want the refusal %q…", tt.user, got, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("OwnNamespace(%q) = %q, %v; want %q", tt.user, got, err, tt.want)
			}
		})
	}
}

func TestIsLocal(t *testing.T) {
	for ref, want := range map[string]bool{
		"local/alice/x":                    true,
		"docker.io/local/alice/x:1":        true,
		"index.docker.io/local/alice/x":    true,
		"local/x":                          true,
		"local":                            false, // docker.io/library/local
		"localhost/alice/x":                false,
		"registry.example/local/alice/x":   false,
		"docker.io/library/local:1":        false,
		"ud-test/busybox":                  false,
		"not a reference":                  false,
		"registry-1.docker.io/local/bob/x": false, // a registry of its own name to the daemon
	} {
		if got := IsLocal(ref); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", ref, got, want)
		}
	}
}

// ownPolicy is basePolicy with images of one's own on.
func ownPolicy() *policy.Policy {
	p := basePolicy()
	p.Run.OwnImages = true
	return p
}

// TestOwnImageChecks: the named checks of tag, rmi, inspect and pull
// about images of one's own, each with what passes and what is refused.
func TestOwnImageChecks(t *testing.T) {
	first := func(a, _ string, err error) error { return err }
	tests := []struct {
		name string
		err  error
		rule string
		msg  string
	}{
		{name: "tag an allowed image as one's own", err: first(JudgeTag(ownPolicy(), "alice", "ud-test/busybox", "local/alice/bb:1"))},
		{name: "tag one's own as one's own", err: first(JudgeTag(ownPolicy(), "alice", "local/alice/bb:1", "local/alice/bb:2"))},
		{name: "tag where own images are off", err: first(JudgeTag(basePolicy(), "alice", "ud-test/busybox", "local/alice/bb:1")), rule: "tag",
			msg: "tag: docker.io/local/alice/bb:1 is refused: it is in your own image namespace local/alice/, which this system does not enable (run.own_images)"},
		{name: "tag over an allowed tag", err: first(JudgeTag(ownPolicy(), "alice", "local/alice/bb:1", "ud-test/busybox")), rule: "tag",
			msg: "tag: docker.io/ud-test/busybox:latest is refused: you may tag only into your own image namespace local/alice/ (as local/alice/NAME:TAG)"},
		{name: "tag over a new tag elsewhere", err: first(JudgeTag(ownPolicy(), "alice", "ud-test/busybox", "bob/tool:1")), rule: "tag",
			msg: "tag: docker.io/bob/tool:1 is refused: you may tag only into your own image namespace local/alice/ (as local/alice/NAME:TAG)"},
		{name: "tag into another's namespace", err: first(JudgeTag(ownPolicy(), "bob", "ud-test/busybox", "local/alice/bb:1")), rule: "tag",
			msg: "tag: docker.io/local/alice/bb:1 is refused: it is in the image namespace of user alice (local/alice/): only they may tag into it"},
		{name: "tag from another's namespace", err: first(JudgeTag(ownPolicy(), "bob", "local/alice/bb:1", "local/bob/bb:1")), rule: "tag",
			msg: "tag: image docker.io/local/alice/bb:1 cannot be tagged: it is in the image namespace of user alice (local/alice/): only they may run it; only images you may run can be tagged"},
		{name: "tag from an image one may not run", err: first(JudgeTag(ownPolicy(), "alice", "ud-denied/x", "local/alice/d:1")), rule: "tag",
			msg: "tag: image docker.io/ud-denied/x:latest cannot be tagged: it is not allowed on this system (see run.images); only images you may run can be tagged"},
		{name: "tag from an image ID", err: first(JudgeTag(ownPolicy(), "alice", strings.Repeat("ab", 32), "local/alice/d:1")), rule: "image",
			msg: `image "` + strings.Repeat("ab", 32) + `" is not a valid image reference: invalid repository name (` + strings.Repeat("ab", 32) + `), cannot specify 64-byte hexadecimal strings`},
		{name: "tag as a digest", err: first(JudgeTag(ownPolicy(), "alice", "ud-test/busybox", "local/alice/d@sha256:"+strings.Repeat("a", 64))), rule: "tag",
			msg: "tag: docker.io/local/alice/d@sha256:" + strings.Repeat("a", 64) + " is refused: a tag cannot hold a digest"},

		{name: "rmi one's own tag", err: func() error { _, err := JudgeRmi("alice", "local/alice/bb:1"); return err }()},
		{name: "rmi one's own tag, full spelling", err: func() error { _, err := JudgeRmi("alice", "docker.io/local/alice/bb"); return err }()},
		{name: "rmi another's tag", err: func() error { _, err := JudgeRmi("bob", "local/alice/bb:1"); return err }(), rule: "rmi",
			msg: "rmi: docker.io/local/alice/bb:1 is refused: it is in the image namespace of user alice (local/alice/): only they may remove it"},
		{name: "rmi an allowed image", err: func() error { _, err := JudgeRmi("alice", "ud-test/busybox"); return err }(), rule: "rmi",
			msg: "rmi: docker.io/ud-test/busybox:latest is not in your own image namespace local/alice/: rmi removes only your own tags"},
		{name: "rmi an image ID prefix", err: func() error { _, err := JudgeRmi("alice", "0123abcd"); return err }(), rule: "rmi",
			msg: "rmi: docker.io/library/0123abcd:latest is not in your own image namespace local/alice/: rmi removes only your own tags"},
		{name: "rmi by digest", err: func() error {
			_, err := JudgeRmi("alice", "local/alice/bb@sha256:"+strings.Repeat("a", 64))
			return err
		}(), rule: "rmi",
			msg: "rmi: docker.io/local/alice/bb@sha256:" + strings.Repeat("a", 64) + ": name a tag of your own image namespace (local/alice/NAME:TAG), not a digest"},
		{name: "rmi without force", err: CheckRmiForce(false)},
		{name: "rmi --force", err: CheckRmiForce(true), rule: "rmi",
			msg: "rmi: -f/--force is not allowed on this system: rmi removes your own tags only; remove your containers that use the image first (userdocker rm)"},

		{name: "inspect an allowed image", err: func() error { _, err := JudgeInspectImage(basePolicy(), "alice", "ud-test/busybox"); return err }()},
		{name: "inspect one's own image", err: func() error { _, err := JudgeInspectImage(ownPolicy(), "alice", "local/alice/bb"); return err }()},
		{name: "inspect another's image", err: func() error { _, err := JudgeInspectImage(ownPolicy(), "bob", "local/alice/bb"); return err }(), rule: "inspect",
			msg: "inspect: image docker.io/local/alice/bb:latest: it is in the image namespace of user alice (local/alice/): only they may run it; inspect shows only images you may run"},
		{name: "inspect an image one may not run", err: func() error { _, err := JudgeInspectImage(basePolicy(), "alice", "ud-test-denied/x"); return err }(), rule: "inspect",
			msg: "inspect: image docker.io/ud-test-denied/x:latest: it is not allowed on this system (see run.images); inspect shows only images you may run"},

		{name: "run one's own image here", err: CheckOwnImageHere("docker.io/local/alice/bb:1", "vm", true)},
		{name: "run one's own image not here", err: CheckOwnImageHere("docker.io/local/alice/bb:1", "vm2", false), rule: "own-images",
			msg: "image docker.io/local/alice/bb:1 is not on node vm2: images of your own are never pulled; load or tag it on this node first"},

		{name: "pull one's own image", err: func() error { _, err := JudgePull(ownPolicy(), "local/alice/bb", false); return err }(), rule: "own-images",
			msg: "image docker.io/local/alice/bb:latest is not pulled: names under local/ are users' own images, made on this node by load or tag, never pulled"},
		{name: "pull under local/ where run.images allows it", err: func() error {
			p := ownPolicy()
			p.Run.Images = policy.Patterns(`.*`)
			_, err := JudgePull(p, "index.docker.io/local/bob/x:1", false)
			return err
		}(), rule: "own-images",
			msg: "image docker.io/local/bob/x:1 is not pulled: names under local/ are users' own images, made on this node by load or tag, never pulled"},

		{name: "tag where own images are on", err: CheckSubcommand(withSubcommands(ownPolicy(), "tag"), "tag", false, false)},
		{name: "tag where own images are off", err: CheckSubcommand(withSubcommands(basePolicy(), "tag"), "tag", false, false), rule: "subcommands",
			msg: `"tag" is not allowed on this system: it tags into your own image namespace (local/USER/), which this system does not enable (run.own_images)`},
		{name: "rmi where own images are off", err: CheckSubcommand(withSubcommands(basePolicy(), "rmi"), "rmi", false, false)},

		{name: "a word that is no docker command", err: CheckNotOffered("frobnicate")},
		{name: "a docker command userdocker does not offer", err: CheckNotOffered("commit"), rule: "subcommands",
			msg: `"commit" is not available through userdocker: 'userdocker -h' lists what you may use`},
		{name: "a docker command with something instead", err: CheckNotOffered("cp"), rule: "subcommands",
			msg: `"cp" is not available through userdocker: mount a directory with -v to share files with a container`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, tt.err, tt.rule, tt.msg)
		})
	}
}

func withSubcommands(p *policy.Policy, names ...string) *policy.Policy {
	p.Subcommands = names
	return p
}

// TestBuildOwnImages: run of an image under local/: one's own where the
// site turned them on, never pulled whatever run.pull says; anyone
// else's, or nobody's, never, whatever run.images says.
func TestBuildOwnImages(t *testing.T) {
	everything := func(p *policy.Policy) { p.Run.Images = policy.Patterns(`.*`) }
	tests := []struct {
		name string
		args []string
		pol  func(*policy.Policy)
		off  bool // run.own_images off
		pull string
		rule string
		want string
	}{
		{name: "one's own", args: []string{"local/alice/bb:1"}, pull: "never"},
		{name: "one's own, full spelling", args: []string{"docker.io/local/alice/bb:1"}, pull: "never"},
		{name: "one's own where run.pull is always", args: []string{"local/alice/bb:1"}, pol: func(p *policy.Policy) { p.Run.Pull = "always" }, pull: "never"},
		{name: "one's own with --pull=missing", args: []string{"--pull=missing", "local/alice/bb:1"}, pull: "never"},
		{name: "one's own with --pull=always", args: []string{"--pull=always", "local/alice/bb:1"}, rule: "pull",
			want: "--pull=always is not allowed for an image of your own: images under local/ are never pulled, only loaded or tagged on this node"},
		{name: "one's own where they are off", args: []string{"local/alice/bb:1"}, off: true, rule: "own-images",
			want: "image docker.io/local/alice/bb:1 is not allowed: it is in your own image namespace local/alice/, which this system does not enable (run.own_images)"},
		{name: "another's", args: []string{"local/bob/bb:1"}, rule: "own-images",
			want: "image docker.io/local/bob/bb:1 is not allowed: it is in the image namespace of user bob (local/bob/): only they may run it"},
		{name: "another's, run.images allowing everything", args: []string{"local/bob/bb:1"}, pol: everything, rule: "own-images",
			want: "image docker.io/local/bob/bb:1 is not allowed: it is in the image namespace of user bob (local/bob/): only they may run it"},
		{name: "nobody's", args: []string{"local/bb:1"}, pol: everything, rule: "own-images",
			want: "image docker.io/local/bb:1 is not allowed: names directly under local/ are nobody's: images of one's own are local/USER/NAME[:TAG]"},
		{name: "other images keep the site's pull", args: []string{"ud-test/busybox"}, pull: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := ownPolicy()
			pol.Run.Args.Allowed = append(pol.Run.Args.Allowed, flags("--pull")...)
			pol.Run.OwnImages = !tt.off
			if tt.pol != nil {
				tt.pol(pol)
			}
			p, err := build(t, tt.args, pol, baseFacts())
			checkRefusal(t, err, tt.rule, tt.want)
			if err == nil && p.Pull != tt.pull {
				t.Fatalf("pull %q, want %q", p.Pull, tt.pull)
			}
		})
	}
}

func TestLocalPatternWarnings(t *testing.T) {
	at := func(ps []policy.Pattern, line int) []policy.Pattern {
		for i := range ps {
			ps[i].At = policy.Origin{File: "/etc/userdocker/config.toml", Line: line}
		}
		return ps
	}
	tests := []struct {
		name string
		sets []policy.ImagePatterns
		want []string
	}{
		{name: "anchored site patterns", sets: []policy.ImagePatterns{{Patterns: at(policy.Patterns(`^docker\.io/library/(debian|ubuntu):`, `^ud-test/`), 3)}}},
		{name: "a pattern for one user's own, in their override", sets: []policy.ImagePatterns{
			{Patterns: at(policy.Patterns(`^local/alice/`), 9), For: `user "alice"`, User: "alice"}}},
		{name: "the whole of local/", sets: []policy.ImagePatterns{{Patterns: at(policy.Patterns(`^local/`), 3)}},
			want: []string{`run.images pattern "^local/" (/etc/userdocker/config.toml:3) matches local/someone/image:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
		{name: "everything", sets: []policy.ImagePatterns{{Patterns: at(policy.Patterns(`.*`), 3)}},
			want: []string{`run.images pattern ".*" (/etc/userdocker/config.toml:3) matches local/someone/image:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
		{name: "a user's own, for a group", sets: []policy.ImagePatterns{
			{Patterns: at(policy.Patterns(`^docker\.io/local/(alice|alex)/tool:`), 12), For: `group "gpu"`}},
			want: []string{`run.images pattern "^docker\\.io/local/(alice|alex)/tool:" (/etc/userdocker/config.toml:12, override group "gpu") matches local/alice/tool:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
		{name: "another user's own, in a user's override", sets: []policy.ImagePatterns{
			{Patterns: at(policy.Patterns(`^local/bob/`), 9), For: `user "alice"`, User: "alice"}},
			want: []string{`run.images pattern "^local/bob/" (/etc/userdocker/config.toml:9, override user "alice") matches local/bob/image:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
		{name: "nobody's names under local/", sets: []policy.ImagePatterns{{Patterns: at(policy.Patterns(`^local/[a-z]+:`), 3)}},
			want: []string{`run.images pattern "^local/[a-z]+:" (/etc/userdocker/config.toml:3) matches local/image:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
		{name: "unanchored, ending in a name", sets: []policy.ImagePatterns{{Patterns: at(policy.Patterns(`busybox`), 3)}},
			want: []string{`run.images pattern "busybox" (/etc/userdocker/config.toml:3) matches local/someone/image:busybox, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LocalPatternWarnings(tt.sets)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
