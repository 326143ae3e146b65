package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	units "github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// sizeKind is one of the sizes run.limits bounds: the flag that asks for
// it and the key that limits it.
type sizeKind struct {
	flag  string // canonical run flag
	key   string // run.limits key
	limit func(policy.Limits) policy.Limit
}

var (
	shmSize   = sizeKind{"shm-size", "run.limits.shm_size", func(l policy.Limits) policy.Limit { return l.ShmSize }}
	memory    = sizeKind{"memory", "run.limits.memory", func(l policy.Limits) policy.Limit { return l.Memory }}
	tmpfsSize = sizeKind{"tmpfs", "run.limits.tmpfs_size", func(l policy.Limits) policy.Limit { return l.TmpfsSize }}
)

// sizeBound is the most a size may be, and why: the site's limit or the
// job's memory, whichever is smaller. The zero sizeBound bounds nothing.
type sizeBound struct {
	max int64
	// why ends a refusal: "the 8g this system allows (run.limits.shm_size)".
	why string
	key string
}

// boundOf is the bound on k for this run: run.limits, and inside a job
// whose memory is confined, the job's memory. A container's shared
// memory, tmpfs pages and memory are all charged to its memory cgroup:
// none can usefully be larger than the job.
func boundOf(k sizeKind, pol *policy.Policy, f Facts) sizeBound {
	var b sizeBound
	if l := k.limit(pol.Run.Limits); l.Set() {
		b = sizeBound{int64(l.Max), "the " + l.Text + " this system allows (" + k.key + ")", k.key}
	}
	if f.Job != nil && pol.Slurm.ConfineMemory && f.Job.MemoryBytes > 0 && (b.max == 0 || f.Job.MemoryBytes <= b.max) {
		b = sizeBound{f.Job.MemoryBytes, "your job's memory (" + policy.Bytes(f.Job.MemoryBytes).String() + ")", "slurm.confine_memory"}
	}
	return b
}

// typedSize is how the value of flag came to be, for messages: as the user
// typed it, else as the site's run.args.always or run.args.default wrote
// it, else in bytes.
func typedSize(req *request.Run, pol *policy.Policy, flag string, n int64) string {
	if vs := req.Set[flag]; len(vs) > 0 {
		return runflags.Spelling(flag) + " " + vs[len(vs)-1]
	}
	for _, args := range []struct {
		key  string
		list []policy.FlagArg
	}{{"run.args.always", pol.Run.Args.Always}, {"run.args.default", pol.Run.Args.Default}} {
		for _, a := range args.list {
			if a.Name == flag {
				return args.key + " " + a.Text
			}
		}
	}
	return runflags.Spelling(flag) + " " + strconv.FormatInt(n, 10)
}

// planLimits bounds the sizes a container asks for (run.limits, and the
// job's memory): --shm-size, --memory, and each tmpfs's size. A size the
// user typed above the bound is refused, in the units it was written in;
// one of the site's run.args.always or default is lowered to the bound (a
// site-wide --shm-size=1g must not refuse every run of a smaller job). A
// container without --memory, or a tmpfs without a size, gets the bound.
func planLimits(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	typed := func(flags ...string) bool {
		return slices.ContainsFunc(flags, func(fl string) bool { return len(req.Set[fl]) > 0 })
	}
	if b := boundOf(shmSize, pol, f); b.max > 0 && p.Host.ShmSize > b.max {
		if typed("shm-size") {
			errs = append(errs, refusal.New("sizes", "%s is more than %s", typedSize(req, pol, "shm-size", p.Host.ShmSize), b.why).By(b.key))
		}
		p.Host.ShmSize = b.max
	}
	res := &p.Host.Resources
	if b := boundOf(memory, pol, f); b.max > 0 {
		if req.Host.Memory > b.max && typed("memory") {
			errs = append(errs, refusal.New("sizes", "%s is more than %s", typedSize(req, pol, "memory", req.Host.Memory), b.why).By(b.key))
		}
		if res.Memory == 0 || res.Memory > b.max {
			res.Memory = b.max
			if f.Job != nil && pol.Slurm.ConfineMemory && f.Job.MemoryBytes > 0 {
				res.MemorySwap = res.Memory // as planJob: no swap beyond the job's memory
			}
		}
	}
	if b := boundOf(tmpfsSize, pol, f); b.max > 0 {
		byUser := typed("tmpfs", "mount")
		for _, target := range slices.Sorted(maps.Keys(p.Host.Tmpfs)) {
			opts, err := boundTmpfs(target, p.Host.Tmpfs[target], b, !byUser)
			if err != nil {
				errs = append(errs, err)
				opts = withSize(p.Host.Tmpfs[target], b.max) // refused; the plan goes on within the bound
			}
			p.Host.Tmpfs[target] = opts
		}
	}
	return errs
}

