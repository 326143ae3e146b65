package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/gpuuse"
	"github.com/userdocker/userdocker/internal/refusal"
)

// psGPUOptions are ps's GPU views; at most one may be chosen.
type psGPUOptions struct {
	used, free, mine bool
}

// psGPUFlags declares the GPU views' flags.
func psGPUFlags(fs *pflag.FlagSet, o *psGPUOptions) {
	fs.BoolVar(&o.used, "gpu-used", false, "Show which containers, users and jobs use the node's GPUs")
	fs.BoolVar(&o.free, "gpu-free", false, "Show the GPUs no job, reservation, container or process holds")
	fs.BoolVar(&o.mine, "gpu-mine", false, "Show the GPUs you use or hold")
}

// chosen returns the flag of the chosen view ("" for none), or a usage
// error when more than one was chosen.
func (o psGPUOptions) chosen() (string, error) {
	var set []string
	for _, v := range []struct {
		on   bool
		flag string
	}{{o.used, "--gpu-used"}, {o.free, "--gpu-free"}, {o.mine, "--gpu-mine"}} {
		if v.on {
			set = append(set, v.flag)
		}
	}
	if len(set) > 1 {
		return "", refusal.Usagef("cannot specify both %s and %s", set[0], set[1])
	}
	if len(set) == 0 {
		return "", nil
	}
	return set[0], nil
}

// psGPU shows a GPU view. It works inside and outside a job: what it
// shows comes from NVML, the processes' cgroups, the containers' labels
// and the state directory, never from the caller's environment. Other
// users' containers appear with their user and job, as nvidia-smi shows
// every process on a GPU; their names and commands do not.
func (a *app) psGPU(ctx context.Context, o psGPUOptions) error {
	view, err := o.chosen()
	if err != nil || view == "" {
		return err
	}
	snap, err := gather.GPUs(ctx, a.pol, "ps "+view)
	if err != nil {
		return err
	}
	switch view {
	case "--gpu-free":
		return gpuuse.WriteFree(a.env.Stdout, gpuuse.Free(snap))
	case "--gpu-mine":
		return gpuuse.WriteRows(a.env.Stdout, gpuuse.Mine(snap, a.who.UID))
	default:
		return gpuuse.WriteRows(a.env.Stdout, gpuuse.Used(snap))
	}
}
