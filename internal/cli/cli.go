// Package cli is userdocker's command line: global flags, the subcommand
// table, and the one place where errors become exit codes and messages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/launch"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// Version is userdocker's version, set at link time.
var Version = "dev"

// Exit codes, as the docker CLI uses them: 125 for userdocker's own errors
// (usage, policy refusal, daemon unreachable); otherwise the container's.
const (
	ExitOK    = 0
	ExitOwn   = 125
	ExitUsage = 125
)

// StatusError carries a container's exit status out of a subcommand.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Env is everything userdocker takes from the process that started it.
type Env struct {
	Args   []string // without the program name
	Stdin  *os.File
	Stdout io.Writer
	Stderr io.Writer
	// UID is the real uid of the process.
	UID int
	// Proc reads what the kernel says about the process and its parent
	// (caller.SystemProc in production): what SUDO_UID is checked against.
	Proc caller.Proc
	// Lookup reads the environment: only sudo's own variables are used.
	// Installed behind ud-launch, userdocker gets no variables but those
	// of launch.Passed (and launch.UnsafeVar): add a new one there.
	Lookup caller.Env
	// Environ lists the environment (os.Environ in production): of it,
	// only the launcher's variables are used, copied into containers as
	// run.pass_env says (launch.IsLauncherVar); nil: none.
	Environ func() []string
	Users   caller.Lookup
	// ConfigPath is policy.DefaultPath in production; tests pass another.
	ConfigPath string
	// AuditFallback is where audit records go when syslog is configured
	// but cannot be reached: audit.FallbackFile in production, also when
	// empty.
	AuditFallback string
	// Sudoers reads the system's sudo rules for `config check`
	// (sudoers.Read in production); nil: they are not checked.
	Sudoers func() ([]byte, error)
	// SlurmConfPaths are where `config check` looks for slurm.conf (the
	// first that exists), to compare slurm.epilog_budget with its
	// PrologEpilogTimeout, and run for slurmd's spool directory (PMIx):
	// slurmhook.SlurmConfPaths in production; none, no comparison, and
	// Slurm's default spool directory.
	SlurmConfPaths []string
	// CheckDaemon makes `config check` ask docker_host which engine it
	// is, and on Podman or with gpu.delivery = "cdi" check CDI delivery:
	// true in production; false, the daemon is not asked.
	CheckDaemon bool
	// CDISpecDirs are where `config check` reads CDI specs when the
	// daemon does not name its own; nil: CDI's defaults (/etc/cdi,
	// /var/run/cdi).
	CDISpecDirs []string
	// NodeGPUs lists the node's GPUs for `config check`
	// (gather.NodeGPUs in production); nil: not checked.
	NodeGPUs func() ([]plan.NodeGPU, error)
	// CgroupRoot is where this host's cgroups are mounted
	// (alloc.DefaultCgroupRoot in production): run makes its containers'
	// parent cgroups there, and refuses every container without it;
	// `config check` judges dockerd's cgroup driver against it, and
	// without it does not.
	CgroupRoot string
	// Hostname names this host for a caller's parent cgroup outside a
	// job; nil: os.Hostname.
	Hostname func() (string, error)
	// LoadWait is how long load waits for another load of the same user
	// before it gives up; 0: an hour.
	LoadWait time.Duration
	// Rand makes automatic names unique; nil means crypto/rand.
	Rand io.Reader
	// Program is argv[0]; as nvidia-userdocker it only changes a note.
	Program string
	// Disks tells config check where directories are; nil: the real
	// file systems (gather.SystemDisks).
	Disks gather.Disks
}

// app is what every subcommand works with.
type app struct {
	env Env
	who request.Caller
	cfg *policy.Config
	pol *policy.Policy
	// prov says where each value of pol was set, for --debug.
	prov   policy.Provenance
	debug  bool
	quiet  bool
	record *audit.Record
	// identity is who the caller is, once identify has asked.
	identity *identity
}

// identity is the outcome of establishing the caller.
type identity struct {
	who request.Caller
	err error
}

type command struct {
	name    string
	summary string
	admin   bool // root only, not subject to the subcommands list
	hidden  bool // not in help, any caller: what completion asks
	run     func(ctx context.Context, a *app, args []string) error
}

