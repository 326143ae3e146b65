package runflags

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/blkiodev"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/strslice"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// toRun turns the parsed options into a request, concern by concern.
func (p *parser) toRun(image string, cmd []string) (*request.Run, error) {
	o := p.opts
	r := &request.Run{
		Image:           image,
		Name:            o.name,
		Set:             p.rec.set,
		Order:           p.rec.order,
		EnvFiles:        o.envFile.GetSlice(),
		LabelFiles:      o.labelFile.GetSlice(),
		CIDFile:         o.cidFile,
		Detach:          o.detach,
		SigProxy:        o.sigProxy,
		DetachKeys:      o.detachKeys,
		Pull:            o.pull,
		Platform:        o.platform,
		GPUs:            o.gpus,
		NoDefaultMounts: o.noDefaultMounts,
		NoDefaultArgs:   o.noDefaultArgs,
		DryRun:          o.dryRun,
	}
	switch o.pull {
	case "", "always", "missing", "never":
	default:
		return nil, &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--pull\" flag: must be always, missing or never", o.pull)}
	}
	r.Config.Image = image
	if len(cmd) > 0 {
		r.Config.Cmd = strslice.StrSlice(cmd)
	}
	for _, step := range []func(*request.Run) error{
		p.process, p.security, p.devices, p.networking, p.storage, p.logging, p.health, p.resources,
	} {
		if err := step(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (p *parser) process(r *request.Run) error {
	o := p.opts
	c, h := &r.Config, &r.Host
	c.Hostname, c.Domainname = o.hostname, o.domainname
	c.User, c.WorkingDir = o.user, o.workdir
	c.Tty, c.OpenStdin = o.tty, o.interactive
	c.StopSignal = o.stopSignal
	if p.changed("stop-timeout") {
		t := o.stopTimeout
		c.StopTimeout = &t
	}
	if p.changed("entrypoint") {
		c.Entrypoint = strslice.StrSlice{o.entrypoint}
	}
	c.Env = o.env.GetSlice()
	c.Labels = toMap(o.label.GetSlice())
	h.Annotations = toMap(o.annotation.GetSlice())
	h.ReadonlyRootfs = o.readOnly
	if p.changed("init") {
		v := o.init
		h.Init = &v
	}
	h.GroupAdd = o.groupAdd.GetSlice()
	h.AutoRemove = o.rm
	rp, err := parseRestart(o.restart)
	if err != nil {
		return err
	}
	h.RestartPolicy = rp
	if h.AutoRemove && rp.Name != "" && rp.Name != container.RestartPolicyDisabled {
		return &refusal.UsageError{Msg: "conflicting options: cannot specify both --restart and --rm"}
	}
	for _, s := range o.ulimit.GetSlice() {
		u, err := units.ParseUlimit(s)
		if err != nil {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--ulimit\" flag: %v", s, err)}
		}
		h.Ulimits = append(h.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	return p.attach(r)
}

// attach decides which streams are attached, as docker run does.
func (p *parser) attach(r *request.Run) error {
	o, c := p.opts, &r.Config
	streams := o.attach.GetSlice()
	if o.detach {
		if len(streams) > 0 {
			return &refusal.UsageError{Msg: "conflicting options: cannot specify both --attach and --detach"}
		}
		return nil
	}
	if len(streams) == 0 {
		c.AttachStdout, c.AttachStderr = true, true
		c.AttachStdin = o.interactive
	}
	for _, s := range streams {
		switch strings.ToLower(s) {
		case "stdin":
			c.AttachStdin = true
		case "stdout":
			c.AttachStdout = true
		case "stderr":
			c.AttachStderr = true
		}
	}
	if c.AttachStdin {
		c.StdinOnce = true
	}
	return nil
}

func (p *parser) security(r *request.Run) error {
	o, h := p.opts, &r.Host
	h.Privileged = o.privileged
	h.CapAdd = o.capAdd.GetSlice()
	h.CapDrop = o.capDrop.GetSlice()
	h.SecurityOpt = o.securityOpt.GetSlice()
	h.UsernsMode = container.UsernsMode(o.userns)
	h.CgroupnsMode = container.CgroupnsMode(o.cgroupns)
	h.PidMode = container.PidMode(o.pid)
	h.IpcMode = container.IpcMode(o.ipc)
	h.UTSMode = container.UTSMode(o.uts)
	h.Runtime = o.runtime
	h.Isolation = container.Isolation(o.isolation)
	h.CgroupParent = o.cgroupParent
	return nil
}

func (p *parser) devices(r *request.Run) error {
	o, h := p.opts, &r.Host
	for _, s := range o.device.GetSlice() {
		d, err := parseDevice(s)
		if err != nil {
			return err
		}
		h.Devices = append(h.Devices, d)
	}
	h.DeviceCgroupRules = o.deviceCgroupRule.GetSlice()
	var err error
	if h.BlkioWeightDevice, err = weightDevices(o.blkioWeightDev.GetSlice()); err != nil {
		return err
	}
	for _, t := range []struct {
		dst  *[]*blkiodev.ThrottleDevice
		vals []string
		flag string
	}{
		{&h.BlkioDeviceReadBps, o.deviceReadBps.GetSlice(), "device-read-bps"},
		{&h.BlkioDeviceWriteBps, o.deviceWriteBps.GetSlice(), "device-write-bps"},
		{&h.BlkioDeviceReadIOps, o.deviceReadIops.GetSlice(), "device-read-iops"},
		{&h.BlkioDeviceWriteIOps, o.deviceWriteIops.GetSlice(), "device-write-iops"},
	} {
		if *t.dst, err = throttleDevices(t.flag, t.vals); err != nil {
			return err
		}
	}
	if o.gpus != "" {
		req, err := ParseGPUs(o.gpus)
		if err != nil {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--gpus\" flag: %v", o.gpus, err)}
		}
		h.DeviceRequests = append(h.DeviceRequests, req)
	}
	return nil
}

