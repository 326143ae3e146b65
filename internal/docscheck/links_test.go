package docscheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository's top directory, seen from this package.
const root = "../.."

// skipDirs are directories whose Markdown is not the project's
// documentation: version control, build output, fuzz corpora and fixtures.
var skipDirs = map[string]bool{".git": true, "bin": true, "testdata": true, "vendor": true}

// page is what a Markdown file offers and asks for.
type page struct {
	anchors map[string]bool
	links   []link
}

type link struct {
	line   int
	target string
}

var (
	// inlineLink is [text](target) or [text](target "title"); the text may
	// hold code spans, which are blanked out before matching.
	inlineLink = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	// refLink is a reference definition: [name]: target
	refLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+(\S+)`)
	heading = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	fence   = regexp.MustCompile("^\\s{0,3}(```|~~~)")
	// codeSpan is a backtick code span of one or two backticks.
	codeSpan = regexp.MustCompile("``[^`]+``|`[^`]+`")
	// linkInHeading keeps a heading link's text, as GitHub's IDs do.
	linkInHeading = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// readPage collects the headings' anchors and the links of a Markdown
// file, outside fenced code blocks and code spans.
func readPage(t *testing.T, path string) page {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := page{anchors: map[string]bool{}}
	seen := map[string]int{}
	inFence := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := fence.FindStringSubmatch(line); m != nil {
			switch inFence {
			case "":
				inFence = m[1]
			case m[1]:
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			id := slug(m[2])
			if k := seen[id]; k > 0 {
				p.anchors[id+"-"+strconv.Itoa(k)] = true
			} else {
				p.anchors[id] = true
			}
			seen[id]++
		}
		if m := refLink.FindStringSubmatch(line); m != nil {
			p.links = append(p.links, link{n, m[1]})
			continue
		}
		plain := codeSpan.ReplaceAllStringFunc(line, func(s string) string { return strings.Repeat("x", len(s)) })
		for _, m := range inlineLink.FindAllStringSubmatch(plain, -1) {
			p.links = append(p.links, link{n, m[1]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// slug is the ID GitHub gives a heading: its text without markup, lower
// case, without punctuation but for hyphens and underscores, spaces made
// hyphens. (Repeated headings get -1, -2, … in readPage.)
func slug(text string) string {
	text = linkInHeading.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// markdownFiles returns every *.md of the repository, by path from root.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Markdown files under %s", root)
	}
	return files
}

// TestLinks: every relative link of every Markdown file leads to a file or
// directory of the tree, and an #anchor to a heading of its page.
func TestLinks(t *testing.T) {
	pages := map[string]page{}
	get := func(path string) page {
		if p, ok := pages[path]; ok {
			return p
		}
		p := readPage(t, path)
		pages[path] = p
		return p
	}
	for _, file := range markdownFiles(t) {
		name, _ := filepath.Rel(root, file)
		for _, l := range get(file).links {
			if strings.Contains(l.target, "://") || strings.HasPrefix(l.target, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(l.target, "#")
			dest := file
			if target != "" {
				if strings.HasPrefix(target, "/") {
					t.Errorf("%s:%d: %s: link relative to the page, not to /", name, l.line, l.target)
					continue
				}
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(target))
				st, err := os.Stat(dest)
				if err != nil {
					t.Errorf("%s:%d: %s: no such file", name, l.line, l.target)
					continue
				}
				if st.IsDir() {
					if anchor != "" {
						t.Errorf("%s:%d: %s: an anchor into a directory", name, l.line, l.target)
					}
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s:%d: %s: an anchor into a file that is not Markdown", name, l.line, l.target)
				continue
			}
			if !get(dest).anchors[anchor] {
				t.Errorf("%s:%d: %s: no heading with the ID %q", name, l.line, l.target, anchor)
			}
		}
	}
}

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"Who is calling":                                      "who-is-calling",
		"The [slurm] settings of config.toml":                 "the-slurm-settings-of-configtoml",
		"Interactive containers: -it":                         "interactive-containers--it",
		"8. One user cannot change what another runs: `load`": "8-one-user-cannot-change-what-another-runs-load",
		"config check, explain, import":                       "config-check-explain-import",
		"Root's views":                                        "roots-views",
		"See [the guide](x.md) now":                           "see-the-guide-now",
		"sudoers.userdocker":                                  "sudoersuserdocker",
	}
	for in, want := range tests {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
