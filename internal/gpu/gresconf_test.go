package gpu

import (
	"slices"
	"strings"
	"testing"
)

func TestParseGresConf(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		node    string
		want    []string
		wantErr string
	}{
		{
			name: "range as on this project's test node",
			text: "Name=gpu File=/dev/nvidia[0-3]\n",
			want: []string{"/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3"},
		},
		{
			name: "comma list",
			text: "Name=gpu File=/dev/nvidia2,/dev/nvidia0\n",
			want: []string{"/dev/nvidia2", "/dev/nvidia0"},
		},
		{
			name: "list inside brackets and after them",
			text: "Name=gpu File=/dev/nvidia[0,2-3],/dev/nvidia7",
			want: []string{"/dev/nvidia0", "/dev/nvidia2", "/dev/nvidia3", "/dev/nvidia7"},
		},
		{
			name: "several lines and types keep file order",
			text: "# GPUs of a mixed node\n" +
				"Name=gpu Type=a100 File=/dev/nvidia[2-3] Cores=0-7\n" +
				"\n" +
				"Name=gpu Type=v100 File=/dev/nvidia0  # the old one\n" +
				"Name=gpu Type=v100 File=/dev/nvidia1\n",
			want: []string{"/dev/nvidia2", "/dev/nvidia3", "/dev/nvidia0", "/dev/nvidia1"},
		},
		{
			name: "other GRES names and global keys ignored",
			text: "AutoDetect=off\nName=mps Count=400\nName=gpu File=/dev/nvidia0\nName=nic File=/dev/infiniband/uverbs0\n",
			want: []string{"/dev/nvidia0"},
		},
		{
			name: "keys are case-insensitive, values may be quoted",
			text: "NAME=gpu file=\"/dev/nvidia[0-1]\"",
			want: []string{"/dev/nvidia0", "/dev/nvidia1"},
		},
		{
			name: "continued line",
			text: "Name=gpu \\\n  File=/dev/nvidia[0-1]\n",
			want: []string{"/dev/nvidia0", "/dev/nvidia1"},
		},
		{
			name: "NodeName selects lines for this node",
			node: "gpu02",
			text: "NodeName=gpu[01-02] Name=gpu File=/dev/nvidia[0-1]\n" +
				"NodeName=gpu[03-04],big Name=gpu File=/dev/nvidia[0-7]\n" +
				"NodeName=gpu02 Name=gpu File=/dev/nvidia5\n",
			want: []string{"/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia5"},
		},
		{
			name: "zero padding follows the lower bound",
			node: "n007",
			text: "NodeName=n[005-010] Name=gpu File=/dev/nvidia0\nNodeName=n7 Name=gpu File=/dev/nvidia1",
			want: []string{"/dev/nvidia0"},
		},
		{
			name: "no node given: every line",
			text: "NodeName=a Name=gpu File=/dev/nvidia0\nNodeName=b Name=gpu File=/dev/nvidia1",
			want: []string{"/dev/nvidia0", "/dev/nvidia1"},
		},
		{name: "empty file", text: "", want: nil},
		{
			name:    "GPU line without File",
			text:    "AutoDetect=nvml\nName=gpu Type=a100 Count=4\n",
			wantErr: "gres.conf line 2: Name=gpu without File=: cannot tell which device file is which GRES index",
		},
		{
			name: "MIG devices: MultipleFiles entries, sharing the GPU's file",
			text: "Name=gpu File=/dev/nvidia1\n" +
				"Name=gpu Type=3g.20gb MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21,/dev/nvidia-caps/nvidia-cap22\n" +
				"Name=gpu Type=3g.20gb MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap[30-31]\n",
			want: []string{"/dev/nvidia1",
				"/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21,/dev/nvidia-caps/nvidia-cap22",
				"/dev/nvidia0,/dev/nvidia-caps/nvidia-cap30,/dev/nvidia-caps/nvidia-cap31"},
		},
		{
			name:    "MultipleFiles entry listed twice",
			text:    "Name=gpu MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21\nName=gpu MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21",
			wantErr: `gres.conf line 2: MultipleFiles="/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21" is already listed on line 1`,
		},
		{
			name:    "File and MultipleFiles on one line",
			text:    "Name=gpu File=/dev/nvidia1 MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21",
			wantErr: "gres.conf line 1: File= and MultipleFiles= on one line",
		},
		{
			name:    "file listed twice",
			text:    "Name=gpu File=/dev/nvidia[0-1]\nName=gpu File=/dev/nvidia1",
			wantErr: "gres.conf line 2: /dev/nvidia1 is already listed on line 1",
		},
		{
			name:    "token without value",
			text:    "Name=gpu /dev/nvidia0",
			wantErr: `gres.conf line 1: "/dev/nvidia0" is not Key=Value`,
		},
		{
			name:    "backwards range",
			text:    "Name=gpu File=/dev/nvidia[3-0]",
			wantErr: `gres.conf line 1: File="/dev/nvidia[3-0]": range "3-0" runs backwards`,
		},
		{
			name:    "unclosed bracket",
			text:    "Name=gpu File=/dev/nvidia[0-3",
			wantErr: `gres.conf line 1: File="/dev/nvidia[0-3": '[' without ']'`,
		},
		{
			name:    "huge range",
			text:    "Name=gpu File=/dev/nvidia[0-99999999]",
			wantErr: `gres.conf line 1: File="/dev/nvidia[0-99999999]": expands to more than 4096 names`,
		},
		{
			name:    "key twice",
			text:    "Name=gpu File=/dev/nvidia0 File=/dev/nvidia1",
			wantErr: "gres.conf line 1: file= given twice",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGresConf(tc.text, tc.node)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q (result %v)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseGresConf() = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseGresConf(f *testing.F) {
	for _, seed := range []string{
		"Name=gpu File=/dev/nvidia[0-3]",
		"Name=gpu File=/dev/nvidia[0,2-3],/dev/nvidia7\nName=gpu Type=x File=/dev/nvidia8",
		"NodeName=n[01-04] Name=gpu File=/dev/nvidia[0-1] # c\n",
		"Name=gpu \\\nFile=a[1-2]b[3-4]",
		"Name=gpu File=[[]]",
		"Name=gpu File=,",
		"Name=gpu File=/dev/nvidia1\nName=gpu MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap[21-22]",
	} {
		f.Add(seed, "n02")
	}
	f.Fuzz(func(t *testing.T, text, node string) {
		files, err := ParseGresConf(text, node)
		if err != nil {
			return
		}
		if len(files) > maxExpansion {
			t.Fatalf("%d files, more than the %d allowed", len(files), maxExpansion)
		}
		seen := map[string]bool{}
		for _, f := range files {
			if seen[f] {
				t.Fatalf("file %q returned twice", f)
			}
			seen[f] = true
			if strings.ContainsAny(f, "\n#") {
				t.Fatalf("file %q contains a newline or comment", f)
			}
		}
	})
}