func (p *parser) networking(r *request.Run) error {
	o, c, h := p.opts, &r.Config, &r.Host
	exposed, bindings, err := nat.ParsePortSpecs(o.publish.GetSlice())
	if err != nil {
		return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument for \"--publish\" flag: %v", err)}
	}
	for _, e := range o.expose.GetSlice() {
		proto, ports := nat.SplitProtoPort(e)
		start, end, err := nat.ParsePortRangeToInt(ports)
		if err != nil {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--expose\" flag: %v", e, err)}
		}
		for i := start; i <= end; i++ {
			port, err := nat.NewPort(proto, strconv.Itoa(i))
			if err != nil {
				return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--expose\" flag: %v", e, err)}
			}
			exposed[port] = struct{}{}
		}
	}
	if len(exposed) > 0 {
		c.ExposedPorts = exposed
	}
	if len(bindings) > 0 {
		h.PortBindings = bindings
	}
	h.PublishAllPorts = o.publishAll
	h.DNS = o.dns.GetSlice()
	h.DNSOptions = o.dnsOpt.GetSlice()
	h.DNSSearch = o.dnsSearch.GetSlice()
	h.ExtraHosts = o.addHost.GetSlice()
	h.Links = o.link.GetSlice()
	mode := o.network
	if mode == "" {
		mode = "default"
	}
	h.NetworkMode = container.NetworkMode(mode)
	ep := &network.EndpointSettings{
		Aliases:    o.networkAlias.GetSlice(),
		MacAddress: o.mac,
	}
	if o.ip != "" || o.ip6 != "" || len(o.linkLocalIP.GetSlice()) > 0 {
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: o.ip, IPv6Address: o.ip6, LinkLocalIPs: o.linkLocalIP.GetSlice()}
	}
	if len(ep.Aliases) > 0 || ep.MacAddress != "" || ep.IPAMConfig != nil {
		r.Network.EndpointsConfig = map[string]*network.EndpointSettings{mode: ep}
	}
	return nil
}

