package gather

import (
	"context"
	"fmt"
	"slices"

	"tags.cncf.io/container-device-interface/pkg/cdi"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
)

// CDI gathers what `config check` judges of CDI delivery (plan.JudgeCDI):
// the daemon and whether it injects CDI devices; the specs in the
// daemon's spec directories where it names them, else in dirs (CDI's
// defaults, /etc/cdi and /var/run/cdi, when dirs is empty), read with the
// CDI project's own library, as the daemons read them; and the node's
// GPUs from gpus.
func CDI(ctx context.Context, eng *engine.Engine, dirs []string, gpus func() ([]plan.NodeGPU, error)) plan.CDIFacts {
	var f plan.CDIFacts
	if d, err := eng.CDI(ctx); err != nil {
		f.DaemonErr = err.Error()
	} else {
		f.Daemon = &d
		if len(d.CDISpecDirs) > 0 {
			dirs = d.CDISpecDirs
		}
	}
	if len(dirs) == 0 {
		dirs = cdi.DefaultSpecDirs
	}
	f.Dirs = dirs
	f.Devices, f.SpecErrors = readSpecs(dirs)
	if gpus != nil {
		var err error
		if f.GPUs, err = gpus(); err != nil {
			f.GPUs, f.GPUsErr = nil, err.Error()
		}
	}
	return f
}

// readSpecs reads the CDI specs of dirs (later ones win, as in CDI) once,
// with no directory watch.
func readSpecs(dirs []string) (map[string]plan.CDIDevice, []string) {
	cache, _ := cdi.NewCache(cdi.WithAutoRefresh(false), cdi.WithSpecDirs(dirs...))
	devices := map[string]plan.CDIDevice{}
	for _, name := range cache.ListDevices() {
		d := cache.GetDevice(name)
		if d == nil {
			continue
		}
		dev := plan.CDIDevice{Spec: d.GetSpec().GetPath()}
		for _, n := range d.ContainerEdits.DeviceNodes {
			if n != nil {
				dev.Nodes = append(dev.Nodes, n.Path)
			}
		}
		for _, h := range append(slices.Clone(d.ContainerEdits.Hooks), d.GetSpec().ContainerEdits.Hooks...) {
			if h != nil && len(h.Env) == 0 {
				dev.HooksWithoutEnv++
			}
		}
		devices[name] = dev
	}
	var errs []string
	for path, es := range cache.GetErrors() {
		for _, e := range es {
			errs = append(errs, fmt.Sprintf("%s: %v", path, e))
		}
	}
	for dir, e := range cache.GetSpecDirErrors() {
		errs = append(errs, fmt.Sprintf("%s: %v", dir, e))
	}
	slices.Sort(errs)
	return devices, errs
}

// NodeGPUs lists the node's GPUs and MIG devices from NVML.
func NodeGPUs() ([]plan.NodeGPU, error) {
	lib, err := openGPUs("GPUs")
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	devs, err := lib.Devices()
	if err != nil {
		return nil, err
	}
	var out []plan.NodeGPU
	for _, d := range devs {
		out = append(out, plan.NodeGPU{UUID: d.UUID, Minor: d.Minor})
		for _, m := range d.MIG {
			out = append(out, plan.NodeGPU{UUID: m.UUID, Minor: -1})
		}
	}
	return out, nil
}
