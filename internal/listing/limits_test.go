package listing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestLimits runs hostile formats, each against the default limits with
// at most one changed, and checks that each is refused for its reason,
// with nothing written.
func TestLimits(t *testing.T) {
	rows := []any{ContainerRow{ID: "abc", Names: "alice-web"}, ContainerRow{ID: "def", Names: "alice-db"}}
	deep := strings.Repeat("{{if 1}}", 40) + strings.Repeat("{{end}}", 40)
	tests := []struct {
		name, format string
		change       func(*Limits)
		want         string
	}{
		{name: "loop", format: "{{range 1000000000000}}{{end}}", want: "it looped more than 1000000 times"},
		{name: "nested loops", format: "{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}", want: "it looped more than 1000000 times"},
		{name: "loop over a split", format: `{{$in := split (printf "%999s" "") ""}}{{range split (printf "%99999s" "") ""}}{{range $in}}{{end}}{{end}}`, want: "it looped more than"},
		{name: "loop without end, steps unlimited", format: "{{range 1000000000000}}{{end}}",
			change: func(l *Limits) { l.Steps, l.Time = math.MaxInt, 50*time.Millisecond }, want: "it took longer than 50ms"},
		{name: "one line floods", format: "{{range 1000000000000}}0123456789{{end}}", want: "it wrote more than 1 MiB for one line"},
		{name: "all lines flood", format: "{{range 600}}0123456789{{end}}",
			change: func(l *Limits) { l.Bytes = 10000 }, want: "it wrote more than 10000 bytes, the most"},
		{name: "aligned table", format: `table {{pad "" 256 256}}{{pad "" 256 256}}\t{{range 10000}}\n\t{{end}}`, want: "its table is wider than 16 MiB"},
		{name: "many cells", format: `table {{range 100000}}\t\n{{end}}`, want: "its table has more than 100000 cells"},
		{name: "wide printf", format: `{{range 100}}{{$x := printf "%999999d" 1}}{{end}}`, want: "its functions made more than 4 MiB for one line"},
		{name: "precision", format: `{{printf "%.999999f%.999999f%.999999f%.999999f%.999999f" 1.0 1.0 1.0 1.0 1.0}}`, want: "its functions made more than 4 MiB"},
		{name: "one argument many times", format: `{{$s := printf "%999999s" ""}}{{printf "%[1]s%[1]s%[1]s%[1]s%[1]s" $s}}`, want: "its functions made more than 4 MiB"},
		{name: "join of a split", format: `{{$s := printf "%99999s" ""}}{{len (join (split $s "") $s)}}`, want: "its functions made more than 4 MiB"},
		{name: "doubling", format: `{{$a := pad "" 256 256}}{{range 100}}{{$a = print $a $a}}{{end}}`, want: "its functions made more than 4 MiB"},
		{name: "many variables", format: strings.Repeat(`{{$v := printf "%999999s" ""}}`, 10), want: "its functions made more than 4 MiB"},
		{name: "escaping", format: `{{$s := printf "%999999s" ""}}{{html $s $s $s $s $s}}`, want: "its functions made more than 4 MiB"},
		{name: "define", format: `{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}`, want: "{{define}} and {{block}} are not offered here"},
		{name: "block", format: `{{block "b" .}}x{{end}}`, want: "{{define}} and {{block}} are not offered here"},
		{name: "itself", format: `{{.ID}}{{template "format" .}}`, want: "{{template}} and {{block}} are not offered here"},
		{name: "deep", format: deep, want: "it nests deeper than 32"},
		{name: "deep pipelines", format: "{{" + strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40) + "}}", want: "it nests deeper than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := DefaultLimits
			// Only the case about time may meet the time limit: on a
			// loaded machine a million steps can take longer than it.
			lim.Time = time.Hour
			if tt.change != nil {
				tt.change(&lim)
			}
			var b bytes.Buffer
			err := write(&b, tt.format, ContainerTable, ContainerHeaders, rows, lim)
			var le *LimitError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("write() error = %v, want a LimitError saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || len(err.Error()) > 250 {
				t.Fatalf("error %q: want one short line", err)
			}
			if b.Len() != 0 {
				t.Fatalf("wrote %d bytes of a refused format", b.Len())
			}
		})
	}
}