func (p *parser) storage(r *request.Run) error {
	o, h := p.opts, &r.Host
	for _, s := range o.volume.GetSlice() {
		m, err := ParseVolume(s)
		if err != nil {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"-v, --volume\" flag: %v", s, err)}
		}
		r.Mounts = append(r.Mounts, m)
	}
	for _, s := range o.mount.GetSlice() {
		m, err := ParseMount(s)
		if err != nil {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--mount\" flag: %v", s, err)}
		}
		r.Mounts = append(r.Mounts, m)
	}
	for _, s := range o.tmpfs.GetSlice() {
		target, opts, _ := strings.Cut(s, ":")
		if !strings.HasPrefix(target, "/") {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--tmpfs\" flag: %q is not an absolute path", s, target)}
		}
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		h.Tmpfs[target] = opts
	}
	h.VolumesFrom = o.volumesFrom.GetSlice()
	h.VolumeDriver = o.volumeDriver
	h.StorageOpt = toMap(o.storageOpt.GetSlice())
	return nil
}

func (p *parser) logging(r *request.Run) error {
	r.Host.LogConfig = container.LogConfig{Type: p.opts.logDriver, Config: toMap(p.opts.logOpt.GetSlice())}
	return nil
}

func (p *parser) health(r *request.Run) error {
	o := p.opts
	if o.noHealthcheck {
		if o.healthCmd != "" || o.healthInterval != 0 || o.healthTimeout != 0 || o.healthRetries != 0 || o.healthStartPeriod != 0 {
			return &refusal.UsageError{Msg: "--no-healthcheck conflicts with --health-* options"}
		}
		r.Config.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		return nil
	}
	if o.healthCmd == "" && o.healthInterval == 0 && o.healthTimeout == 0 && o.healthRetries == 0 && o.healthStartPeriod == 0 && o.healthStartInterval == 0 {
		return nil
	}
	hc := &container.HealthConfig{
		Interval: o.healthInterval, Timeout: o.healthTimeout, StartPeriod: o.healthStartPeriod,
		StartInterval: o.healthStartInterval, Retries: o.healthRetries,
	}
	if o.healthCmd != "" {
		hc.Test = []string{"CMD-SHELL", o.healthCmd}
	}
	for _, d := range []struct {
		v    int64
		flag string
	}{{int64(hc.Interval), "--health-interval"}, {int64(hc.Timeout), "--health-timeout"}, {int64(hc.StartPeriod), "--health-start-period"}, {int64(hc.Retries), "--health-retries"}} {
		if d.v < 0 {
			return &refusal.UsageError{Msg: d.flag + " cannot be negative"}
		}
	}
	r.Config.Healthcheck = hc
	return nil
}

