package oldconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/pyliteral"
)

// setting is how one old setting converts: key is the TOML key it
// becomes ("" when it has none), convert does the work; a setting with
// only a gone message is reported as having no equivalent.
type setting struct {
	key     string
	convert func(c *converter, l *layer, s setting, a pyliteral.Assignment)
	gone    string
}

// settingOrder lists the Python userdocker's settings (its default.py) in
// the order "not set" notes are given.
var settingOrder = []string{
	"LOGLVL", "EXECUTORS", "EXECUTOR_DEFAULT", "ALLOWED_SUBCOMMANDS", "ARGS_ALWAYS", "ARGS_AVAILABLE",
	"VOLUME_MOUNTS_ALWAYS", "VOLUME_MOUNTS_AVAILABLE", "VOLUME_MOUNTS_DEFAULT", "PROBE_USED_MOUNTS",
	"ALLOWED_IMAGE_REGEXPS", "RUN_PULL", "USER_IN_CONTAINER", "CAPS_DROP", "CAPS_ADD",
	"ALLOWED_PORT_MAPPINGS", "ENV_VARS", "ENV_VARS_EXT", "NVIDIA_SMI", "NV_ALLOWED_GPUS",
	"NV_DEFAULT_GPU_COUNT_RESERVATION", "NV_MAX_GPU_COUNT_RESERVATION",
	"NV_GPU_UNAVAILABLE_ABOVE_MEMORY_USED", "NV_EXCLUSIVE_CONTAINER_GPU_RESERVATION", "NV_ALLOW_OWN_GPU_REUSE",
}

// settings maps each old setting to its conversion.
var settings = map[string]setting{
	"LOGLVL":    {gone: "no equivalent: pass -q or --debug on the command line"},
	"EXECUTORS": {gone: "no equivalent: userdocker talks to the daemon at docker_host itself and grants GPUs with device requests, so nvidia-docker is not needed"},
	"EXECUTOR_DEFAULT": {gone: "no equivalent: containers get the GPUs granted to the caller whatever the executor; " +
		"--executor and the nvidia-userdocker name are still accepted"},
	"ALLOWED_SUBCOMMANDS":                    {key: "subcommands", convert: subcommands},
	"ARGS_ALWAYS":                            {key: "run.args.always", convert: argsAlways},
	"ARGS_AVAILABLE":                         {key: "run.args.allowed", convert: argsAvailable},
	"VOLUME_MOUNTS_ALWAYS":                   {key: "run.mounts.always", convert: mounts},
	"VOLUME_MOUNTS_DEFAULT":                  {key: "run.mounts.default", convert: mounts},
	"VOLUME_MOUNTS_AVAILABLE":                {key: "run.mounts.available", convert: mounts},
	"PROBE_USED_MOUNTS":                      {key: "run.mounts.probe", convert: boolean},
	"ALLOWED_IMAGE_REGEXPS":                  {key: "run.images", convert: images},
	"RUN_PULL":                               {key: "run.pull", convert: pull},
	"USER_IN_CONTAINER":                      {key: "run.enforce_user", convert: boolean},
	"CAPS_DROP":                              {key: "run.cap_drop", convert: stringList},
	"CAPS_ADD":                               {key: "run.cap_add", convert: stringList},
	"ALLOWED_PORT_MAPPINGS":                  {key: "run.publish", convert: publish},
	"ENV_VARS":                               {key: "run.env", convert: env},
	"ENV_VARS_EXT":                           {gone: "no equivalent: there are no executors; put variables every container should get into run.env"},
	"NVIDIA_SMI":                             {gone: "no equivalent: userdocker asks NVML directly"},
	"NV_ALLOWED_GPUS":                        {convert: allowedGPUs},
	"NV_DEFAULT_GPU_COUNT_RESERVATION":       {key: "gpu.default_count", convert: count},
	"NV_MAX_GPU_COUNT_RESERVATION":           {key: "gpu.max_count", convert: count},
	"NV_GPU_UNAVAILABLE_ABOVE_MEMORY_USED":   {key: "gpu.max_memory_used_mib", convert: count},
	"NV_EXCLUSIVE_CONTAINER_GPU_RESERVATION": {key: "gpu.exclusive", convert: boolean},
	"NV_ALLOW_OWN_GPU_REUSE":                 {gone: "no equivalent: a GPU reserved for one of your containers is not given to another"},
}

