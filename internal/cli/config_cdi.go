package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
)

// cdiProblem is a problem of GPU delivery by CDI that `config check`
// found on this node: not in the files, but in what they ask of it.
type cdiProblem struct{ msg string }

func (p *cdiProblem) Error() string { return p.msg }
func (p *cdiProblem) hint() string {
	return "see \"GPUs by CDI\" in docs/admin-guide.md: the daemon must inject CDI devices, and each GPU needs a spec device named by its UUID (nvidia-ctk cdi generate)"
}

// daemonCheck is what `config check` says about the daemon behind
// docker_host, when Env.CheckDaemon asks for it: on Podman, or with
// gpu.delivery = "cdi", which engine it is, whether it injects CDI
// devices, and how the node's GPUs and CDI specs match (plan.JudgeCDI).
// Nothing for dockerd without CDI delivery.
func (a *app) daemonCheck(ctx context.Context, sys *policy.Policy) (problems []error, warnings, notes []string) {
	if !a.env.CheckDaemon || sys == nil {
		return nil, nil, nil
	}
	eng, err := engine.New(sys.DockerHost)
	if err != nil {
		return nil, []string{fmt.Sprintf("docker_host %s: %v", sys.DockerHost, err)}, nil
	}
	defer eng.Close()
	d, err := eng.Daemon(ctx)
	if err != nil {
		if sys.GPU.Delivery == "cdi" {
			return nil, []string{"gpu.delivery is \"cdi\", and the daemon could not be asked about CDI: " + err.Error()}, nil
		}
		return nil, nil, nil
	}
	if !d.Podman() && sys.GPU.Delivery != "cdi" {
		return nil, nil, nil
	}
	notes = append(notes, fmt.Sprintf("daemon: %s (Docker API %s) at %s", d.Name(), d.API, sys.DockerHost))
	if d.Podman() && sys.GPU.Delivery != "cdi" && sys.GPU.Source != "none" {
		warnings = append(warnings, fmt.Sprintf("gpu.delivery = %q does not work on Podman (it drops NVIDIA device requests): every run with GPUs is refused; use gpu.delivery = \"cdi\" with Podman %s or later, or gpu.source = \"none\"", sys.GPU.Delivery, "5.5.0"))
	}
	if sys.GPU.Delivery != "cdi" {
		return nil, warnings, notes
	}
	f := gather.CDI(ctx, eng, a.env.CDISpecDirs, a.env.NodeGPUs)
	f.Delivery = sys.GPU.Delivery
	ps, ws, ns := plan.JudgeCDI(f)
	for _, p := range ps {
		problems = append(problems, &cdiProblem{msg: p})
	}
	return problems, append(warnings, ws...), append(notes, ns...)
}
