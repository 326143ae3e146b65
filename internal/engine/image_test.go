package engine

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
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
		inspectErr error
		pullErr    error
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
			name: "always, the daemon refuses", policy: PullAlways, pullErr: errBoom,
			wantCalls: []string{"ImagePull"},
			wantErr:   "pull image docker.io/library/busybox:latest: boom",
		},
		{
			name: "inspect fails otherwise than not found", policy: PullMissing, inspectErr: errBoom,
			wantCalls: []string{"ImageInspect"},
			wantErr:   "inspect image docker.io/library/busybox:latest: boom",
		},
		{
			name: "unknown policy", policy: "sometimes",
			wantErr: `unknown pull policy "sometimes" (want "never", "missing" or "always")`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{
				imageInspectFunc: func(_ context.Context, ref string) (image.InspectResponse, error) {
					switch {
					case ref != testImage:
						t.Errorf("inspected %q, want %q", ref, testImage)
					case tc.inspectErr != nil:
						return image.InspectResponse{}, tc.inspectErr
					case !tc.present:
						return image.InspectResponse{}, notFoundError{"image: " + ref}
					}
					return image.InspectResponse{ID: "sha256:0123"}, nil
				},
				imagePullFunc: func(_ context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
					if ref != testImage {
						t.Errorf("pulled %q, want %q", ref, testImage)
					}
					if tc.pullErr != nil {
						return nil, tc.pullErr
					}
					return io.NopCloser(strings.NewReader(tc.pullBody)), nil
				},
			}
			var out bytes.Buffer
			err := testEngine(api).EnsureImage(context.Background(), testImage, tc.policy, &out, false)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !slices.Equal(api.Calls(), tc.wantCalls) {
				t.Errorf("calls = %v, want %v", api.Calls(), tc.wantCalls)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}
