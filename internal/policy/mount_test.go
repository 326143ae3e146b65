package policy

import "testing"

func TestParseMount(t *testing.T) {
	tests := []struct {
		spec    string
		want    MountSpec
		wantErr string
	}{
		{spec: "/data:/data", want: MountSpec{Text: "/data:/data", Host: "/data", Container: "/data"}},
		{spec: "/data:/d:ro", want: MountSpec{Text: "/data:/d:ro", Host: "/data", Container: "/d", ReadOnly: true}},
		{spec: "/data:/d:rw", want: MountSpec{Text: "/data:/d:rw", Host: "/data", Container: "/d"}},
		{spec: "/projects:", want: MountSpec{Text: "/projects:", Host: "/projects"}},
		{spec: "/projects::ro", want: MountSpec{Text: "/projects::ro", Host: "/projects", ReadOnly: true}},
		{spec: "/data", wantErr: "want HOST:[CONTAINER][:ro|:rw]"},
		{spec: ":/data", wantErr: "the host path is not absolute"},
		{spec: "/a/../b:/b", wantErr: `the host path contains ".."`},
		{spec: "/a:/b/..", wantErr: `the container path contains ".."`},
		{spec: "/a:/b:z", wantErr: `the mode must be "ro" or "rw"`},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseMount(tc.spec)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("ParseMount(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseMount(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
			}
		})
	}
}
