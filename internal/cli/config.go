package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
	"github.com/userdocker/userdocker/internal/slurmhook"
	"github.com/userdocker/userdocker/internal/sudoers"
)

// configCommand is one subcommand of `userdocker config`.
type configCommand struct {
	name    string
	usage   string // arguments, for help
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

// configCommands lists the subcommands of `userdocker config`, in the
// order help shows them.
func configCommands() []configCommand {
	return []configCommand{
		{name: "check", usage: "[FILE]", summary: "Check the configuration and its drop-ins; list every problem", run: cmdConfigCheck},
		{name: "explain", usage: "--user NAME [--job ID] [FILE]", summary: "Print a user's effective policy, each value with where it was set", run: cmdConfigExplain},
		{name: "import", usage: "[-o FILE] [PATH]", summary: "Convert the Python userdocker's config.py and its overrides to TOML", run: cmdConfigImport},
	}
}

// cmdConfig is `userdocker config`: admin commands about the
// configuration. commands() lets only root reach it.
func cmdConfig(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		a.configUsage(a.env.Stdout)
		if len(args) == 0 {
			return refusal.Usagef("\"config\" needs a subcommand (see 'userdocker config --help')")
		}
		return errHelpShown
	}
	for _, c := range configCommands() {
		if c.name == args[0] {
			a.record.Subcommand = "config " + c.name
			return c.run(ctx, a, args[1:])
		}
	}
	return refusal.Usagef("unknown subcommand \"config %s\" (see 'userdocker config --help')", args[0])
}

func (a *app) configUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage:  userdocker config COMMAND\n\nCheck, explain and convert the configuration (root only).\n\nCommands:\n")
	for _, c := range configCommands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'userdocker config COMMAND --help' for more information on a command.\n")
}

