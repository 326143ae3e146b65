package plan

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// Devices a site lists for containers of Slurm jobs (run.devices), such as
// RDMA's /dev/infiniband/uverbs* and rdma_cm: each pattern is expanded on
// the node at run time, because nodes differ and devices come and go.
// dockerd opens a device path as root and follows symlinks, so only a
// character device at a path no user can change is given: every
// directory above it root's and not writable by group or others, the
// entry itself not a symlink. GPUs never come this way.

// Device is what the edge found at one match of a run.devices pattern.
type Device struct {
	Path string
	// Mode is the entry's own mode (lstat): a symlink is not followed.
	Mode         fs.FileMode
	Major, Minor uint32
	// GPU: the device number is a GPU driver's (NVIDIA's, DRM's).
	GPU bool
	// UnsafeDir is the first directory above Path that is not root's or
	// that group or others may write, "" when there is none.
	UnsafeDir string
}

// DeviceMatches is what one pattern of run.devices matched.
type DeviceMatches struct {
	Devices []Device
	// Err is why the pattern could not be expanded, nil when it could.
	Err error
}

// DevicePatterns are the run.devices patterns whose matches the edge must
// look at for a run: none outside a job, where no device is given.
func DevicePatterns(pol *policy.Policy, inJob bool) []string {
	if !inJob {
		return nil
	}
	return append(slices.Clone(pol.Run.Devices.Always), pol.Run.Devices.Available...)
}

// unusable says why d cannot be given to a container, "" when it can.
func unusable(d Device) string {
	switch {
	case d.Mode&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case d.Mode&fs.ModeDevice == 0 || d.Mode&fs.ModeCharDevice == 0:
		return "is not a character device"
	case d.GPU:
		return fmt.Sprintf("is a GPU (device %d:%d): GPUs come from your Slurm job", d.Major, d.Minor)
	case d.UnsafeDir != "":
		return "is in " + d.UnsafeDir + ", which users other than root may change"
	}
	return ""
}

// devicePerms are the device permissions a container may get: read and
// write, never m (mknod), which would let it make device files of any
// number.
func validDevicePerms(perms string) bool {
	return perms != "" && strings.Trim(perms, "rw") == "" && len(perms) <= 2 && (len(perms) < 2 || perms[0] != perms[1])
}

// planDevices gives a container in a job the devices of run.devices.always
// and those its --device flags ask for among run.devices.available: a
// path one of the patterns matches, or a pattern itself, as written, for
// all its matches. Each keeps its path in the container and gets read and
// write access ("r" or "w" alone if the user asks). Outside a job no
// device is given and --device is refused.
func planDevices(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	p.Host.Devices = nil
	allowed := AllowedFlags(pol)["device"]
	typed := len(req.Set["device"]) > 0
	if f.Job == nil {
		if len(req.Host.Devices) > 0 && (allowed || !typed) {
			return []error{refusal.New("devices", "--device is allowed only inside a Slurm job on this system")}
		}
		return nil
	}
	var errs []error
	add := func(path, perms string) {
		if !slices.ContainsFunc(p.Host.Devices, func(d container.DeviceMapping) bool { return d.PathOnHost == path }) {
			p.Host.Devices = append(p.Host.Devices, container.DeviceMapping{PathOnHost: path, PathInContainer: path, CgroupPermissions: perms})
		}
	}
	for _, pat := range pol.Run.Devices.Always {
		m := f.Devices[pat]
		if m.Err != nil {
			errs = append(errs, refusal.New("devices", "run.devices.always entry %s: %v; tell your admin", pat, m.Err))
			continue
		}
		if len(m.Devices) == 0 {
			p.Notes = append(p.Notes, "run.devices.always entry "+pat+" matches no device on this node")
		}
		for _, d := range m.Devices {
			if why := unusable(d); why != "" {
				errs = append(errs, refusal.New("devices", "run.devices.always entry %s: %s %s; tell your admin", pat, d.Path, why))
				continue
			}
			add(d.Path, "rw")
		}
	}
	if typed && !allowed {
		return errs // checkArgs refuses the flag
	}
	for _, want := range req.Host.Devices {
		what := "--device " + want.PathOnHost
		perms := want.CgroupPermissions
		if perms == "" {
			perms = "rw"
		}
		switch {
		case want.PathInContainer != want.PathOnHost:
			errs = append(errs, refusal.New("devices", "%s: a device keeps its path in the container, not %s", what, want.PathInContainer))
			continue
		case !validDevicePerms(perms):
			errs = append(errs, refusal.New("devices", "%s:%s: only r and w are allowed on this system, not m (mknod)", what, want.CgroupPermissions))
			continue
		}
		devs, err := pickDevices(pol, f, want.PathOnHost, what)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, d := range devs {
			add(d.Path, perms)
		}
	}
	return errs
}

// pickDevices finds what --device path asks for: every match of an
// available pattern written as path, or the one match that is path. A
// match of an always pattern is there already.
func pickDevices(pol *policy.Policy, f Facts, path, what string) ([]Device, error) {
	if slices.Contains(pol.Run.Devices.Available, path) {
		m := f.Devices[path]
		if m.Err != nil {
			return nil, refusal.New("devices", "%s: %v", what, m.Err)
		}
		if len(m.Devices) == 0 {
			return nil, refusal.New("devices", "%s matches no device on this node", what)
		}
		for _, d := range m.Devices {
			if why := unusable(d); why != "" {
				return nil, refusal.New("devices", "%s: %s %s; tell your admin", what, d.Path, why)
			}
		}
		return m.Devices, nil
	}
	for _, group := range [][]string{pol.Run.Devices.Available, pol.Run.Devices.Always} {
		for _, pat := range group {
			for _, d := range f.Devices[pat].Devices {
				if d.Path != path {
					continue
				}
				if why := unusable(d); why != "" {
					return nil, refusal.New("devices", "%s %s; tell your admin", what, why)
				}
				return []Device{d}, nil
			}
		}
	}
	return nil, refusal.New("devices", "%s is not allowed on this system (available: %s)", what, orNoneText(pol.Run.Devices.Available))
}

func orNoneText(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

// grantedDevice reports whether d is a device the final request may carry:
// a usable match, now, of a run.devices pattern, in a job, at its own path,
// with read and write access at most.
func grantedDevice(d container.DeviceMapping, pol *policy.Policy, f Facts) bool {
	if f.Job == nil || d.PathInContainer != d.PathOnHost || !validDevicePerms(d.CgroupPermissions) {
		return false
	}
	for _, pat := range DevicePatterns(pol, true) {
		for _, m := range f.Devices[pat].Devices {
			if m.Path == d.PathOnHost && unusable(m) == "" {
				return true
			}
		}
	}
	return false
}
