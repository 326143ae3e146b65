package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/userdocker/userdocker/internal/request"
)

// CDIFacts are what `config check` found out about CDI delivery on this
// node (internal/gather reads them): the daemon, the CDI specs and the
// node's GPUs.
type CDIFacts struct {
	// Delivery is the system policy's gpu.delivery.
	Delivery string
	// Daemon is the engine behind docker_host with CDI known; nil when it
	// could not be asked (DaemonErr says why).
	Daemon    *request.Daemon
	DaemonErr string
	// Dirs are the spec directories read: the daemon's, where it says,
	// else CDI's defaults.
	Dirs []string
	// Devices are the specs' devices by qualified name.
	Devices map[string]CDIDevice
	// SpecErrors are the specs that did not load ("path: why").
	SpecErrors []string
	// GPUs are the node's GPUs and MIG devices; nil when NVML is not
	// there (GPUsErr says why).
	GPUs    []NodeGPU
	GPUsErr string
}

// CDIDevice is one device of a CDI spec.
type CDIDevice struct {
	Spec string // the spec file
	// Nodes are the device nodes it adds (container paths).
	Nodes []string
	// HooksWithoutEnv counts the hooks of the device and of its spec that
	// set no environment: nvidia-ctk before 1.17.8 wrote them so, and
	// such a createContainer hook inherits the container's LD_PRELOAD
	// (CVE-2025-23266).
	HooksWithoutEnv int
}

// NodeGPU is one GPU or MIG device of the node, as NVML names it.
type NodeGPU struct {
	UUID string
	// Minor is the GPU's /dev/nvidiaN minor; -1 for a MIG device.
	Minor int
}

// JudgeCDI is what `config check` says about GPU delivery by CDI:
// problems when gpu.delivery is "cdi" and it cannot work (a daemon
// without CDI, a node GPU without a spec device, or one whose device
// does not add the GPU's node), warnings otherwise and for broken or
// vulnerable specs, and notes on what was found.
func JudgeCDI(f CDIFacts) (problems, warnings, notes []string) {
	cdi := f.Delivery == "cdi"
	flag := func(msg string) {
		if cdi {
			problems = append(problems, msg)
		} else {
			warnings = append(warnings, msg)
		}
	}
	switch d := f.Daemon; {
	case d == nil:
		flag("daemon not asked whether it injects CDI devices: " + f.DaemonErr)
	case d.CDI:
		notes = append(notes, "cdi: "+d.Name()+" (API "+d.API+") injects CDI devices")
	case cdi:
		problems = append(problems, `gpu.delivery is "cdi", and `+d.Name()+" does not inject CDI devices ("+cdiNeeds(*d)+"): every run with GPUs is refused")
	default:
		notes = append(notes, "cdi: "+d.Name()+" (API "+d.API+") does not inject CDI devices ("+cdiNeeds(*d)+")")
	}
	hooks := 0
	for _, name := range slices.Sorted(maps.Keys(f.Devices)) {
		if f.Devices[name].HooksWithoutEnv > 0 {
			hooks++
		}
	}
	notes = append(notes, fmt.Sprintf("cdi: spec dirs %s: %d devices, %d specs that did not load", strings.Join(f.Dirs, ", "), len(f.Devices), len(f.SpecErrors)))
	for _, e := range f.SpecErrors {
		warnings = append(warnings, "CDI spec "+e)
	}
	if hooks > 0 {
		warnings = append(warnings, fmt.Sprintf("%d CDI devices have hooks without env: written by nvidia-ctk before 1.17.8, such hooks run with the container's LD_PRELOAD (CVE-2025-23266): regenerate the specs", hooks))
	}
	if f.GPUs == nil && f.GPUsErr != "" {
		flag("the node's GPUs not checked against the CDI specs: " + f.GPUsErr)
	}
	for _, g := range f.GPUs {
		name, _ := CDIName(g.UUID)
		dev, ok := f.Devices[name]
		node := fmt.Sprintf("/dev/nvidia%d", g.Minor)
		switch {
		case !ok:
			what := g.UUID
			if g.Minor >= 0 {
				what += " (" + node + ")"
			}
			flag("GPU " + what + " has no CDI device " + name + " in " + strings.Join(f.Dirs, ", "))
		case g.Minor >= 0 && !slices.Contains(dev.Nodes, node):
			flag("CDI device " + name + " (" + dev.Spec + ") does not add " + node + ", the GPU's device node (it adds " + strings.Join(dev.Nodes, ", ") + ")")
		}
	}
	return problems, warnings, notes
}
