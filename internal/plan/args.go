package plan

import (
	"slices"
	"strings"

	units "github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// governed are flags judged by their own part of the policy rather than by
// run.args.allowed: mounts by run.mounts, -p by run.publish, --gpus by [gpu],
// and userdocker's own flags, which never widen what a user gets.
var governed = map[string]bool{
	"volume":            true,
	"mount":             true,
	"publish":           true,
	"gpus":              true,
	"dry-run":           true,
	"no-default-mounts": true,
	"no-default-args":   true,
	"help":              true,
}

// AllowedFlags returns the canonical names of the docker run flags the
// policy lets a user pass (for `run -h` and for checkArgs).
func AllowedFlags(pol *policy.Policy) map[string]bool {
	out := map[string]bool{}
	for _, f := range pol.Run.Args.Allowed {
		if f.Name != "" {
			out[f.Name] = true
		}
	}
	for name := range governed {
		out[name] = true
	}
	if len(pol.Run.Publish) == 0 {
		delete(out, "publish")
	}
	if pol.GPU.Source == "none" {
		delete(out, "gpus")
	}
	if len(pol.Run.Devices.Available) > 0 {
		out["device"] = true // judged by run.devices (planDevices)
	}
	return out
}

// FixedFlags returns run.args.always as canonical name -> values.
func FixedFlags(pol *policy.Policy) map[string][]string {
	return flagValues(pol.Run.Args.Always)
}

// DefaultFlags returns run.args.default as canonical name -> values.
func DefaultFlags(pol *policy.Policy) map[string][]string {
	return flagValues(pol.Run.Args.Default)
}

func flagValues(args []policy.FlagArg) map[string][]string {
	out := map[string][]string{}
	for _, a := range args {
		if a.Name != "" { // a policy loaded without the flag table names none
			out[a.Name] = append(out[a.Name], a.Value)
		}
	}
	return out
}

// Layers are the site's run.args.default and run.args.always flags, as
// the run parser applies them over the user's.
func Layers(pol *policy.Policy) runflags.Layers {
	presets := func(args []policy.FlagArg) []runflags.Preset {
		out := make([]runflags.Preset, len(args))
		for i, a := range args {
			out[i] = runflags.Preset{Name: a.Name, Value: a.Value}
		}
		return out
	}
	return runflags.Layers{Default: presets(pol.Run.Args.Default), Always: presets(pol.Run.Args.Always)}
}

// sitePermits reports whether the site's policy lets the final request
// carry value for the run flag name (canonical): the site fixes the flag
// to it (run.args.always) or defaults it to it (run.args.default), or users
// may pass the flag, and the value matches run.args.values where the site
// lists any for it. The final checks judge fields that only such flags set
// with it, so that they hold whatever produced the request.
func sitePermits(pol *policy.Policy, name, value string) bool {
	if fixed, ok := FixedFlags(pol)[name]; ok {
		return slices.Contains(fixed, value)
	}
	if slices.Contains(DefaultFlags(pol)[name], value) {
		return true
	}
	if !AllowedFlags(pol)[name] {
		return false
	}
	res, _ := pol.Run.Args.ValuesOf(name)
	return len(res) == 0 || policy.MatchAny(res, value)
}

// siteUlimit reports whether the site's own --ulimit flags (run.args.always
// or run.args.default) set the limit name to soft:hard.
func siteUlimit(pol *policy.Policy, name string, soft, hard int64) bool {
	for _, specs := range [][]string{FixedFlags(pol)["ulimit"], DefaultFlags(pol)["ulimit"]} {
		for _, s := range specs {
			u, err := units.ParseUlimit(s)
			if err == nil && u.Name == name && u.Soft == soft && u.Hard == hard {
				return true
			}
		}
	}
	return false
}

// checkArgs judges the flags the user typed: each must be allowed, match the
// site's allowed values, and not contradict an enforced one. It returns
// the refusals and the flags refused (canonical names).
func checkArgs(req *request.Run, pol *policy.Policy) ([]error, []string) {
	var errs []error
	var refused []string
	for _, name := range req.Order {
		if flagErrs := checkArg(pol, name, req.Set[name]); len(flagErrs) > 0 {
			errs = append(errs, flagErrs...)
			refused = append(refused, name)
		}
	}
	return errs, refused
}

// checkArg judges the values the user typed for the flag name (canonical).
func checkArg(pol *policy.Policy, name string, typed []string) []error {
	if want, ok := FixedFlags(pol)[name]; ok {
		if !slices.Equal(typed, want) {
			return []error{refusal.New("args", "%s is fixed to %q on this system", runflags.Spelling(name), strings.Join(want, ",")).By("run.args.always")}
		}
		return nil
	}
	// --network=host and --ipc=host, where the site offers them, are
	// judged as namespaces (planHostNamespaces), not as arguments.
	typed = slices.DeleteFunc(slices.Clone(typed), func(v string) bool { return hostNamespaceArg(pol, name, v) })
	if len(typed) == 0 {
		return nil
	}
	if !AllowedFlags(pol)[name] {
		return []error{refusal.New("args", "%s is not allowed on this system", runflags.Spelling(name)).By("run.args.allowed")}
	}
	var errs []error
	if res, ok := pol.Run.Args.ValuesOf(name); ok {
		for _, v := range typed {
			if !policy.MatchAny(res, v) {
				errs = append(errs, refusal.New("args", "%s %q is not allowed on this system (allowed: %s)", runflags.Spelling(name), v, policy.DescribeAll(res, "N")).By("run.args.values"))
			}
		}
	}
	return errs
}
