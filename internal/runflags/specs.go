package runflags

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/request"
)

func checkNotEmpty(s string) (string, error) {
	if s == "" {
		return "", errors.New("value must not be empty")
	}
	return s, nil
}

func checkKeyValue(s string) (string, error) {
	k, _, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", errors.New("want KEY=VALUE")
	}
	return s, nil
}

// checkEnv accepts KEY=VALUE. docker would take a bare KEY from the client's
// environment; under sudo that is root's sanitized environment, not the
// user's, so a bare KEY is refused with a hint instead of leaking root's values.
func checkEnv(s string) (string, error) {
	k, _, ok := strings.Cut(s, "=")
	if k == "" {
		return "", errors.New("variable name must not be empty")
	}
	if !ok {
		return "", fmt.Errorf("%s has no value: userdocker runs under sudo and cannot see your environment; write %s=VALUE", k, k)
	}
	if strings.ContainsAny(k, " \t\n") {
		return "", fmt.Errorf("variable name %q contains whitespace", k)
	}
	return s, nil
}

func checkAttach(s string) (string, error) {
	switch strings.ToLower(s) {
	case "stdin", "stdout", "stderr":
		return s, nil
	}
	return "", fmt.Errorf("valid streams are STDIN, STDOUT and STDERR")
}

func checkUlimit(s string) (string, error) {
	if _, err := units.ParseUlimit(s); err != nil {
		return "", err
	}
	return s, nil
}

// ParseKeyValueFile parses an --env-file or --label-file: one KEY=VALUE per
// line, blank lines and lines starting with # ignored. what names the flag
// for messages. A line with only a KEY is refused for env files, for the
// reason given at checkEnv, and taken as an empty label for label files.
func ParseKeyValueFile(what string, data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if what == "env-file" {
			if _, err := checkEnv(line); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseGPUs parses --gpus like docker: "all", a count, or CSV fields
// count=N, device=ID[,ID…], capabilities=CAP[,CAP…], driver=NAME.
func ParseGPUs(s string) (container.DeviceRequest, error) {
	req := container.DeviceRequest{Capabilities: [][]string{{"gpu"}}}
	if s == "all" {
		req.Count = -1
		return req, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 {
			return req, errors.New("count must be positive")
		}
		req.Count = n
		return req, nil
	}
	fields, err := splitCSV(s)
	if err != nil {
		return req, err
	}
	var caps []string
	for i := 0; i < len(fields); i++ {
		key, val, ok := strings.Cut(fields[i], "=")
		if !ok {
			return req, fmt.Errorf("%q: want KEY=VALUE", fields[i])
		}
		switch key {
		case "count":
			if val == "all" {
				req.Count = -1
			} else if req.Count, err = strconv.Atoi(val); err != nil || req.Count <= 0 {
				return req, fmt.Errorf("count %q is not a positive number", val)
			}
		case "device":
			req.DeviceIDs = append(req.DeviceIDs, strings.Split(val, ",")...)
		case "capabilities":
			caps = append(caps, strings.Split(val, ",")...)
		case "driver":
			req.Driver = val
		default:
			return req, fmt.Errorf("unexpected key %q", key)
		}
	}
	if req.Count != 0 && len(req.DeviceIDs) > 0 {
		return req, errors.New("cannot set both count and device")
	}
	if len(caps) > 0 {
		req.Capabilities = [][]string{caps}
	}
	return req, nil
}

// splitCSV splits on commas outside double quotes, so that
// "device=0,1",capabilities=gpu works as with docker.
func splitCSV(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	return append(out, cur.String()), nil
}

// ParseVolume parses a -v/--volume value: [SOURCE:]TARGET[:OPTIONS].
// A SOURCE starting with / is a bind mount, any other a named volume; no
// SOURCE asks for an anonymous volume.
func ParseVolume(s string) (request.Mount, error) {
	m := request.Mount{Flag: "volume", Spec: s}
	parts := strings.Split(s, ":")
	var opts string
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	case 2:
		if strings.HasPrefix(parts[1], "/") {
			m.Source, m.Target = parts[0], parts[1]
		} else {
			m.Target, opts = parts[0], parts[1]
		}
	case 3:
		m.Source, m.Target, opts = parts[0], parts[1], parts[2]
	default:
		return m, errors.New("want [SOURCE:]TARGET[:OPTIONS]")
	}
	if !strings.HasPrefix(m.Target, "/") {
		return m, fmt.Errorf("target %q is not an absolute path", m.Target)
	}
	switch {
	case strings.HasPrefix(m.Source, "/"):
		m.Type = request.MountBind
	case m.Source == "" && len(parts) == 3:
		return m, errors.New("empty source")
	default:
		m.Type = request.MountVolume
	}
	if opts != "" {
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "ro":
				m.ReadOnly = true
			case "rw":
				m.ReadOnly = false
			case "":
				return m, errors.New("empty option")
			default:
				if !volumeModes[o] {
					return m, fmt.Errorf("invalid mode %q", o)
				}
				m.Options = append(m.Options, o)
			}
		}
	}
	return m, nil
}

// volumeModes are the -v options docker knows besides ro and rw.
var volumeModes = map[string]bool{
	"z": true, "Z": true, "nocopy": true, "consistent": true, "cached": true, "delegated": true,
	"shared": true, "rshared": true, "slave": true, "rslave": true, "private": true, "rprivate": true,
}

// ParseMount parses a --mount value: CSV of key=value fields.
func ParseMount(s string) (request.Mount, error) {
	m := request.Mount{Flag: "mount", Spec: s, Type: request.MountVolume}
	fields, err := splitCSV(s)
	if err != nil {
		return m, err
	}
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		switch strings.ToLower(key) {
		case "type":
			switch val {
			case "bind":
				m.Type = request.MountBind
			case "volume":
				m.Type = request.MountVolume
			case "tmpfs":
				m.Type = request.MountTmpfs
			default:
				m.Type = request.MountOther
				m.Options = append(m.Options, f)
			}
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Target = val
		case "readonly", "ro":
			if !hasVal {
				m.ReadOnly = true
				continue
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %q", key, val)
			}
			m.ReadOnly = b
		case "tmpfs-size":
			n, err := units.RAMInBytes(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for tmpfs-size: %q", val)
			}
			m.Options = append(m.Options, "size="+strconv.FormatInt(n, 10))
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for tmpfs-mode: %q", val)
			}
			m.Options = append(m.Options, fmt.Sprintf("mode=%o", mode))
		default:
			m.Options = append(m.Options, f)
		}
	}
	if m.Target == "" {
		return m, errors.New("target is required")
	}
	if !strings.HasPrefix(m.Target, "/") {
		return m, fmt.Errorf("target %q is not an absolute path", m.Target)
	}
	if m.Type == request.MountBind && m.Source == "" {
		return m, errors.New("source is required for bind mounts")
	}
	return m, nil
}
