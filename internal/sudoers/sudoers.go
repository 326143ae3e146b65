// Package sudoers finds the sudo settings that let a caller set
// userdocker's environment: SETENV on a rule for userdocker, a setenv
// Default that reaches it, env_keep of SUDO_* or LD_*. It reads the rules
// as sudo's own cvtsudoers prints them as JSON (aliases, includes and
// line continuations are sudo's business, not a second parser's), for
// `userdocker config check`.
//
// Why they matter: userdocker's caller is sudo's SUDO_UID, believed only
// where the kernel confirms it, and with SETENV `sudo LD_PRELOAD=x.so
// userdocker` runs x.so as root in a dynamically linked program; ud-launch
// keeps it from the loader. Either way such a rule is a mistake worth a
// warning, and on other sudo versions or plugins the checks may not be
// all that stands between a caller and root.
package sudoers

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
)

// Commands are the base names under which sudoers rules name userdocker:
// the program sudo starts (ud-launch, installed as userdocker) and its
// nvidia-userdocker link.
var Commands = []string{"userdocker", "nvidia-userdocker", "ud-launch"}

// policy is the part of cvtsudoers' JSON output that matters here.
type policy struct {
	Defaults       []defaults          `json:"Defaults"`
	CommandAliases map[string][]member `json:"Command_Aliases"`
	UserSpecs      []userSpec          `json:"User_Specs"`
}

type defaults struct {
	Binding []member         `json:"Binding"`
	Options []map[string]any `json:"Options"`
}

type userSpec struct {
	Users     []member   `json:"User_List"`
	CmndSpecs []cmndSpec `json:"Cmnd_Specs"`
}

type cmndSpec struct {
	Options  []map[string]any `json:"Options"`
	Commands []member         `json:"Commands"`
}

// member is one entry of a list: {"command": "/usr/bin/x"},
// {"cmndalias": "X"}, {"username": "alice"}, {"usergroup": "grp"}, …,
// possibly with "negated": true.
type member map[string]any

func (m member) str(key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

func (m member) negated() bool {
	b, _ := m["negated"].(bool)
	return b
}

// String is the member as sudoers writes it.
func (m member) String() string {
	neg := ""
	if m.negated() {
		neg = "!"
	}
	for _, k := range []string{"username", "command", "cmndalias", "useralias", "hostname", "hostalias", "runasalias"} {
		if s, ok := m.str(k); ok {
			return neg + s
		}
	}
	if s, ok := m.str("usergroup"); ok {
		return neg + "%" + s
	}
	if s, ok := m.str("netgroup"); ok {
		return neg + "+" + s
	}
	return neg + "?"
}

// Warnings returns one line per setting in data (the output of
// `cvtsudoers -f json`) that lets a caller set userdocker's variables.
// Rules for ALL commands are left out: they imply SETENV, but whoever
// has one may run anything as root anyway.
func Warnings(data []byte) ([]string, error) {
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read cvtsudoers output: %w", err)
	}
	var out []string
	for _, us := range p.UserSpecs {
		for _, cs := range us.CmndSpecs {
			if !optionTrue(cs.Options, "setenv") {
				continue
			}
			cmds := p.userdockerIn(cs.Commands)
			if len(cmds) == 0 {
				continue
			}
			out = append(out, fmt.Sprintf("sudoers: %s may set variables for %s (SETENV): remove SETENV from that rule",
				join(us.Users), strings.Join(cmds, ", ")))
		}
	}
	for _, d := range p.Defaults {
		scope, applies := p.defaultsScope(d.Binding)
		if !applies {
			continue
		}
		if optionTrue(d.Options, "setenv") {
			out = append(out, fmt.Sprintf("sudoers: Defaults%s setenv lets callers set variables for userdocker: remove it", scope))
		}
		if kept := riskyKept(d.Options); len(kept) > 0 {
			out = append(out, fmt.Sprintf("sudoers: Defaults%s env_keep keeps %s for userdocker: remove %s",
				scope, strings.Join(kept, ", "), map[bool]string{true: "it", false: "them"}[len(kept) == 1]))
		}
	}
	return out, nil
}