// commands lists every subcommand, in the order help shows them.
func commands() []command {
	return []command{
		{name: "run", summary: "Create and run a new container from an image", run: cmdRun},
		{name: "attach", summary: "Attach to one of your running containers", run: cmdAttach},
		{name: "exec", summary: "Run a command in one of your running containers", run: cmdExec},
		{name: "images", summary: "List images (--tree: as parent/child chains)", run: cmdImages},
		{name: "inspect", summary: "Show the details of your containers and of images you may run", run: cmdInspect},
		{name: "kill", summary: "Kill one or more of your running containers", run: cmdKill},
		{name: "load", summary: "Load images from a tar archive, refusing tags that would replace others'", run: cmdLoad},
		{name: "logs", summary: "Fetch the logs of one of your containers", run: cmdLogs},
		{name: "ps", summary: "List your containers", run: cmdPs},
		{name: "pull", summary: "Download an image the policy allows", run: cmdPull},
		{name: "rm", summary: "Remove one or more of your containers", run: cmdRm},
		{name: "rmi", summary: "Remove tags of your own images (local/USER/...)", run: cmdRmi},
		{name: "stop", summary: "Stop one or more of your running containers", run: cmdStop},
		{name: "tag", summary: "Tag an image you may run as one of your own (local/USER/...)", run: cmdTag},
		{name: "wait", summary: "Wait for your containers to stop, then print their exit codes", run: cmdWait},
		{name: "version", summary: "Show userdocker's and the Docker daemon's version", run: cmdVersion},
		{name: "config", summary: "Check and explain the configuration (root only)", admin: true, run: cmdConfig},
		{name: completeCommand, summary: "What this caller may type, for shell completion", hidden: true, run: cmdComplete},
	}
}

// Main runs userdocker and returns its exit code.
func Main(ctx context.Context, env Env) int {
	start := time.Now()
	node, _ := os.Hostname()
	a := &app{env: env, record: &audit.Record{Time: start, Program: "userdocker", Node: node, Argv: auditArgv(env.Args)}}
	err := a.main(ctx)
	code := exitCode(err)
	a.record.ExitCode = code
	a.record.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if a.record.Decision == "" {
		a.decide(err)
	}
	if a.record.UID == nil {
		a.recordCaller()
	}
	// A call without root (not through sudo) can do nothing a user cannot
	// do anyway, and cannot write the audit log: a line saying so would
	// only stand before the hint to use sudo.
	if env.UID == 0 {
		a.writeAudit()
	}
	if err != nil && !isStatus(err) && !errors.Is(err, errHelpShown) {
		a.report(err)
	}
	return code
}

var errHelpShown = errors.New("help shown")

func isStatus(err error) bool {
	var s *StatusError
	return errors.As(err, &s)
}

func exitCode(err error) int {
	var s *StatusError
	var cmd *engine.CommandError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return ExitOK
	case errors.As(err, &s):
		return s.Code
	case errors.As(err, &cmd):
		return cmd.Status // docker's 126/127: the command could not be run
	default:
		return ExitOwn
	}
}

// report prints err as userdocker's one-line message(s): every policy
// refusal on its own line, usage errors with a pointer to help.
func (a *app) report(err error) {
	w := a.env.Stderr
	if rs := refusal.All(err); len(rs) > 0 {
		for _, r := range rs {
			fmt.Fprintf(w, "userdocker: %s\n", r.Msg)
			a.debugRefusal(r)
		}
		return
	}
	var u *refusal.UsageError
	if errors.As(err, &u) {
		fmt.Fprintf(w, "userdocker: %s\nSee 'userdocker %s--help'.\n", u.Msg, helpFor(a.record.Subcommand))
		return
	}
	fmt.Fprintf(w, "userdocker: %s\n", strings.TrimSpace(err.Error()))
}

func (a *app) main(ctx context.Context) error {
	global := pflag.NewFlagSet("userdocker", pflag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.SetInterspersed(false)
	version := global.Bool("version", false, "Print version information and quit")
	help := global.BoolP("help", "h", false, "Print usage")
	global.BoolVarP(&a.quiet, "quiet", "q", false, "Print only errors")
	global.BoolVarP(&a.debug, "debug", "D", false, "Explain what the policy decided and why")
	legacy := addLegacyFlags(global)
	if err := global.Parse(a.env.Args); err != nil {
		return &refusal.UsageError{Msg: err.Error()}
	}
	who, err := a.identify()
	var forged *caller.IdentityError
	if errors.As(err, &forged) { // not even --version for a forged identity
		return a.refuseIdentity(forged)
	}
	if err == nil { // the audit record names the caller from here on
		a.who = who
		uid := who.UID
		a.record.Caller, a.record.UID = who.Name, &uid
	}
	if names, _ := a.env.Lookup(launch.UnsafeVar); names != "" && err == nil {
		return a.refuseEarly(fmt.Errorf("%s reached userdocker through sudo (ud-launch dropped it): the sudoers rule for userdocker must not let callers set variables (SETENV); tell your admin", names), &who)
	}
	if *version { // like docker --version, also without sudo
		fmt.Fprintf(a.env.Stdout, "userdocker version %s\n", Version)
		return nil
	}
	if err != nil {
		return err
	}
	rest, err := a.legacyGlobals(legacy, global, global.Args())
	if err != nil {
		return err
	}
	// Root may check and explain a configuration that does not load.
	if err := a.loadPolicy(""); err != nil && !a.adminCall(rest) {
		return err
	}
	if *help || len(rest) == 0 {
		a.usage(a.env.Stdout)
		if len(rest) == 0 && !*help {
			return &refusal.UsageError{Msg: "a subcommand is required"}
		}
		return errHelpShown
	}
	name := rest[0]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		a.record.Subcommand = name
		if !c.hidden {
			if err := plan.CheckSubcommand(a.pol, name, c.admin, a.who.Root); err != nil {
				return err
			}
		}
		return c.run(ctx, a, rest[1:])
	}
	if err := plan.CheckNotOffered(name); err != nil {
		a.record.Subcommand = name
		return err
	}
	return &refusal.UsageError{Msg: fmt.Sprintf("unknown subcommand %q", name)}
}