// TestFormatsWithinLimits checks that what docker users write still works
// the same under the limits: docker's functions, text/template's builtins
// (print keeps fmt.Sprint's spacing), and .Label.
func TestFormatsWithinLimits(t *testing.T) {
	labels := map[string]string{"x": "1", "io.userdocker.job": "7"}
	rows := []any{ContainerRow{ID: "abc", Names: "alice-web", Status: "Up 2 hours", Labels: labels}}
	tests := []struct{ format, want string }{
		{`{{.ID}}`, "abc\n"},
		{`table {{.Names}}\t{{.Status}}`, "NAMES       STATUS\nalice-web   Up 2 hours\n"},
		{`{{json .Labels}}`, `{"io.userdocker.job":"7","x":"1"}` + "\n"},
		{`{{.Label "x"}}|{{.Label "nope"}}`, "1|\n"},
		{`table {{.Label "x"}}`, "X\n1\n"},
		{`{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}`, "io.userdocker.job=7;x=1;\n"},
		{`{{printf "%-10s|%5.2f|%q|%[1]s" .Names 3.14159 .ID}}`, `alice-web |` + " 3.14" + `|"abc"|alice-web` + "\n"},
		{`{{printf "%d %v" 42 .Labels}}`, "42 map[io.userdocker.job:7 x:1]\n"},
		{`{{print .ID 1 2 "a" "b" 3 .Labels}}`, fmt.Sprint("abc", 1, 2, "a", "b", 3, labels) + "\n"},
		{`{{println .ID 1 "a"}}`, fmt.Sprintln("abc", 1, "a") + "\n"},
		{`{{upper .Names}} {{lower "AB"}} {{title "web"}} {{truncate .Names 5}} [{{pad .ID 1 2}}]`, "ALICE-WEB ab Web alice [ abc  ]\n"},
		{`{{join (split .Names "-") "+"}} {{len (split .Names "")}}`, "alice+web 9\n"},
		{`{{html "<a>"}} {{js "'"}} {{urlquery "a b"}}`, "&lt;a&gt; \\' a+b\n"},
		{`{{range split "a,b" ","}}{{.}}{{else}}none{{end}}{{range $i := 3}}{{$i}}{{end}}`, "ab012\n"},
		{`{{if eq .ID "abc"}}yes{{else if .ID}}other{{end}}`, "yes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tt.format, ContainerTable, ContainerHeaders, rows); err != nil || b.String() != tt.want {
				t.Fatalf("Write() = %q, %v; want %q", b.String(), err, tt.want)
			}
		})
	}
}

func TestFormatErrorIsShort(t *testing.T) {
	err := &FormatError{Format: strings.Repeat("é", 100), Err: errors.New("bad")}
	if got, want := err.Error(), `--format "`+strings.Repeat("é", 40)+`…": bad`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// TestTimeLimitStopsTheTemplate checks that a template refused for its
// time does not go on running: its goroutine ends at its next step.
func TestTimeLimitStopsTheTemplate(t *testing.T) {
	before := runtime.NumGoroutine()
	lim := DefaultLimits
	lim.Steps, lim.Time = math.MaxInt, 20*time.Millisecond
	err := write(io.Discard, "{{range 1000000000000}}{{end}}", ContainerTable, ContainerHeaders, []any{ContainerRow{}}, lim)
	if err == nil || !strings.Contains(err.Error(), "it took longer than 20ms") {
		t.Fatalf("write() = %v, want the time limit", err)
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 1000 {
			t.Fatalf("%d goroutines, %d before: the template still runs", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzWrite runs any template under small limits: it must never panic,
// and never write more than the limits allow.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{`{{.ID}}`, `table {{.Names}}\t{{.Label "x"}}`, `{{json .}}`,
		`{{range $k, $v := .Labels}}{{$k}}={{printf "%-5q" $v}}{{end}}`, `{{range 10}}{{print . "x" 1}}{{else}}-{{end}}`,
		`{{define "a"}}{{end}}`, `{{with .ID}}{{join (split . "") "."}}{{end}}`, `{{printf "%[2]*[1]d" 1 2}}`} {
		f.Add(s)
	}
	lim := Limits{Time: time.Second, Steps: 10_000, RowBytes: 4096, Bytes: 16384, FuncBytes: 1 << 16, Cells: 1000, Depth: 8}
	rows := []any{ContainerRow{ID: "abc", Names: "alice-web", Labels: map[string]string{"x": "1"}}, ContainerRow{ID: "def"}}
	f.Fuzz(func(t *testing.T, format string) {
		var b bytes.Buffer
		err := write(&b, format, ContainerTable, ContainerHeaders, rows, lim)
		if int64(b.Len()) > lim.Bytes {
			t.Fatalf("wrote %d bytes, limit %d", b.Len(), lim.Bytes)
		}
		if err != nil && b.Len() > 0 {
			t.Fatalf("wrote %d bytes and failed: %v", b.Len(), err)
		}
	})
}
