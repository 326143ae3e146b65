package policy

// leaf is one configuration key that holds a value: the unit that files
// and overrides replace, that provenance is recorded for, and that Explain
// prints. A table such as run.env counts as one leaf and is replaced whole.
type leaf struct {
	key    string  // dotted, as in the top-level file: "run.args.allowed"
	decode decoder // converts and checks the decoded TOML value
	// expand: {user}, {uid}, {gid}, {home} and {job} expand in the value's
	// strings (map values, not map keys) when resolved for a caller.
	expand bool
	// systemOnly, when set, says why the key cannot be set in an
	// [[override]]: ud-prolog and ud-epilog have no caller and use the
	// system-wide value, so a per-user daemon or state directory would
	// escape their cleanup; the load spool is one per node.
	systemOnly string
	// field points into p at the value this leaf sets.
	field func(p *Policy) any
}

// leaves lists every key of the schema in the order Explain prints them.
var leaves = []leaf{
	{key: "docker_host", decode: str(dockerHost), systemOnly: hooksUseIt,
		field: func(p *Policy) any { return &p.DockerHost }},
	{key: "subcommands", decode: list(oneOf(knownSubcommands...)),
		field: func(p *Policy) any { return &p.Subcommands }},

	{key: "run.images", decode: patterns,
		field: func(p *Policy) any { return &p.Run.Images }},
	{key: "run.own_images", decode: boolean,
		field: func(p *Policy) any { return &p.Run.OwnImages }},
	{key: "run.pull", decode: str(oneOf("never", "missing", "always")),
		field: func(p *Policy) any { return &p.Run.Pull }},
	{key: "run.enforce_user", decode: boolean,
		field: func(p *Policy) any { return &p.Run.EnforceUser }},
	{key: "run.cap_drop", decode: list(capability),
		field: func(p *Policy) any { return &p.Run.CapDrop }},
	{key: "run.cap_add", decode: list(capability),
		field: func(p *Policy) any { return &p.Run.CapAdd }},
	{key: "run.no_new_privileges", decode: boolean,
		field: func(p *Policy) any { return &p.Run.NoNewPrivileges }},
	{key: "run.env", decode: stringMap(envName, anyString), expand: true,
		field: func(p *Policy) any { return &p.Run.Env }},
	{key: "run.publish", decode: patterns,
		field: func(p *Policy) any { return &p.Run.Publish }},
	{key: "run.host_namespaces", decode: list(oneOf(hostNamespaces...)),
		field: func(p *Policy) any { return &p.Run.HostNamespaces }},
	{key: "run.pass_env", decode: list(passEnvPattern),
		field: func(p *Policy) any { return &p.Run.PassEnv }},
	{key: "run.pmix", decode: str(oneOf("off", "mount")),
		field: func(p *Policy) any { return &p.Run.PMIx }},

	{key: "run.args.allowed", decode: listOf(flag),
		field: func(p *Policy) any { return &p.Run.Args.Allowed }},
	{key: "run.args.always", decode: listOf(flagArg), expand: true,
		field: func(p *Policy) any { return &p.Run.Args.Always }},
	{key: "run.args.default", decode: listOf(flagArg), expand: true,
		field: func(p *Policy) any { return &p.Run.Args.Default }},
	{key: "run.args.values", decode: flagValues,
		field: func(p *Policy) any { return &p.Run.Args.Values }},

	{key: "run.limits.shm_size", decode: limit,
		field: func(p *Policy) any { return &p.Run.Limits.ShmSize }},
	{key: "run.limits.memory", decode: limit,
		field: func(p *Policy) any { return &p.Run.Limits.Memory }},
	{key: "run.limits.tmpfs_size", decode: limit,
		field: func(p *Policy) any { return &p.Run.Limits.TmpfsSize }},

	{key: "run.mounts.always", decode: listOf(mountWithTarget), expand: true,
		field: func(p *Policy) any { return &p.Run.Mounts.Always }},
	{key: "run.mounts.default", decode: listOf(mountWithTarget), expand: true,
		field: func(p *Policy) any { return &p.Run.Mounts.Default }},
	{key: "run.mounts.available", decode: listOf(mount), expand: true,
		field: func(p *Policy) any { return &p.Run.Mounts.Available }},
	{key: "run.mounts.user_roots", decode: list(userRoot), expand: true,
		field: func(p *Policy) any { return &p.Run.Mounts.UserRoots }},
	{key: "run.mounts.probe", decode: boolean,
		field: func(p *Policy) any { return &p.Run.Mounts.Probe }},

	{key: "run.devices.always", decode: list(devicePattern),
		field: func(p *Policy) any { return &p.Run.Devices.Always }},
	{key: "run.devices.available", decode: list(devicePattern),
		field: func(p *Policy) any { return &p.Run.Devices.Available }},

	{key: "gpu.source", decode: str(oneOf("slurm", "reserve", "none")),
		field: func(p *Policy) any { return &p.GPU.Source }},
	{key: "gpu.default_count", decode: count,
		field: func(p *Policy) any { return &p.GPU.DefaultCount }},
	{key: "gpu.max_count", decode: count,
		field: func(p *Policy) any { return &p.GPU.MaxCount }},
	{key: "gpu.exclusive", decode: boolean,
		field: func(p *Policy) any { return &p.GPU.Exclusive }},
	{key: "gpu.delivery", decode: str(oneOf("device-requests", "nvidia-runtime", "cdi")),
		field: func(p *Policy) any { return &p.GPU.Delivery }},
	{key: "gpu.max_memory_used_mib", decode: count,
		field: func(p *Policy) any { return &p.GPU.MaxMemoryUsedMiB }},
	{key: "gpu.driver_capabilities", decode: list(oneOf(driverCapabilities...)),
		field: func(p *Policy) any { return &p.GPU.DriverCapabilities }},
	{key: "gpu.allow_loader_env", decode: boolean,
		field: func(p *Policy) any { return &p.GPU.AllowLoaderEnv }},

	{key: "slurm.state_dir", decode: str(stateDir), systemOnly: hooksUseIt,
		field: func(p *Policy) any { return &p.Slurm.StateDir }},
	{key: "slurm.outside_job", decode: str(oneOf("deny", "no-gpu", "allow")),
		field: func(p *Policy) any { return &p.Slurm.OutsideJob }},
	{key: "slurm.confine_cpus", decode: boolean,
		field: func(p *Policy) any { return &p.Slurm.ConfineCPUs }},
	{key: "slurm.confine_memory", decode: boolean,
		field: func(p *Policy) any { return &p.Slurm.ConfineMemory }},
	{key: "slurm.max_containers_per_job", decode: positiveCount,
		field: func(p *Policy) any { return &p.Slurm.MaxContainersPerJob }},
	{key: "slurm.job_pids_limit", decode: positiveCount,
		field: func(p *Policy) any { return &p.Slurm.JobPidsLimit }},
	{key: "slurm.stop_timeout", decode: duration,
		field: func(p *Policy) any { return &p.Slurm.StopTimeout }},
	// The epilog acts for no caller: only the system-wide value can apply.
	{key: "slurm.epilog_budget", decode: positiveDuration, systemOnly: hooksUseIt,
		field: func(p *Policy) any { return &p.Slurm.EpilogBudget }},

	{key: "limits.memory", decode: size(0),
		field: func(p *Policy) any { return &p.Limits.Memory }},
	{key: "limits.cpus", decode: cpus,
		field: func(p *Policy) any { return &p.Limits.CPUs }},
	{key: "limits.pids", decode: positiveCount,
		field: func(p *Policy) any { return &p.Limits.Pids }},

	{key: "load.max_size", decode: size(1),
		field: func(p *Policy) any { return &p.Load.MaxSize }},
	{key: "load.spool_dir", decode: str(stateDir), systemOnly: oneSpool,
		field: func(p *Policy) any { return &p.Load.SpoolDir }},
	{key: "load.min_free", decode: size(0), systemOnly: oneSpool,
		field: func(p *Policy) any { return &p.Load.MinFree }},

	{key: "audit.log", decode: str(auditLog), expand: true,
		field: func(p *Policy) any { return &p.Audit.Log }},
}

// Why keys are systemOnly.
const (
	hooksUseIt = "ud-prolog and ud-epilog use the system-wide value"
	oneSpool   = "a node has one load spool, shared by all users"
)

// tables are the keys that hold tables of further keys rather than values.
var tables = map[string]bool{
	"run":         true,
	"run.args":    true,
	"run.limits":  true,
	"run.mounts":  true,
	"run.devices": true,
	"gpu":         true,
	"slurm":       true,
	"limits":      true,
	"load":        true,
	"audit":       true,
}

// overrideKey is the array of tables that holds per-group and per-user
// overrides; it is valid only at the top level of a file.
const overrideKey = "override"

var leafByKey = func() map[string]*leaf {
	m := make(map[string]*leaf, len(leaves))
	for i := range leaves {
		m[leaves[i].key] = &leaves[i]
	}
	return m
}()
