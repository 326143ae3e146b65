package runflags

import (
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/request"
)

// FuzzParseVolume: -v values. No panic; a bind mount always has an
// absolute source and target, so the policy's path checks see real paths.
func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{
		"/data", "/data:/data", "/data:/data:ro", "vol:/x:rw,z", "/a:/b:ro,rw,nocopy",
		"::", "/a:b", ":/x:ro", "/a:/b:c:d", "/a:/b:", "relative:/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseVolume(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(m.Target, "/") {
			t.Fatalf("ParseVolume(%q) accepted target %q", s, m.Target)
		}
		if m.Type == request.MountBind && !strings.HasPrefix(m.Source, "/") {
			t.Fatalf("ParseVolume(%q) made a bind mount of %q", s, m.Source)
		}
	})
}

// FuzzParseMount: --mount values. No panic; whatever parses has a target.
func FuzzParseMount(f *testing.F) {
	for _, s := range []string{
		"type=bind,source=/data,target=/data,readonly", "type=volume,src=v,dst=/x",
		"type=tmpfs,target=/tmp,tmpfs-size=1m", `"type=bind,source=/a,b",target=/x`,
		"target", "=", ",,", "type=bind,bind-propagation=rshared,source=/a,target=/b",
		"type=volume,volume-driver=evil,target=/x", "readonly=maybe,target=/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMount(s)
		if err == nil && m.Target == "" {
			t.Fatalf("ParseMount(%q) accepted a mount without target: %+v", s, m)
		}
	})
}

// FuzzParseKeyValueFile: --env-file and --label-file contents, which come
// from files the caller names. No panic; every entry is one non-comment
// line, and an env entry has a name.
func FuzzParseKeyValueFile(f *testing.F) {
	for _, s := range []string{
		"A=b\n# comment\n\nC=d=e\n", "  X=1\r\n", "=nokey\n", "ONLYKEY\n",
		"A=b\x00c\n", strings.Repeat("K=", 100),
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, data string, env bool) {
		what := "label-file"
		if env {
			what = "env-file"
		}
		lines, err := ParseKeyValueFile(what, []byte(data))
		if err != nil {
			return
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\n") || strings.HasPrefix(l, "#") || l == "" {
				t.Fatalf("ParseKeyValueFile(%s, %q) gave entry %q", what, data, l)
			}
			if env && strings.HasPrefix(l, "=") {
				t.Fatalf("ParseKeyValueFile(env-file, %q) gave nameless entry %q", data, l)
			}
		}
	})
}

// FuzzParseGPUs: --gpus values. No panic; a count is -1 (all) or
// positive, never a negative that might mean something else downstream.
func FuzzParseGPUs(f *testing.F) {
	for _, s := range []string{
		"all", "2", "0", "-1", "count=2", `"device=0,1"`, "device=GPU-abc,capabilities=compute",
		"driver=nvidia,count=all", "count=1,count=2", `"unterminated`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := ParseGPUs(s)
		if err != nil {
			return
		}
		if req.Count < -1 {
			t.Fatalf("ParseGPUs(%q) gave count %d", s, req.Count)
		}
	})
}
