package plan

import (
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
)

// The NVIDIA Container Toolkit decides what a container with GPUs gets
// from the container's own environment (NVIDIA/nvidia-container-toolkit:
// internal/config/image, cmd/nvidia-container-runtime-hook,
// internal/modifier; libnvidia-container gets what the hook passes on).
// Docker puts every variable of the image's ENV that the request does not
// set into that environment, and the hook lets the last of duplicate
// entries win. So userdocker sets each variable that grants something on
// every container, once, to the grant or to empty, and refuses it from the
// user: neither the user nor the image can choose it.
//
// Left to the image and the user, on purpose: NVIDIA_REQUIRE_* (other than
// JETPACK), NVIDIA_DISABLE_REQUIRE and CUDA_VERSION. They are constraints
// the hook checks against the host's driver before the container starts:
// they can keep a container from starting, never give it more. (A
// CUDA_VERSION without NVIDIA_REQUIRE_CUDA marks a "legacy" image, which
// gets every GPU and capability when NVIDIA_VISIBLE_DEVICES or
// NVIDIA_DRIVER_CAPABILITIES is unset; both are always set here.)

// EnvVisibleDevices is the variable the NVIDIA hook reads to pick GPUs.
// CUDA images carry NVIDIA_VISIBLE_DEVICES=all.
const EnvVisibleDevices = "NVIDIA_VISIBLE_DEVICES"

// EnvDriverCapabilities selects the parts of the driver the hook adds:
// libraries, tools and, for some (display: nvidia-modeset; graphics: the
// GPUs' DRM nodes), device nodes.
const EnvDriverCapabilities = "NVIDIA_DRIVER_CAPABILITIES"

// hookEnv are the variables userdocker sets on every container, in the
// order it sets them, with what a value in them would grant.
var hookEnv = []struct{ name, grants string }{
	{EnvVisibleDevices, "GPUs"},
	// The hook's swarm-resource setting names variables it prefers to
	// NVIDIA_VISIBLE_DEVICES; this is the name its documentation gives.
	{"DOCKER_RESOURCE_GPU", "GPUs, where the hook's swarm-resource setting names it"},
	{EnvDriverCapabilities, "driver capabilities"},
	{"NVIDIA_MIG_CONFIG_DEVICES", "MIG configuration of the GPUs"},
	{"NVIDIA_MIG_MONITOR_DEVICES", "MIG monitoring of the GPUs"},
	{"NVIDIA_IMEX_CHANNELS", "IMEX channel devices"},
	{"NVIDIA_GDS", "GPUDirect Storage devices (nvidia-fs)"},
	{"NVIDIA_MOFED", "InfiniBand devices"},
	{"NVIDIA_GDRCOPY", "the gdrdrv device"},
	{"NVIDIA_NVSWITCH", "NVSwitch devices"},
	{"NVIDIA_REQUIRE_JETPACK", "every host file of the CSV mount lists (csv-mounts=all)"},
}

// hookValue is what userdocker sets the hook variable name to for a
// container with the given GPUs.
func hookValue(name string, pol *policy.Policy, gpus []string) string {
	switch name {
	case EnvVisibleDevices, "DOCKER_RESOURCE_GPU":
		return visibleDevices(gpus)
	case EnvDriverCapabilities:
		if len(gpus) == 0 {
			return ""
		}
		return strings.Join(pol.GPU.DriverCapabilities, ",")
	}
	return ""
}

func isHookEnv(name string) bool {
	for _, h := range hookEnv {
		if h.name == name {
			return true
		}
	}
	return false
}

func visibleDevices(gpus []string) string {
	if len(gpus) == 0 {
		return "void"
	}
	return strings.Join(gpus, ",")
}

// loaderEnv are the variables with which glibc's dynamic loader, in any
// program it starts, loads code or writes files that the environment
// names. NVIDIA Container Toolkit before 1.17.8 runs a hook as root with
// the container's environment (CVE-2025-23266, "NVIDIAScape": an image's
// LD_PRELOAD ran its code as root on the host). glibc ignores these for
// setuid programs for the same reason; the hook is not one. Containers
// with GPUs may not have them unless gpu.allow_loader_env says the site's
// toolkit is fixed.
var loaderEnv = []string{
	"GCONV_PATH",        // loads character set conversion modules from there
	"GLIBC_TUNABLES",    // parsed by the loader itself (CVE-2023-4911)
	"LD_AUDIT",          // loads auditing libraries
	"LD_DEBUG_OUTPUT",   // writes the loader's debug output to that file
	"LD_LIBRARY_PATH",   // searches there for libraries first
	"LD_PRELOAD",        // loads those libraries first
	"LD_PROFILE",        // profiles that library …
	"LD_PROFILE_OUTPUT", // … writing the data there
}

// nvidiaDeviceLists are where the NVIDIA hook takes device requests from
// mounts (accept-nvidia-visible-devices-as-volume-mounts): a mount of
// /dev/null at <root>/<device> asks for that device, <root>/imex/<n> for
// an IMEX channel. The hook compares the mount's destination by string
// prefix; /run is where /var/run points in most images.
var nvidiaDeviceLists = []string{"/var/run/nvidia-container-devices", "/run/nvidia-container-devices"}