// configFlags parses the flags of `config NAME`, printing its help for
// -h; it returns the one optional FILE argument, or the configured path.
func (a *app) configFlags(name string, args []string, add func(fs *pflag.FlagSet)) (string, error) {
	c := configCommandNamed(name)
	fs := pflag.NewFlagSet("config "+name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var help helpFlag
	fs.VarPF(&help, "help", "h", "Print usage").NoOptDefVal = "true"
	if add != nil {
		add(fs)
	}
	if err := fs.Parse(args); err != nil {
		return "", refusal.Usagef("config %s: %v", name, err)
	}
	if help {
		fmt.Fprintf(a.env.Stdout, "Usage:  userdocker config %s %s\n\n%s.\nFILE defaults to %s.\n\nOptions:\n%s", name, c.usage, c.summary, a.env.ConfigPath, fs.FlagUsages())
		return "", errHelpShown
	}
	switch fs.NArg() {
	case 0:
		return a.env.ConfigPath, nil
	case 1:
		return fs.Arg(0), nil
	}
	return "", refusal.Usagef("\"config %s\" accepts at most one FILE, got %d arguments", name, fs.NArg())
}

func configCommandNamed(name string) configCommand {
	for _, c := range configCommands() {
		if c.name == name {
			return c
		}
	}
	panic("cli: no config command " + name)
}

// errConfigProblems makes `config check` exit 1: the check ran, and the
// answer is no.
var errConfigProblems = &StatusError{Code: 1}

// cmdConfigCheck is `config check [FILE]`: every problem of the main file
// and its drop-ins, each with a hint, on stdout; exit 1 when there is any.
func cmdConfigCheck(ctx context.Context, a *app, args []string) error {
	var strict helpFlag // a plain bool flag, shown without [=true|false]
	path, err := a.configFlags("check", args, func(fs *pflag.FlagSet) {
		fs.VarPF(&strict, "strict", "", "Treat warnings as problems: exit 1 when there is any").NoOptDefVal = "true"
	})
	if err != nil {
		return err
	}
	names, err := policy.FileNames(path)
	if err != nil {
		return err
	}
	var problems []error
	cfg, err := policy.Load(path, policy.Options{CheckFlag: runflags.Canonical})
	problems = append(problems, policy.Problems(err)...)
	problems = append(problems, policy.Problems(policy.CheckOwnership(names, os.Geteuid()))...)
	var warnings, notes []string
	if cfg != nil {
		var spoolProblems []error
		spoolProblems, warnings = a.checkSpool(cfg)
		problems = append(problems, spoolProblems...)
		sys, _ := cfg.System()
		daemonProblems, daemonWarnings, daemonNotes := a.daemonCheck(ctx, sys)
		problems = append(problems, daemonProblems...)
		warnings, notes = append(warnings, daemonWarnings...), daemonNotes
		cgProblems, cgWarnings := a.checkDaemonCgroups(ctx, cfg)
		problems = append(problems, cgProblems...)
		warnings = append(warnings, cgWarnings...)
	}
	for _, p := range problems {
		fmt.Fprintf(a.env.Stdout, "%s\n    hint: %s\n", strings.TrimSpace(p.Error()), configHint(p))
	}
	var passEnv []string
	if cfg != nil {
		if sys, _ := cfg.System(); sys != nil {
			warnings = append(warnings, a.epilogBudgetWarnings(sys.Slurm.EpilogBudget)...)
			passEnv = sys.Run.PassEnv
		}
		warnings = append(warnings, plan.LocalPatternWarnings(cfg.EveryImagePatterns())...)
		views := cfg.Views()
		for _, w := range plan.Lint(views, lintFacts(views, a.env.Users)) {
			warnings = append(warnings, fmt.Sprintf("%s: %s: %s\n    fix: %s", w.At, w.Key, w.Msg, w.Fix))
		}
	}
	warnings = append(warnings, a.sudoersWarnings(passEnv)...)
	defer func() {
		for _, n := range notes {
			fmt.Fprintln(a.env.Stdout, n)
		}
		for _, w := range warnings {
			fmt.Fprintf(a.env.Stdout, "warning: %s\n", w)
		}
	}()
	if len(problems) > 0 {
		they := "they are"
		if len(problems) == 1 {
			they = "it is"
		}
		fmt.Fprintf(a.env.Stderr, "userdocker: config check: %s in %s: nothing runs until %s fixed\n",
			plural(len(problems), "problem"), strings.Join(names, ", "), they)
		return errConfigProblems
	}
	if strict && len(warnings) > 0 {
		fmt.Fprintf(a.env.Stderr, "userdocker: config check: %s in %s, and --strict makes them problems\n",
			plural(len(warnings), "warning"), strings.Join(names, ", "))
		return errConfigProblems
	}
	fmt.Fprintf(a.env.Stdout, "configuration OK: %s (%s)\n", strings.Join(cfg.Files(), ", "), plural(cfg.Overrides(), "override"))
	return nil
}

// nameLookup finds users and groups by name (caller.System does).
type nameLookup interface {
	Lookup(name string) (*user.User, error)
	LookupGroup(name string) (*user.Group, error)
}

// lintFacts learns what plan.Lint needs of this system: which override
// selectors name no group or user, and which mount sources (without
// placeholders) do not exist on this node.
// Selectors are looked up where users can name them: a database that
// cannot find names (no nameLookup) leaves them unjudged.
func lintFacts(views []policy.View, users caller.Lookup) plan.LintFacts {
	f := plan.LintFacts{UnknownSelectors: map[string]bool{}, MissingPaths: map[string]bool{}}
	names, byName := users.(nameLookup)
	for _, v := range views {
		if s := v.Override; s != nil && byName {
			var err error
			id := strconv.FormatUint(uint64(s.ID), 10)
			switch s.Kind {
			case "group":
				_, err = names.LookupGroup(s.Name)
			case "gid":
				_, err = users.LookupGroupId(id)
			case "user":
				_, err = names.Lookup(s.Name)
			case "uid":
				_, err = users.LookupId(id)
			}
			var unknownUser user.UnknownUserError
			var unknownUID user.UnknownUserIdError
			var unknownGroup user.UnknownGroupError
			var unknownGID user.UnknownGroupIdError
			if errors.As(err, &unknownUser) || errors.As(err, &unknownUID) || errors.As(err, &unknownGroup) || errors.As(err, &unknownGID) {
				f.UnknownSelectors[s.Label] = true
			}
		}
		m := v.Policy.Run.Mounts
		for _, spec := range slices.Concat(m.Always, m.Default, m.Available) {
			if strings.Contains(spec.Host, "{") {
				continue
			}
			if _, err := os.Stat(spec.Host); errors.Is(err, os.ErrNotExist) {
				f.MissingPaths[spec.Host] = true
			}
		}
	}
	return f
}

// sudoersWarnings are what `config check` says about sudo's rules for
// userdocker: they are not userdocker's configuration, but a rule that
// lets callers set variables (SETENV, env_keep of SUDO_*/LD_*) undoes
// what userdocker's identity checks and ud-launch are for; and a
// run.pass_env entry that no env_keep keeps never reaches userdocker.
// Warnings, not problems: the configuration itself may still be fine.
func (a *app) sudoersWarnings(passEnv []string) []string {
	if a.env.Sudoers == nil {
		return nil
	}
	data, err := a.env.Sudoers()
	if err == nil {
		var ws, kept []string
		if ws, err = sudoers.Warnings(data); err == nil {
			if kept, err = sudoers.Kept(data); err == nil {
				for _, p := range passEnv {
					if !sudoers.Keeps(kept, p) {
						ws = append(ws, fmt.Sprintf("run.pass_env %s: sudo keeps no such variable for userdocker, so none reaches the container: "+
							"add it to env_keep (contrib/slurm/sudoers.userdocker)", p))
					}
				}
				return ws
			}
		}
	}
	return []string{fmt.Sprintf("sudoers not checked for SETENV and env_keep: %v", err)}
}

// epilogBudgetWarnings warns when slurm.epilog_budget is not below the
// PrologEpilogTimeout of this node's slurm.conf (the first of
// Env.SlurmConfPaths that can be read): slurmd would kill the epilog
// before its budget ends, and drain the node. Nothing is said when there
// is no slurm.conf, or it sets no timeout (Slurm then waits forever).
func (a *app) epilogBudgetWarnings(budget time.Duration) []string {
	for _, path := range a.env.SlurmConfPaths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if limit, ok := slurmhook.PrologEpilogTimeout(string(data)); ok && budget >= limit {
			return []string{fmt.Sprintf("slurm.epilog_budget %s is not below PrologEpilogTimeout=%d of %s: slurmd kills a longer epilog and drains the node\n"+
				"    hint: set [slurm] epilog_budget well below %s (what else the Epilog runs needs time too), or raise PrologEpilogTimeout",
				budget, int(limit.Seconds()), path, limit)}
		}
		return nil
	}
	return nil
}

