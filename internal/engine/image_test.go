package engine

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/userdocker/userdocker/test/fakedocker"
)

const pullProgress = `{"status":"Pulling from library/busybox","id":"latest"}
{"status":"Digest: sha256:0123"}
{"status":"Status: Downloaded newer image for busybox:latest"}
`

func TestEnsureImage(t *testing.T) {
	tests := []struct {
		name       string
		policy     string
		present    bool
		inspectErr string // the daemon's error for the inspect
		pullErr    string // the daemon's error for the pull
		pullBody   string
		wantCalls  []string
		wantErr    string
		wantOut    string
	}{
		{name: "never, present", policy: PullNever, present: true, wantCalls: []string{"ImageInspect"}},
		{
			name: "never, absent", policy: PullNever,
			wantCalls: []string{"ImageInspect"},
			wantErr:   `image docker.io/library/busybox:latest is not available locally, and this system does not pull images (run.pull = "never")`,
		},
		{name: "missing, present", policy: PullMissing, present: true, wantCalls: []string{"ImageInspect"}},
		{
			name: "missing, absent: pulled", policy: PullMissing, pullBody: pullProgress,
			wantCalls: []string{"ImageInspect", "ImagePull"},
			wantOut: "Unable to find image 'docker.io/library/busybox:latest' locally\n" +
				"latest: Pulling from library/busybox\nDigest: sha256:0123\nStatus: Downloaded newer image for busybox:latest\n",
		},
		{
			name: "default is missing", policy: "", pullBody: pullProgress,
			wantCalls: []string{"ImageInspect", "ImagePull"},
			wantOut: "Unable to find image 'docker.io/library/busybox:latest' locally\n" +
				"latest: Pulling from library/busybox\nDigest: sha256:0123\nStatus: Downloaded newer image for busybox:latest\n",
		},
		{
			name: "always, present: pulled anyway", policy: PullAlways, present: true, pullBody: pullProgress,
			wantCalls: []string{"ImagePull"},
			wantOut:   "latest: Pulling from library/busybox\nDigest: sha256:0123\nStatus: Downloaded newer image for busybox:latest\n",
		},
		{
			name: "always, the registry refuses", policy: PullAlways,
			pullBody:  `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}` + "\n",
			wantCalls: []string{"ImagePull"},
			wantErr:   "pull image docker.io/library/busybox:latest: manifest unknown",
		},
		{
			name: "always, the daemon refuses", policy: PullAlways, pullErr: "boom",
			wantCalls: []string{"ImagePull"},
			wantErr:   "pull image docker.io/library/busybox:latest: Error response from daemon: boom",
		},
		{
			name: "inspect fails otherwise than not found", policy: PullMissing, inspectErr: "boom",
			wantCalls: []string{"ImageInspect"},
			wantErr:   "inspect image docker.io/library/busybox:latest: Error response from daemon: boom",
		},
		{
			name: "unknown policy", policy: "sometimes",
			wantErr: `unknown pull policy "sometimes" (want "never", "missing" or "always")`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fakedocker.New()
			if tc.present {
				d.AddImage(fakedocker.Image{Summary: image.Summary{ID: "sha256:0123", RepoTags: []string{testImage}}})
			}
			if tc.inspectErr != "" {
				d.On("ImageInspect", fakedocker.Fail(500, tc.inspectErr))
			}
			switch {
			case tc.pullErr != "":
				d.On("ImagePull", fakedocker.Fail(500, tc.pullErr))
			case tc.pullBody != "":
				d.On("ImagePull", fakedocker.Reply("application/json", tc.pullBody))
			}
			var out bytes.Buffer
			err := testEngine(t, d.Serve(t)).EnsureImage(context.Background(), testImage, tc.policy, &out, false)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !slices.Equal(d.Ops(), tc.wantCalls) {
				t.Errorf("calls = %v, want %v", d.Ops(), tc.wantCalls)
			}
			for _, c := range d.Calls() {
				switch {
				case c.Op == "ImageInspect" && c.ID != testImage:
					t.Errorf("inspected %q, want %q", c.ID, testImage)
				case c.Op == "ImagePull" && c.Query.Get("fromImage")+":"+c.Query.Get("tag") != testImage:
					t.Errorf("pulled %v, want %s", c.Query, testImage)
				}
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}
