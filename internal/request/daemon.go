package request

import (
	"github.com/docker/docker/api/types/versions"
)

// Engine kinds, the values of Daemon.Engine.
const (
	EngineDocker = "docker"
	EnginePodman = "podman"
)

// Daemon is what userdocker knows of the container engine behind
// docker_host: which engine it is, its version, the Engine API version the
// client negotiated with it, and whether it injects CDI devices. The edge
// learns it once per connection (internal/engine: from the headers of
// the first answer, and Info for CDI); the pure core and the engine read
// what differs from it. Measured differences: docs/notes/podman.md and
// docs/compatibility.md.
type Daemon struct {
	// Engine is EngineDocker or EnginePodman: Podman answers every call
	// with a Libpod-Api-Version header.
	Engine string `json:"engine"`
	// Version is the engine's release: "20.10.24+dfsg1" (from dockerd's
	// Server header), "4.3.1" (Podman's Libpod-Api-Version); "" when the
	// daemon did not say.
	Version string `json:"version,omitempty"`
	// API is the negotiated Engine API version ("1.41").
	API string `json:"api"`
	// CDI says that the daemon honours DeviceRequest{Driver: "cdi"}:
	// Docker 25+ with its cdi feature on (Info.CDISpecDirs not empty),
	// Podman 5.5+. Known only when asked for (CDIKnown).
	CDI      bool `json:"cdi"`
	CDIKnown bool `json:"-"`
	// CDISpecDirs are the daemon's CDI spec directories, where it says
	// (Docker 25+, API 1.44).
	CDISpecDirs []string `json:"cdi_spec_dirs,omitempty"`
}

// Podman reports whether the daemon is Podman's Docker-compatible service.
func (d Daemon) Podman() bool { return d.Engine == EnginePodman }

// Name is the engine and its version, for messages: "Docker 20.10.24+dfsg1",
// "Podman 4.3.1".
func (d Daemon) Name() string {
	name := "Docker"
	if d.Podman() {
		name = "Podman"
	}
	if d.Version == "" {
		return name
	}
	return name + " " + d.Version
}

// atLeast compares the engine's release with v; an unknown release counts
// as the oldest.
func (d Daemon) atLeast(v string) bool {
	return d.Version != "" && versions.GreaterThanOrEqualTo(d.Version, v)
}

// WaitRemovedWorks reports whether waiting for the condition "removed"
// returns a --rm container's real exit status. Podman before 4.6 answers
// 0 (containers/podman#18889, fixed in 4.6.0; measured on 4.3.1).
func (d Daemon) WaitRemovedWorks() bool { return !d.Podman() || d.atLeast("4.6.0") }

// StartErrorAtAttach reports whether a container whose start will fail
// makes the attach before the start fail instead: Podman runs the OCI
// runtime's create when a client attaches, and answers a bare 409 without
// the runtime's message (measured on 4.3.1).
func (d Daemon) StartErrorAtAttach() bool { return d.Podman() }

// DetachKeys reports whether the daemon acts on detach keys, ending the
// attach stream and leaving the container running. Podman does not (it
// passes the keys on to the container; measured on 4.3.1): userdocker
// then watches for them itself in run and attach, and detaches by closing
// the connection (exec refuses --detach-keys there).
func (d Daemon) DetachKeys() bool { return !d.Podman() }

// RaisesRlimits reports whether the daemon raises a container's nofile and
// nproc limits (to 1048576 and more) when the request does not set them,
// as rootful Podman does; Docker leaves the daemon's own.
func (d Daemon) RaisesRlimits() bool { return d.Podman() }

// StopSignalParam reports whether the negotiated API carries a stop's
// signal: the client drops it below API 1.42 (Docker 23, Podman 5.8's
// compat API), and the container's own stop signal is sent instead.
func (d Daemon) StopSignalParam() bool { return versions.GreaterThanOrEqualTo(d.API, "1.42") }

// DeviceRequestDrivers reports whether the daemon honours device requests
// of driver: Docker's "nvidia" driver (registered when the NVIDIA hook is
// on dockerd's PATH; the daemon refuses the request otherwise), and "cdi"
// where CDI says so. Podman before 5.5 drops every device request without
// a word, and from 5.5 takes the "cdi" ones only.
func (d Daemon) DeviceRequestDrivers(driver string) bool {
	switch {
	case driver == "cdi":
		return d.CDI
	case d.Podman():
		return false
	}
	return true
}

// PodmanCDIVersion is the first Podman whose Docker API takes
// DeviceRequest{Driver: "cdi"} (containers/podman commit 18e29076f7,
// "pkg/api: honor cdi devices from the hostconfig").
const PodmanCDIVersion = "5.5.0"

// DockerCDIAPI is the first Engine API version (Docker 25) whose daemon
// can inject CDI devices, and reports its spec directories in Info.
const DockerCDIAPI = "1.44"

// CDIFrom reports whether a daemon of this engine, version and API
// injects CDI devices, given the spec directories its Info lists: Docker
// lists them only while its cdi feature is on (off by default before 28.2).
func (d Daemon) CDIFrom(specDirs []string) bool {
	if d.Podman() {
		return d.atLeast(PodmanCDIVersion)
	}
	return versions.GreaterThanOrEqualTo(d.API, DockerCDIAPI) && len(specDirs) > 0
}