// configHint says what to do about one problem `config check` found.
func configHint(err error) string {
	var ce *policy.ConfigError
	var sp *spoolProblem
	if errors.As(err, &sp) {
		return sp.hint()
	}
	var cp *cdiProblem
	if errors.As(err, &cp) {
		return cp.hint()
	}
	var gp *cgroupProblem
	if errors.As(err, &gp) {
		return gp.hint()
	}
	if !errors.As(err, &ce) {
		return "the file must exist and be readable by root"
	}
	switch {
	case errors.Is(err, policy.ErrUnsafeFile):
		return fmt.Sprintf("chown root:root %s && chmod go-w %s", ce.File, ce.File)
	case errors.Is(err, policy.ErrUnknownKey):
		if k := closestKey(policy.SchemaKey(ce.Key)); k != "" {
			return fmt.Sprintf("did you mean %q? userdocker.toml(5) lists every key", k)
		}
		return "userdocker.toml(5) lists every key"
	case ce.Key == "":
		return "fix the TOML syntax at this position; strings need quotes, regular expressions are best in '...'"
	}
	if def, ok := policy.DefaultValue(ce.Key); ok {
		return fmt.Sprintf("userdocker.toml(5) describes %s; without this line the built-in default applies: %s", policy.SchemaKey(ce.Key), def)
	}
	return "userdocker.toml(5) describes " + ce.Key
}

