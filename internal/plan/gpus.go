package plan

import (
	"slices"
	"strconv"

	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// SelectGPUs narrows the GPUs available to this run (the job's, or the
// reserved ones) to what the user's --gpus asks for. Without --gpus, or with
// --gpus all, the run gets all of them; --gpus N takes the first N;
// --gpus device=X,Y takes those, named by ID or by position in the list.
// Asking for more than is available is refused: the grant never widens.
func SelectGPUs(available []string, req *request.Run) ([]string, error) {
	if req.GPUs == "" {
		return available, nil
	}
	if len(available) == 0 {
		return nil, refusal.New("gpus", "--gpus %s: no GPUs are available to you here (ask Slurm for them: srun --gres=gpu:N)", req.GPUs)
	}
	var dr *containerDeviceRequest
	for i := range req.Host.DeviceRequests {
		dr = &req.Host.DeviceRequests[i]
	}
	if dr == nil {
		return available, nil
	}
	if dr.Driver != "" && dr.Driver != "nvidia" {
		return nil, refusal.New("gpus", "--gpus driver=%s is not allowed on this system", dr.Driver)
	}
	switch {
	case len(dr.DeviceIDs) > 0:
		var out []string
		for _, id := range dr.DeviceIDs {
			got, ok := pickGPU(available, id)
			if !ok {
				return nil, refusal.New("gpus", "--gpus device=%s: not one of your GPUs (%s)", id, visibleDevices(available))
			}
			if !slices.Contains(out, got) {
				out = append(out, got)
			}
		}
		return out, nil
	case dr.Count == -1:
		return available, nil
	case dr.Count > len(available):
		return nil, refusal.New("gpus", "--gpus %d: only %d GPU(s) are available to you", dr.Count, len(available))
	default:
		return available[:dr.Count], nil
	}
}

func pickGPU(available []string, id string) (string, bool) {
	if slices.Contains(available, id) {
		return id, true
	}
	if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < len(available) {
		return available[i], true
	}
	return "", false
}