func (p *parser) resources(r *request.Run) error {
	o, h := p.opts, &r.Host
	res := &h.Resources
	res.Memory = o.memory.n
	res.MemoryReservation = o.memoryReservation.n
	res.MemorySwap = o.memorySwap.n
	res.KernelMemory = o.kernelMemory.n
	if o.memorySwappiness != -1 {
		if o.memorySwappiness < 0 || o.memorySwappiness > 100 {
			return &refusal.UsageError{Msg: fmt.Sprintf("invalid value: %d. Valid memory swappiness range is 0-100", o.memorySwappiness)}
		}
		v := o.memorySwappiness
		res.MemorySwappiness = &v
	}
	h.ShmSize = o.shmSize.n
	if o.cpus.n != 0 && (o.cpuPeriod != 0 || o.cpuQuota != 0) {
		return &refusal.UsageError{Msg: "conflicting options: cannot specify both --cpus and --cpu-period/--cpu-quota"}
	}
	res.NanoCPUs = o.cpus.n
	res.CPUShares = o.cpuShares
	res.CPUPeriod, res.CPUQuota = o.cpuPeriod, o.cpuQuota
	res.CPURealtimePeriod, res.CPURealtimeRuntime = o.cpuRtPeriod, o.cpuRtRuntime
	res.CPUCount, res.CPUPercent = o.cpuCount, o.cpuPercent
	res.CpusetCpus, res.CpusetMems = o.cpusetCPUs, o.cpusetMems
	if p.changed("pids-limit") || o.pidsLimit != 0 {
		v := o.pidsLimit
		res.PidsLimit = &v
	}
	res.BlkioWeight = o.blkioWeight
	if p.changed("oom-kill-disable") {
		v := o.oomKillDisable
		res.OomKillDisable = &v
	}
	h.OomScoreAdj = o.oomScoreAdj
	h.Sysctls = toMap(o.sysctl.GetSlice())
	res.IOMaximumBandwidth = uint64(o.ioMaxBandwidth.n)
	res.IOMaximumIOps = o.ioMaxIOps
	return nil
}

// toMap turns "k=v" (or "k", an empty value) entries into a map, later keys winning.
func toMap(kvs []string) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func parseRestart(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch rp.Name {
	case "", container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if hasCount {
			return rp, &refusal.UsageError{Msg: fmt.Sprintf("invalid restart policy %q: maximum retry count can only be used with on-failure", s)}
		}
	case container.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return rp, &refusal.UsageError{Msg: fmt.Sprintf("invalid restart policy %q: maximum retry count must be a non-negative integer", s)}
			}
			rp.MaximumRetryCount = n
		}
	default:
		return rp, &refusal.UsageError{Msg: fmt.Sprintf("invalid restart policy %q", s)}
	}
	return rp, nil
}

// parseDevice reads --device HOST[:CONTAINER][:PERMISSIONS] as typed:
// permissions not given stay empty (docker's CLI would make them "rwm";
// the policy decides what they become).
func parseDevice(s string) (container.DeviceMapping, error) {
	parts := strings.Split(s, ":")
	d := container.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0]}
	switch len(parts) {
	case 1:
	case 2:
		if isDevicePerm(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 3:
		if !isDevicePerm(parts[2]) {
			return d, &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device\" flag: bad permissions %q", s, parts[2])}
		}
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
	default:
		return d, &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device\" flag", s)}
	}
	return d, nil
}

func isDevicePerm(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	return strings.Trim(s, "rwm") == ""
}

func weightDevices(vals []string) ([]*blkiodev.WeightDevice, error) {
	var out []*blkiodev.WeightDevice
	for _, s := range vals {
		path, w, ok := strings.Cut(s, ":")
		n, err := strconv.ParseUint(w, 10, 16)
		if !ok || err != nil || !strings.HasPrefix(path, "/dev/") {
			return nil, &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--blkio-weight-device\" flag: want /dev/DEVICE:WEIGHT", s)}
		}
		out = append(out, &blkiodev.WeightDevice{Path: path, Weight: uint16(n)})
	}
	return out, nil
}

func throttleDevices(flag string, vals []string) ([]*blkiodev.ThrottleDevice, error) {
	var out []*blkiodev.ThrottleDevice
	for _, s := range vals {
		path, rate, ok := strings.Cut(s, ":")
		var n int64
		var err error
		if strings.HasSuffix(flag, "bps") {
			n, err = units.RAMInBytes(rate)
		} else {
			n, err = strconv.ParseInt(rate, 10, 64)
		}
		if !ok || err != nil || n < 0 || !strings.HasPrefix(path, "/dev/") {
			return nil, &refusal.UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--%s\" flag: want /dev/DEVICE:RATE", s, flag)}
		}
		out = append(out, &blkiodev.ThrottleDevice{Path: path, Rate: uint64(n)})
	}
	return out, nil
}