// boundTmpfs returns the options of the tmpfs at target with its size
// bounded by b: a size written as docker writes sizes ("1GB", "1.5g") in
// bytes, which the kernel reads; a tmpfs without a size gets b, and so
// does one above it where lower is set (the site's own tmpfs). A size
// the kernel would read as something else than a number of bytes (a
// share of the node's memory, pages) is refused: it cannot be compared.
func boundTmpfs(target, opts string, b sizeBound, lower bool) (string, error) {
	parts := splitOptions(opts)
	at := -1
	for i, o := range parts {
		key, val, _ := strings.Cut(o, "=")
		switch key {
		case "size":
			if at >= 0 {
				return "", refusal.New("sizes", "--tmpfs %s: give its size once", target).By(b.key)
			}
			at = i
			n, ok := kernelSize(val)
			if !ok {
				d, err := units.RAMInBytes(val)
				if err != nil || strings.HasSuffix(val, "%") {
					return "", refusal.New("sizes", "--tmpfs %s: size=%s is not a size such as 1g or 512m", target, val).By(b.key)
				}
				n = uint64(d)
				parts[i] = "size=" + strconv.FormatInt(d, 10)
			}
			if n > uint64(b.max) {
				if !lower {
					return "", refusal.New("sizes", "--tmpfs %s: size=%s is more than %s", target, val, b.why).By(b.key)
				}
				parts[i] = "size=" + strconv.FormatInt(b.max, 10)
			}
		case "nr_blocks":
			return "", refusal.New("sizes", "--tmpfs %s: nr_blocks is not allowed on this system: give size= instead", target).By(b.key)
		}
	}
	if at < 0 {
		parts = append(parts, "size="+strconv.FormatInt(b.max, 10))
	}
	return strings.Join(parts, ","), nil
}

// withSize is opts with every size option replaced by size=n.
func withSize(opts string, n int64) string {
	var out []string
	for _, o := range splitOptions(opts) {
		if key, _, _ := strings.Cut(o, "="); key != "size" && key != "nr_blocks" {
			out = append(out, o)
		}
	}
	return strings.Join(append(out, "size="+strconv.FormatInt(n, 10)), ",")
}

func splitOptions(opts string) []string {
	if opts == "" {
		return nil
	}
	return strings.Split(opts, ",")
}

// kernelSize reads a tmpfs size as the kernel's memparse does (a number
// in C's bases: 0x hex, leading 0 octal, else decimal, then an optional
// k, m, g, t, p or e), in bytes. ok is false for anything else, a share
// of memory ("50%") included.
func kernelSize(s string) (uint64, bool) {
	digits, base := s, 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		digits, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		digits, base = s[1:], 8
	}
	end := 0
	for end < len(digits) && digitValue(digits[end]) < base {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits[:end], base, 64)
	if err != nil {
		return 0, false
	}
	suffix := strings.ToLower(digits[end:])
	shift := strings.Index("kmgtpe", suffix)
	switch {
	case suffix == "":
		return n, true
	case len(suffix) != 1 || shift < 0:
		return 0, false
	}
	bits := 10 * uint(shift+1)
	if n > (^uint64(0))>>bits {
		return 0, false
	}
	return n << bits, true
}

func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

// checkSizes: the final request asks for no more shared memory, memory
// or tmpfs than run.limits and the job's memory allow, each tmpfs with
// one size the kernel reads as bytes. A container without --shm-size
// gets the daemon's default (64m, or daemon.json's default-shm-size),
// which is the admin's.
func checkSizes(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	if b := boundOf(shmSize, pol, f); b.max > 0 && p.Host.ShmSize > b.max {
		out = append(out, fmt.Sprintf("the container's /dev/shm of %s is more than %s", policy.Bytes(p.Host.ShmSize), b.why))
	}
	if l := pol.Run.Limits.Memory; l.Set() && (p.Host.Memory <= 0 || p.Host.Memory > int64(l.Max)) {
		out = append(out, "the container's memory limit must be within the "+l.Text+" this system allows (run.limits.memory)")
	}
	b := boundOf(tmpfsSize, pol, f)
	if b.max == 0 {
		return out
	}
	for _, target := range slices.Sorted(maps.Keys(p.Host.Tmpfs)) {
		var sizes []string
		for _, o := range splitOptions(p.Host.Tmpfs[target]) {
			if key, val, _ := strings.Cut(o, "="); key == "size" || key == "nr_blocks" {
				sizes = append(sizes, o)
				if n, ok := kernelSize(val); key != "size" || !ok || n > uint64(b.max) {
					out = append(out, "tmpfs "+target+": "+o+" is not within "+b.why)
				}
			}
		}
		if len(sizes) != 1 {
			out = append(out, "tmpfs "+target+" must have one size within "+b.why)
		}
	}
	return out
}