// closestKey returns the schema key nearest to key by edit distance, if
// one is near enough to be a typo of it.
func closestKey(key string) string {
	best, bestDist := "", len(key)/2+1
	for _, k := range policy.Keys() {
		d := editDistance(key, k)
		if _, last, _ := strings.Cut(k, "."); last != "" && d > editDistance(key, last) {
			d = editDistance(key, last) // a key written in the wrong table
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// cmdConfigExplain is `config explain --user NAME [--job ID] [FILE]`: the
// policy NAME gets, every value with the file:line that set it.
func cmdConfigExplain(_ context.Context, a *app, args []string) error {
	var name, job string
	path, err := a.configFlags("explain", args, func(fs *pflag.FlagSet) {
		fs.StringVar(&name, "user", "", "explain the policy of user `NAME` (required)")
		fs.StringVar(&job, "job", "{job}", "expand {job} to job `ID`")
	})
	if err != nil {
		return err
	}
	if name == "" {
		return refusal.Usagef("config explain: --user is required")
	}
	db, ok := a.env.Users.(interface {
		caller.Lookup
		Lookup(string) (*user.User, error)
	})
	if !ok {
		return errors.New("config explain: this user database cannot look users up by name")
	}
	u, err := caller.ByName(name, db)
	if err != nil {
		return fmt.Errorf("--user %q: %w", name, err)
	}
	cfg, err := policy.Load(path, policy.Options{CheckFlag: runflags.Canonical})
	if err != nil {
		return fmt.Errorf("configuration: %w (run 'userdocker config check' for every problem)", policy.FirstProblem(err))
	}
	pol, prov, err := cfg.For(gather.Who(u), job)
	if err != nil {
		return fmt.Errorf("--user %q: %w", name, policy.FirstProblem(err))
	}
	fmt.Fprintf(a.env.Stdout, "# Effective policy of %s (uid %d, gid %d, groups %s), job %s\n# from %s\n# %s\n",
		u.Name, u.UID, u.GID, groupList(u), job, strings.Join(cfg.Files(), ", "), ownImagesNote(pol, u.Name))
	return policy.Explain(a.env.Stdout, pol, prov)
}

func groupList(c request.Caller) string {
	parts := make([]string, len(c.Groups))
	for i, g := range c.Groups {
		parts[i] = fmt.Sprint(g)
		if c.GroupNames[i] != "" {
			parts[i] = c.GroupNames[i] + "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, ",")
}

// adminCall reports whether args call an admin command as root.
func (a *app) adminCall(args []string) bool {
	if !a.who.Root || len(args) == 0 {
		return false
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.admin
		}
	}
	return false
}

// helpFlag is a -h/--help that pflag prints as just that: its own bool
// flags print as --help[=true|false].
type helpFlag bool

func (h *helpFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	*h = helpFlag(v)
	return err
}

func (h *helpFlag) String() string { return strconv.FormatBool(bool(*h)) }

// Type is "bool" so that help shows no value placeholder.
func (h *helpFlag) Type() string { return "bool" }

// ownImagesNote says what run.own_images means for the user name: their
// namespace, or why they have none.
func ownImagesNote(pol *policy.Policy, name string) string {
	if !pol.Run.OwnImages {
		return "Images of their own (run.own_images): off; names under local/ are refused"
	}
	ns, err := plan.OwnNamespace(name)
	if err != nil {
		return fmt.Sprintf("Images of their own (run.own_images): on, but the user name %q cannot be part of an image name: none", name)
	}
	return fmt.Sprintf("Images of their own (run.own_images): %sNAME[:TAG], which only %s may load, tag, run and remove; never pulled", ns, name)
}
