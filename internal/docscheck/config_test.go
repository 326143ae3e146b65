package docscheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
)

// referencePage holds the configuration reference: a table whose rows
// start with a key in backticks, then type, default, override, expands.
const referencePage = "docs/admin-guide.md"

// Columns of the reference table.
const (
	colKey = iota
	colType
	colDefault
	colOverride
	colExpands
	columns
)

// referenceRows returns the reference table's cells by key, and the keys
// that have more than one row.
func referenceRows(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, referencePage))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	var twice []string
	for _, line := range strings.Split(string(data), "\n") {
		cells := tableCells(line)
		if len(cells) < columns || !strings.HasPrefix(cells[colKey], "`") {
			continue
		}
		key := strings.Trim(cells[colKey], "`")
		if _, ok := policy.DefaultValue(key); !ok {
			continue // a row of another table
		}
		if _, dup := rows[key]; dup {
			twice = append(twice, key)
		}
		rows[key] = cells
	}
	return rows, twice
}

// tableCells splits a Markdown table row at its unescaped pipes; nil for a
// line that is not a row.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
		return nil
	}
	var cells []string
	var cur strings.Builder
	for i := 1; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return cells
}

// overridable reports whether an [[override]] may set key, by asking the
// configuration parser with the key's built-in value.
func overridable(t *testing.T, key string) bool {
	t.Helper()
	def, _ := policy.DefaultValue(key)
	toml := "[[override]]\nuser = \"nobody\"\n" + key + " = " + def + "\n"
	_, err := policy.Parse([]policy.File{{Name: "override.toml", Data: []byte(toml)}}, policy.Options{})
	switch {
	case err == nil:
		return true
	case strings.Contains(err.Error(), "cannot be set in an override"):
		return false
	}
	t.Fatalf("%s in an override: %v", key, err)
	return false
}

// TestConfigReference: the reference in the admin guide has one row per
// configuration key, with the built-in default as `config explain` prints
// it (in double quotes) and "yes" or "no" as an override may set it.
func TestConfigReference(t *testing.T) {
	rows, twice := referenceRows(t)
	for _, key := range twice {
		t.Errorf("%s: %s has more than one row", referencePage, key)
	}
	for _, key := range policy.Keys() {
		cells, ok := rows[key]
		if !ok {
			t.Errorf("%s: no row for %s", referencePage, key)
			continue
		}
		def, _ := policy.DefaultValue(key)
		want := "`" + strings.ReplaceAll(def, "'", `"`) + "`"
		if got := cells[colDefault]; got != want {
			t.Errorf("%s: %s: default %s, want %s (internal/policy/defaults.go)", referencePage, key, got, want)
		}
		wantOverride := map[bool]string{true: "yes", false: "no"}[overridable(t, key)]
		if got := cells[colOverride]; got != wantOverride {
			t.Errorf("%s: %s: override %q, want %q (internal/policy/schema.go)", referencePage, key, got, wantOverride)
		}
	}
}
