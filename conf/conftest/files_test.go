package conftest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// readRepoFile returns the contents of a file given relative to the repository root.
func readRepoFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return string(b)
}

const (
	fluxTaskPath = "conf/flux/courier_daily_ranking.flux"
	templatePath = "conf/influxdb/courier-traffic.yml"
	influxQLPath = "conf/influxql/courier_daily_ranking.influxql"
)

// section returns the lines strictly between the line starting with begin and the next line
// starting with end. Missing or repeated markers fail the test: the extraction contract is
// documented in the .flux file's header.
func section(t testing.TB, src, begin, end string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, begin) {
			if start >= 0 {
				t.Fatalf("marker %q appears twice", begin)
			}
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("marker %q not found", begin)
	}
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], end) {
			return strings.Join(lines[start+1:i], "\n") + "\n"
		}
	}
	t.Fatalf("marker %q after %q not found", end, begin)
	return ""
}

// fluxSettings reads the `name = value` lines of the task's settings section. String values
// are unquoted; others are kept as written.
func fluxSettings(t testing.TB, src string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`^([a-z_]+) = (.+)$`)
	out := make(map[string]string)
	for _, l := range strings.Split(section(t, src, "// BEGIN settings", "// END settings"), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v := m[2]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out[m[1]] = v
	}
	return out
}

// setSetting replaces the value of one settings line; the line must exist exactly once.
func setSetting(t testing.TB, src, name, value string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` = .*$`)
	if n := len(re.FindAllStringIndex(src, -1)); n != 1 {
		t.Fatalf("setting %q: %d lines, want 1", name, n)
	}
	return re.ReplaceAllLiteralString(src, name+" = "+value)
}