// loadPolicy loads the configuration and resolves it for the caller and job.
func (a *app) loadPolicy(job string) error {
	if err := a.loadConfig(); err != nil {
		return err
	}
	pol, prov, err := a.cfg.For(gather.Who(a.who), job)
	if err != nil {
		return fmt.Errorf("configuration: %w", policy.FirstProblem(err))
	}
	a.pol, a.prov = pol, prov
	if job == "" {
		a.debugPolicy(prov)
	}
	return nil
}

// loadConfig loads the configuration files once.
func (a *app) loadConfig() error {
	if a.cfg != nil {
		return nil
	}
	cfg, err := policy.Load(a.env.ConfigPath, policy.Options{CheckFlag: runflags.Canonical})
	if err == nil {
		err = policy.CheckOwnership(cfg.Files(), os.Geteuid())
	}
	if err != nil {
		return fmt.Errorf("configuration: %w", policy.FirstProblem(err))
	}
	a.cfg = cfg
	return nil
}

func (a *app) mayUse(c command) bool {
	return c.hidden || plan.CheckSubcommand(a.pol, c.name, c.admin, a.who.Root) == nil
}

// decide records in the audit record what became of the call: allowed
// (a container's own exit status included), refused (the error holds
// refusals), or failed.
func (a *app) decide(err error) {
	switch {
	case err == nil || isStatus(err):
		a.record.Decision = audit.Allowed
	case len(refusal.All(err)) > 0:
		a.refuse(err)
	default:
		a.record.Decision = audit.Failed
		a.record.Reasons = []string{err.Error()}
	}
}

// refuse records err as a refusal and returns it: the refusals in it, or
// err itself when it is a refusal of another kind (an identity that does
// not add up, a container that is not the caller's, a --format past its
// limits).
func (a *app) refuse(err error) error {
	a.record.Decision = audit.Refused
	for _, r := range refusal.All(err) {
		a.record.Reasons = append(a.record.Reasons, r.Msg)
	}
	if len(a.record.Reasons) == 0 {
		a.record.Reasons = []string{err.Error()}
	}
	return err
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage:  userdocker [OPTIONS] COMMAND\n\nDocker for the users of this system, within its policy.\n\nCommands:\n")
	for _, c := range commands() {
		if a.pol != nil && !c.hidden && a.mayUse(c) {
			fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nOptions:\n  -D, --debug     Explain what the policy decided and why\n  -h, --help      Print usage\n  -q, --quiet     Print only errors\n      --version   Print version information and quit\n\nRun 'userdocker COMMAND --help' for more information on a command.\n")
}

func (a *app) writeAudit() {
	dest := "syslog"
	if a.pol != nil {
		dest = a.pol.Audit.Log
	}
	fallback := a.env.AuditFallback
	if fallback == "" {
		fallback = audit.FallbackFile
	}
	sink, err := audit.Open(dest, fallback)
	if err != nil {
		fmt.Fprintf(a.env.Stderr, "userdocker: audit: %v\n", err)
		return
	}
	if err := sink.Write(*a.record); err != nil {
		fmt.Fprintf(a.env.Stderr, "userdocker: audit: %v\n", err)
	}
}

// debugRefusal says, under --debug, which rule refused and which setting
// (and where it was set) decided it.
func (a *app) debugRefusal(r *refusal.Refusal) {
	switch {
	case !a.debug:
	case r.Key == "":
		a.debugf("refused by rule %q, built into userdocker (no setting changes it)", r.Rule)
	case a.prov == nil:
		a.debugf("refused by rule %q, decided by %s", r.Rule, r.Key)
	default:
		a.debugf("refused by rule %q, decided by %s (%s)", r.Rule, r.Key, a.prov[r.Key])
	}
}

func (a *app) debugf(format string, args ...any) {
	if a.debug {
		fmt.Fprintf(a.env.Stderr, "userdocker: debug: "+format+"\n", args...)
	}
}

// helpFor is what goes between "userdocker " and "--help" in a usage
// error's pointer to help: the subcommand, if one was named.
func helpFor(sub string) string {
	if sub == "" {
		return ""
	}
	return sub + " "
}