// Kept returns the env_keep entries, as written ("SLURM_*"), of every
// Defaults in data (the output of `cvtsudoers -f json`) that adds to or
// sets the list and can apply to userdocker, in their order and once each.
// Entries a Defaults removes are not taken away: which of several lines
// wins for a caller is sudo's to say, and Kept is for a warning only.
func Kept(data []byte) ([]string, error) {
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read cvtsudoers output: %w", err)
	}
	var out []string
	for _, d := range p.Defaults {
		if _, applies := p.defaultsScope(d.Binding); !applies {
			continue
		}
		for _, o := range d.Options {
			if op, _ := o["operation"].(string); op == "list_remove" {
				continue
			}
			names, _ := o["env_keep"].([]any)
			for _, n := range names {
				if s, _ := n.(string); s != "" && !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}

// Keeps reports whether one of the env_keep entries kept lets every
// variable a name pattern (a name, or a prefix and *) matches through:
// sudo's entries are names, or a prefix and *, too.
func Keeps(kept []string, pattern string) bool {
	for _, k := range kept {
		prefix, star := strings.CutSuffix(k, "*")
		if k == pattern || star && strings.HasPrefix(pattern, prefix) {
			return true
		}
	}
	return false
}

// defaultsScope says how a Defaults line is written ("", ":alice",
// "!USERDOCKER", …) and whether it can apply to userdocker: every
// binding but one to commands that are not userdocker can.
func (p *policy) defaultsScope(binding []member) (string, bool) {
	if len(binding) == 0 {
		return "", true
	}
	sep := ":"
	for k := range binding[0] {
		switch k {
		case "command", "cmndalias":
			sep = "!"
		case "hostname", "hostalias", "netgroup_host":
			sep = "@"
		case "runasalias":
			sep = ">"
		}
	}
	scope := sep + join(binding)
	if sep == "!" {
		return scope, len(p.userdockerIn(binding)) > 0
	}
	return scope, true
}

// userdockerIn returns the commands of list, aliases resolved, that are
// userdocker, leaving out negated ones.
func (p *policy) userdockerIn(list []member) []string {
	var out []string
	p.walkCommands(list, map[string]bool{}, func(cmd string) {
		if !slices.Contains(out, cmd) {
			out = append(out, cmd)
		}
	})
	return out
}

func (p *policy) walkCommands(list []member, seen map[string]bool, found func(string)) {
	for _, m := range list {
		if m.negated() {
			continue
		}
		if c, ok := m.str("command"); ok {
			prog, _, _ := strings.Cut(c, " ")
			if slices.Contains(Commands, path.Base(prog)) {
				found(prog)
			}
		}
		if a, ok := m.str("cmndalias"); ok && !seen[a] {
			seen[a] = true
			p.walkCommands(p.CommandAliases[a], seen, found)
		}
	}
}

func optionTrue(opts []map[string]any, name string) bool {
	for _, o := range opts {
		if v, ok := o[name].(bool); ok && v {
			return true
		}
	}
	return false
}

// riskyKept returns the names an env_keep option adds or assigns that
// would let a caller set SUDO_* or LD_*.
func riskyKept(opts []map[string]any) []string {
	var out []string
	for _, o := range opts {
		if op, _ := o["operation"].(string); op == "list_remove" {
			continue
		}
		names, _ := o["env_keep"].([]any)
		for _, n := range names {
			if s, _ := n.(string); risky(s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// risky reports whether an env_keep entry keeps a SUDO_* or LD_*
// variable: by name, or as a pattern ("SUDO_*", "S*", "*") that
// matches such names.
func risky(entry string) bool {
	if prefix, pattern := strings.CutSuffix(entry, "*"); pattern {
		return strings.HasPrefix("SUDO_", prefix) || strings.HasPrefix("LD_", prefix) ||
			strings.HasPrefix(prefix, "SUDO_") || strings.HasPrefix(prefix, "LD_")
	}
	return strings.HasPrefix(entry, "SUDO_") || strings.HasPrefix(entry, "LD_")
}

func join(list []member) string {
	s := make([]string, len(list))
	for i, m := range list {
		s[i] = m.String()
	}
	return strings.Join(s, ",")
}

// cvtsudoersPaths are where sudo installs cvtsudoers; never looked up on
// a PATH from the environment.
var cvtsudoersPaths = []string{"/usr/bin/cvtsudoers", "/usr/sbin/cvtsudoers", "/usr/local/bin/cvtsudoers"}

// Cvtsudoers returns the path of sudo's cvtsudoers.
func Cvtsudoers() (string, error) {
	for _, p := range cvtsudoersPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("cvtsudoers is not installed (looked in %s)", strings.Join(cvtsudoersPaths, ", "))
}

// File is sudo's main configuration file.
const File = "/etc/sudoers"

// Read returns the system's sudo rules as `cvtsudoers -f json` prints
// them (File and what it includes), run with an empty environment. It
// needs root, as sudo's files are root's.
func Read() ([]byte, error) {
	bin, err := Cvtsudoers()
	if err != nil {
		return nil, err
	}
	// Without a file cvtsudoers reads its standard input.
	cmd := exec.Command(bin, "-f", "json", File)
	cmd.Env = []string{}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -f json: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
