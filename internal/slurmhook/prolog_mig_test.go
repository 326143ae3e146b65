package slurmhook

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/gpu"
)

// TestPrologMIG: a job given a MIG device (gres.conf MultipleFiles=) is
// recorded with the MIG device's UUID, found through NVML by the GPU and
// compute instance its capability files name.
func TestPrologMIG(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	var log bytes.Buffer
	cfg, s := testPrologConfig(t, dir, &log)
	// NVML GPU 7 has minor 0 (/dev/nvidia0); split it: slot 0 is GI 2/CI 0,
	// slot 1 is GI 1/CI 0.
	d := s.Devices[7].(*dgxa100.Device)
	d.MigMode = nvml.DEVICE_MIG_ENABLE
	d.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	migs := []string{"MIG-aaaaaaaa-0000-4000-8000-000000000000", "MIG-bbbbbbbb-0000-4000-8000-000000000000"}
	d.GetMigDeviceHandleByIndexFunc = func(n int) (nvml.Device, nvml.Return) {
		if n > 1 {
			return nil, nvml.ERROR_NOT_FOUND
		}
		return &mock.Device{
			GetUUIDFunc:              func() (string, nvml.Return) { return migs[n], nvml.SUCCESS },
			GetNameFunc:              func() (string, nvml.Return) { return "A100 MIG", nvml.SUCCESS },
			GetMemoryInfoFunc:        func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.SUCCESS },
			GetGpuInstanceIdFunc:     func() (int, nvml.Return) { return 2 - n, nvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, nvml.Return) { return 0, nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	files := map[string]string{
		"/etc/slurm/gres.conf": "Name=gpu File=/dev/nvidia1\n" +
			"Name=gpu MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21,/dev/nvidia-caps/nvidia-cap22\n",
		gpu.MIGMinorsPath: "gpu0/gi1/access 21\ngpu0/gi1/ci0/access 22\ngpu0/gi2/access 30\ngpu0/gi2/ci0/access 31\n",
	}
	cfg.ReadFile = func(path string) ([]byte, error) {
		if text, ok := files[path]; ok {
			return []byte(text), nil
		}
		return nil, fmt.Errorf("unexpected read of %s", path)
	}
	cfg.StatMinors = func(fs []string) (map[string]int, error) {
		m := map[string]int{}
		for _, f := range fs {
			var n int
			if _, err := fmt.Sscanf(strings.TrimPrefix(f, "/dev/nvidia-caps/nvidia-cap"), "%d", &n); err == nil {
				m[f] = n
			} else if _, err := fmt.Sscanf(f, "/dev/nvidia%d", &n); err == nil {
				m[f] = n
			} else {
				return nil, err
			}
		}
		return m, nil
	}
	env := baseEnv()
	env["SLURM_JOB_GPUS"] = "1,0"
	if err := Prolog(env, cfg); err != nil {
		t.Fatalf("Prolog: %v", err)
	}
	got, err := alloc.ReadRecord(dir, "42", 2001)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{migs[1], s.Devices[6].(*dgxa100.Device).UUID}
	if !reflect.DeepEqual(got.GPUUUIDs, want) || got.GPUError != "" {
		t.Errorf("recorded GPUs %v (error %q), want %v: GRES 1 is GI 1/CI 0 of NVML GPU 7, which NVML lists second", got.GPUUUIDs, got.GPUError, want)
	}
}
