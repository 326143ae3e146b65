package listing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

var now = time.Unix(1_700_000_000, 0)

func TestContainerRow(t *testing.T) {
	c := container.Summary{
		ID: "0123456789abcdef0123", Names: []string{"/alice-web", "/other/alias"}, Image: "ud-test/busybox",
		Command: "sleep 1000000000000000000", Created: now.Add(-2 * time.Hour).Unix(), Status: "Up 2 hours", State: "running",
		Ports:  []container.Port{{IP: "127.0.0.1", PrivatePort: 80, PublicPort: 32768, Type: "tcp"}, {PrivatePort: 53, Type: "udp"}},
		Labels: map[string]string{"io.userdocker.user": "alice", "io.userdocker.job": "7", "io.userdocker.gpus": "GPU-a"},
	}
	tests := []struct {
		name    string
		noTrunc bool
		want    ContainerRow
	}{
		{name: "truncated", want: ContainerRow{ID: "0123456789ab", Command: `"sleep 1000000000000…"`}},
		{name: "no-trunc", noTrunc: true, want: ContainerRow{ID: "0123456789abcdef0123", Command: `"sleep 1000000000000000000"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Container(c, now, tt.noTrunc)
			want := tt.want
			want.Image, want.RunningFor, want.Status, want.State = "ud-test/busybox", "2 hours ago", "Up 2 hours", "running"
			want.CreatedAt = "2023-11-14 20:13:20 +0000 UTC"
			want.Ports = "127.0.0.1:32768->80/tcp, 53/udp"
			want.Names, want.User, want.Job, want.GPUs, want.Labels = "alice-web", "alice", "7", "GPU-a", c.Labels
			if got.ID != want.ID || got.Command != want.Command || got.Ports != want.Ports || got.Names != want.Names ||
				got.RunningFor != want.RunningFor || got.User != want.User || got.Job != want.Job || got.GPUs != want.GPUs || got.CreatedAt != want.CreatedAt {
				t.Fatalf("Container() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	rows := []any{ContainerRow{ID: "abc", Names: "alice-web", User: "alice"}, ContainerRow{ID: "def", Names: "alice-db", User: "alice"}}
	tests := []struct {
		name, format, want, err string
	}{
		{name: "template", format: "{{.ID}} {{.Names}}", want: "abc alice-web\ndef alice-db\n"},
		{name: "table", format: `table {{.ID}}\t{{.User}}`, want: "CONTAINER ID   USER\nabc            alice\ndef            alice\n"},
		{name: "json", format: "{{json .Names}}", want: "\"alice-web\"\n\"alice-db\"\n"},
		{name: "pad is bounded", format: "{{len (pad .ID 1000000000000 -5)}}", want: "259\n259\n"},
		{name: "truncate", format: "{{truncate .Names 5}}{{truncate .ID -1}}", want: "aliceabc\nalicedef\n"},
		{name: "unknown field", format: "{{.Secret}}", err: `--format "{{.Secret}}": template: format:1:2: executing "format" at <.Secret>: can't evaluate field Secret in type listing.ContainerRow`},
		{name: "bad template", format: "{{.ID", err: `--format "{{.ID": template: format:1: unclosed action`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Write(&b, tt.format, ContainerTable, ContainerHeaders, rows)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Write() error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || b.String() != tt.want {
				t.Fatalf("Write() = %q, %v; want %q", b.String(), err, tt.want)
			}
		})
	}
}

func TestWriteDefaultTable(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "", ContainerTable, ContainerHeaders, nil); err != nil {
		t.Fatal(err)
	}
	want := "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES     USER      JOB       GPUS"
	if got := strings.TrimRight(b.String(), " \n"); got != want {
		t.Fatalf("header = %q, want %q", got, want)
	}
}

func TestImages(t *testing.T) {
	list := []image.Summary{
		{ID: "sha256:1111111111111111", RepoTags: []string{"ud-test/busybox:latest", "localhost:5000/bb:1"}, RepoDigests: []string{"ud-test/busybox@sha256:dd"}, Size: 1500000, Created: now.Unix(), Containers: -1},
		{ID: "sha256:2222222222222222", RepoDigests: []string{"ud-test/old@sha256:ee"}, Created: now.Unix()},
		{ID: "sha256:3333333333333333", RepoTags: []string{"<none>:<none>"}, RepoDigests: []string{"<none>@<none>"}, Created: now.Unix()},
	}
	var got []string
	for _, r := range Images(list, now, false) {
		got = append(got, strings.Join([]string{r.Repository, r.Tag, r.Digest, r.ID, r.Size, r.Containers}, " "))
	}
	want := []string{
		"ud-test/busybox latest sha256:dd 111111111111 1.5MB N/A",
		"localhost:5000/bb 1 <none> 111111111111 1.5MB N/A",
		"ud-test/old <none> sha256:ee 222222222222 0B 0",
		"<none> <none> <none> 333333333333 0B 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Images() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := Images(list[2:], now, true); r[0].ID != "sha256:3333333333333333" {
		t.Fatalf("Images(noTrunc) ID = %q, want the full ID", r[0].ID)
	}
}

func TestTree(t *testing.T) {
	list := []image.Summary{
		{ID: "sha256:cccccccccccccccc", ParentID: "sha256:aaaaaaaaaaaaaaaa", RepoTags: []string{"app:2"}, Created: 3},
		{ID: "sha256:aaaaaaaaaaaaaaaa", RepoTags: []string{"base:1"}, Created: 1},
		{ID: "sha256:bbbbbbbbbbbbbbbb", ParentID: "sha256:aaaaaaaaaaaaaaaa", RepoTags: []string{"<none>:<none>"}, Created: 2},
		{ID: "sha256:dddddddddddddddd", ParentID: "sha256:bbbbbbbbbbbbbbbb", RepoTags: []string{"app:1", "app:latest"}, Created: 4},
		{ID: "sha256:eeeeeeeeeeeeeeee", ParentID: "sha256:gone", Created: 5},
	}
	var b bytes.Buffer
	Tree(&b, list)
	want := `aaaaaaaaaaaa 0B Tags: base:1
├─bbbbbbbbbbbb 0B
│ └─dddddddddddd 0B Tags: app:1, app:latest
└─cccccccccccc 0B Tags: app:2
eeeeeeeeeeee 0B
`
	if b.String() != want {
		t.Fatalf("Tree() =\n%s\nwant\n%s", b.String(), want)
	}
}