// oldSubcommands maps the Python userdocker's subcommands to today's.
var oldSubcommands = map[string]string{
	"attach": "attach", "images": "images", "load": "load", "ps": "ps", "pull": "pull",
	"run": "run", "version": "version",
}

// placeholders are the caller variables old config files used, as
// userdocker's placeholders.
var placeholders = map[string]string{
	"user_home": "{home}", "user_name": "{user}", "uid": "{uid}", "gid": "{gid}",
}

func (s setting) convertTo(c *converter, l *layer, a pyliteral.Assignment) {
	if s.convert == nil {
		c.note(a.Line, a.Name, "%s", s.gone)
		return
	}
	s.convert(c, l, s, a)
}

// text evaluates a string, or strings and caller variables joined with +.
func (c *converter) text(a pyliteral.Assignment, v pyliteral.Value) (string, bool) {
	switch v.Kind {
	case pyliteral.String:
		if name, ok := placeholderIn(v.Str); ok {
			c.note(v.Line, a.Name, "%q contains {%s}, which userdocker would read as a placeholder: left out", v.Str, name)
			return "", false
		}
		return v.Str, true
	case pyliteral.Name:
		if p, ok := placeholders[v.Str]; ok {
			return p, true
		}
		c.note(v.Line, a.Name, "%s is computed in Python and has no placeholder (known: user_home, user_name, uid, gid): left out", v.Str)
		return "", false
	case pyliteral.Concat:
		var b strings.Builder
		for _, it := range v.Items {
			s, ok := c.text(a, it)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	}
	c.note(v.Line, a.Name, "expected a string, found a %s: left out", v.Kind)
	return "", false
}

var placeholderRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func placeholderIn(s string) (string, bool) {
	m := placeholderRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// texts evaluates a list or tuple of strings; items that are not are
// reported and left out.
func (c *converter) texts(a pyliteral.Assignment, v pyliteral.Value) ([]string, bool) {
	if v.Kind != pyliteral.List && v.Kind != pyliteral.Tuple {
		c.note(a.Line, a.Name, "expected a list, found a %s: not converted", v.Kind)
		return nil, false
	}
	out := []string{}
	for _, it := range v.Items {
		if s, ok := c.text(a, it); ok {
			out = append(out, s)
		}
	}
	return out, true
}

func stringList(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	if list, ok := c.texts(a, a.Value); ok {
		l.set(s.key, policy.TOMLArray(list), a)
	}
}

func boolean(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	if a.Value.Kind != pyliteral.Bool {
		c.note(a.Line, a.Name, "expected True or False, found a %s: not converted", a.Value.Kind)
		return
	}
	l.set(s.key, strconv.FormatBool(a.Value.Bool), a)
}

// count converts a GPU count; the old -1 (no limit) has no equivalent.
func count(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	switch {
	case a.Value.Kind != pyliteral.Int:
		c.note(a.Line, a.Name, "expected an integer, found a %s: not converted", a.Value.Kind)
	case a.Value.Int < 0:
		c.note(a.Line, a.Name, "%d (no limit) has no equivalent: set %s to a number (see config explain for the built-in value)", a.Value.Int, s.key)
	default:
		l.set(s.key, strconv.FormatInt(a.Value.Int, 10), a)
	}
}

func subcommands(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	list, ok := c.texts(a, a.Value)
	if !ok {
		return
	}
	var out []string
	for _, name := range list {
		now, known := oldSubcommands[name]
		switch {
		case name == "dockviz":
			c.note(a.Line, a.Name, `"dockviz" was removed: it ran a third-party image as root; userdocker images --tree shows the image tree`)
		case !known:
			c.note(a.Line, a.Name, "%q is not a subcommand of the Python userdocker: left out", name)
		case !slices.Contains(out, now):
			out = append(out, now)
		}
	}
	l.set(s.key, policy.TOMLArray(out), a)
}

// runEntries returns the "run" entry of an ARGS_* dict and reports the
// others: only run's flags are configured today.
func (c *converter) runEntries(a pyliteral.Assignment) (pyliteral.Value, bool) {
	if a.Value.Kind != pyliteral.Dict {
		c.note(a.Line, a.Name, "expected a dict, found a %s: not converted", a.Value.Kind)
		return pyliteral.Value{}, false
	}
	var run pyliteral.Value
	found := false
	for i, k := range a.Value.Keys {
		if k.Kind != pyliteral.String {
			c.note(k.Line, a.Name, "a key that is not a string: left out")
			continue
		}
		if k.Str != "run" {
			c.note(k.Line, fmt.Sprintf("%s[%q]", a.Name, k.Str), "no equivalent: the flags of userdocker %q are built in", k.Str)
			continue
		}
		run, found = a.Value.Items[i], true
	}
	return run, found
}

// runFlag checks one flag spelling.
func (c *converter) runFlag(a pyliteral.Assignment, spelling string) bool {
	if c.opts.IsRunFlag == nil || c.opts.IsRunFlag(spelling) {
		return true
	}
	c.note(a.Line, a.Name, "%q is not a docker run flag userdocker knows: left out", spelling)
	return false
}

func argsAlways(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	run, found := c.runEntries(a)
	out := []string{}
	if found {
		items, _ := c.texts(a, run)
		for _, it := range items {
			name, _, _ := strings.Cut(it, "=")
			if c.runFlag(a, name) {
				out = append(out, it)
			}
		}
	}
	l.set(s.key, policy.TOMLArray(out), a)
}

// alwaysAllowed are the run flags the Python userdocker offered whatever
// ARGS_AVAILABLE said; -v and -p are judged by run.mounts and run.publish.
var alwaysAllowed = []string{"-w", "--entrypoint"}

func argsAvailable(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	run, found := c.runEntries(a)
	allowed := []string{}
	values := map[string][]string{}
	add := func(spelling string) {
		if c.runFlag(a, spelling) && !slices.Contains(allowed, spelling) {
			allowed = append(allowed, spelling)
		}
	}
	if found && run.Kind != pyliteral.List && run.Kind != pyliteral.Tuple {
		c.note(run.Line, a.Name+`["run"]`, "expected a list, found a %s: not converted", run.Kind)
		found = false
	}
	for _, it := range run.Items {
		if !found {
			break
		}
		if it.Kind == pyliteral.List || it.Kind == pyliteral.Tuple { // aliases
			names, _ := c.texts(a, it)
			for _, n := range names {
				add(n)
			}
			continue
		}
		spec, ok := c.text(a, it)
		if !ok {
			continue
		}
		name, val, hasVal := strings.Cut(spec, "=")
		add(name)
		if hasVal && slices.Contains(allowed, name) {
			values[name] = append(values[name], "^"+regexp.QuoteMeta(val)+"$")
		}
	}
	for _, f := range alwaysAllowed {
		add(f)
	}
	l.set(s.key, policy.TOMLArray(allowed), a)
	if len(values) > 0 {
		rendered := map[string]string{}
		for k, v := range values {
			rendered[k] = policy.TOMLArray(v)
		}
		l.set("run.args.values", tomlInlineTable(rendered), a)
	}
}

func mounts(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	list, ok := c.texts(a, a.Value)
	if !ok {
		return
	}
	out := []string{}
	for _, m := range list {
		host, target, hasTarget := strings.Cut(m, ":")
		switch {
		case !hasTarget:
			c.note(a.Line, a.Name, "%q: anonymous volumes were never supported: left out", m)
		case host == "":
			c.note(a.Line, a.Name, "%q has no host path: left out", m)
		case (target == "" || strings.HasPrefix(target, ":")) && s.key != "run.mounts.available":
			c.note(a.Line, a.Name, "%q leaves the container path to the user, which only run.mounts.available may: left out", m)
		default:
			out = append(out, m)
		}
	}
	l.set(s.key, policy.TOMLArray(out), a)
}

// images converts ALLOWED_IMAGE_REGEXPS as they are: they matched what the
// user typed with ":latest" added, which is the short form of the
// normalized reference that run.images patterns are also matched against.
func images(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	c.regexes(l, s, a, func(re, _ string) string { return re })
}

// regexes converts a list of regular expressions (which the Python
// userdocker applied with re.match), each passed through adapt; those Go
// cannot compile are reported and left out.
func (c *converter) regexes(l *layer, s setting, a pyliteral.Assignment, adapt func(re, original string) string) {
	list, ok := c.texts(a, a.Value)
	if !ok {
		return
	}
	out := []string{}
	for _, re := range list {
		if _, err := regexp.Compile(re); err != nil {
			c.note(a.Line, a.Name, "%q is not a regular expression Go accepts (RE2: no look-around or back-references): left out", re)
			continue
		}
		original := re
		if !strings.HasPrefix(re, "^") {
			// Python's re.match anchors at the start; Go's MatchString
			// does not, so without this the pattern would allow more.
			re = "^(?:" + re + ")"
			c.note(a.Line, a.Name, "%q: written as %q, anchored at the start as Python's re.match anchored it", original, re)
		}
		out = append(out, adapt(re, original))
	}
	l.set(s.key, policy.TOMLArray(out), a)
}

// publish converts -p patterns. Patterns without ':' matched a bare
// container port ("-p 80"), which is "::80" in today's canonical form.
func publish(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	c.regexes(l, s, a, func(re, original string) string {
		if strings.Contains(original, ":") || matchesCanonical(re) {
			return re
		}
		now := "^::" + re[1:]
		c.note(a.Line, a.Name, "%q: -p specs are now matched in the form HOSTIP:HOSTPORT:CONTAINERPORT: written as %q", original, now)
		return now
	})
}

// canonicalSamples are -p specs in today's form; a pattern that matches
// one of them already works on that form and is kept as it is.
var canonicalSamples = []string{"::80", "127.0.0.1::80", "0.0.0.0:8080:80", ":8080:80", "::80/udp"}

func matchesCanonical(re string) bool {
	r := regexp.MustCompile(re) // checked by the caller
	return slices.ContainsFunc(canonicalSamples, r.MatchString)
}

func pull(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	v, ok := c.text(a, a.Value)
	if !ok {
		return
	}
	now, known := map[string]string{"default": "missing", "never": "never", "always": "always"}[v]
	if !known {
		c.note(a.Line, a.Name, "%q is not one of default, never, always: not converted", v)
		return
	}
	l.set(s.key, policy.TOMLString(now), a)
}

func env(c *converter, l *layer, s setting, a pyliteral.Assignment) {
	list, ok := c.texts(a, a.Value)
	if !ok {
		return
	}
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			c.note(a.Line, a.Name, "%q is not NAME=VALUE: left out", kv)
			continue
		}
		out[k] = policy.TOMLString(v)
	}
	for k, v := range identityEnv {
		if _, set := out[k]; !set {
			out[k] = policy.TOMLString(v)
		}
	}
	l.set(s.key, tomlInlineTable(out), a)
}

// identityEnv are variables the Python userdocker set in every container
// besides ENV_VARS; scripts inside containers may read them.
var identityEnv = map[string]string{"USERDOCKER_USER": "{user}", "USERDOCKER_UID": "{uid}"}

// allowedGPUs: "ALL" needs nothing; an empty list or None meant no GPUs;
// a list of indices has no equivalent (the job's GPUs are what Slurm gave).
func allowedGPUs(c *converter, l *layer, _ setting, a pyliteral.Assignment) {
	v := a.Value
	switch {
	case v.Kind == pyliteral.String && v.Str == "ALL":
	case v.Kind == pyliteral.None || ((v.Kind == pyliteral.List || v.Kind == pyliteral.Tuple) && len(v.Items) == 0):
		l.set("gpu.source", policy.TOMLString("none"), a)
	default:
		c.note(a.Line, a.Name, "a subset of GPUs has no equivalent: limit the GPUs Slurm may allocate (gres.conf) instead")
	}
}
