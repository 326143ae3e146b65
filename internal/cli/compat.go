package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// legacyFlags are the Python userdocker's global flags that have no place
// in today's command line but are still accepted, so that scripts and
// aliases written for it keep working. They are not in -h.
type legacyFlags struct {
	// executor was the docker binary to run: "docker", or
	// "nvidia-docker" for GPUs. userdocker grants GPUs itself now.
	executor string
	// dryRun was a global -n/--dry-run; today it is run's own flag.
	dryRun bool
}

// nvidiaAlias is the name the Python userdocker's README gave to
// `userdocker --executor=nvidia-docker`; `make install` links it to
// userdocker.
const nvidiaAlias = "nvidia-userdocker"

// executors are the --executor values the Python userdocker shipped, with
// the note that says what each means today.
var executors = map[string]string{
	"docker": "--executor=docker no longer means no GPUs: containers get the GPUs userdocker grants you " +
		"(your Slurm job's, or ones it reserves); --gpus narrows them",
	"nvidia-docker": "--executor=nvidia-docker is not needed any more: containers get the GPUs userdocker grants you " +
		"(your Slurm job's, or ones it reserves); --gpus narrows them",
}

func addLegacyFlags(fs *pflag.FlagSet) *legacyFlags {
	l := &legacyFlags{}
	fs.StringVar(&l.executor, "executor", "", "Python userdocker's executor (docker or nvidia-docker); accepted, not needed")
	fs.BoolVarP(&l.dryRun, "dry-run", "n", false, "Python userdocker's global dry run: run --dry-run")
	return l
}

// legacyGlobals checks the global flags against each other, applies the
// legacy ones and returns the subcommand's arguments. The program name
// only chooses a note: it is the caller's to pick, so it decides nothing.
func (a *app) legacyGlobals(l *legacyFlags, fs *pflag.FlagSet, rest []string) ([]string, error) {
	if a.quiet && a.debug {
		return nil, refusal.Usagef("cannot specify both --quiet and --debug")
	}
	if fs.Changed("executor") {
		note, ok := executors[l.executor]
		if !ok {
			return nil, refusal.Usagef("invalid argument %q for \"--executor\" flag: only \"docker\" and \"nvidia-docker\" are accepted (and neither is needed)", l.executor)
		}
		a.notef("%s", note)
	} else if filepath.Base(a.env.Program) == nvidiaAlias {
		a.notef("%s is plain userdocker now: containers get the GPUs userdocker grants you (your Slurm job's, or ones it reserves); --gpus narrows them", nvidiaAlias)
	}
	if !l.dryRun || len(rest) == 0 {
		return rest, nil
	}
	if rest[0] != "run" {
		return nil, refusal.Usagef("-n/--dry-run before the subcommand applies to run only, not %q", rest[0])
	}
	return append([]string{"run", "--dry-run"}, rest[1:]...), nil
}

// notef prints a one-line note about how userdocker differs from what the
// caller asked for; -q silences it.
func (a *app) notef(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.env.Stderr, "userdocker: note: "+format+"\n", args...)
	}
}

// debugPolicy says, under --debug, who the caller is and which
// configuration files and overrides made their policy.
func (a *app) debugPolicy(prov policy.Provenance) {
	if !a.debug {
		return
	}
	a.debugf("caller %s (uid %d, gid %d, groups %s), from sudo", a.who.Name, a.who.UID, a.who.GID, groupList(a.who))
	a.debugf("configuration: %s", strings.Join(a.cfg.Files(), ", "))
	var overrides []string
	for _, o := range prov {
		if o.Override != "" && !slices.Contains(overrides, o.Override) {
			overrides = append(overrides, o.Override)
		}
	}
	slices.Sort(overrides)
	if len(overrides) == 0 {
		overrides = []string{"none"}
	}
	a.debugf("overrides that apply to you: %s", strings.Join(overrides, ", "))
	a.debugf("subcommands you may use: %s", strings.Join(a.pol.Subcommands, ", "))
}

// debugPlan says, under --debug, what the run will ask Docker for. Values
// of environment variables are left out: they may hold secrets.
func (a *app) debugPlan(p *request.Plan) {
	if !a.debug {
		return
	}
	h := p.Host
	a.debugf("image %s (pull %s), user %q, name %s", p.Image, p.Pull, p.Config.User, p.Name)
	if named, err := plan.NormalizeImage(p.Image); err == nil {
		if pat, ok := plan.AllowingPattern(named, a.pol.Run.Images); ok {
			a.debugf("image %s allowed by run.images pattern %s (%s)", p.Image, pat, pat.At)
		}
	}
	var gpus []string
	for _, dr := range h.DeviceRequests {
		gpus = append(gpus, dr.DeviceIDs...)
	}
	memory, shm := "unlimited", "the daemon's default"
	if h.Memory > 0 {
		memory = policy.Bytes(h.Memory).String()
	}
	if h.ShmSize > 0 {
		shm = policy.Bytes(h.ShmSize).String()
	}
	a.debugf("GPUs: %s; cpuset %q, memory %s, /dev/shm %s", orNone(gpus), h.CpusetCpus, memory, shm)
	var mounts []string
	for _, m := range h.Mounts {
		s := m.Source + ":" + m.Target
		if m.ReadOnly {
			s += ":ro"
		}
		mounts = append(mounts, s)
	}
	a.debugf("mounts: %s", orNone(append(mounts, h.Binds...)))
	a.debugf("capabilities: drop %s, add %s; environment: %d variables (values not shown)",
		orNone(h.CapDrop), orNone(h.CapAdd), len(p.Config.Env))
	for _, n := range p.Notes {
		a.debugf("%s", n)
	}
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ",")
}
