package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-traffic/courier-traffic/internal/fbconf"
)

// classicConf is a Fluent Bit classic-format configuration being adapted
// for a test run: the shipped file, edited line by line so that its
// comments, order and every property not touched stay as shipped.
type classicConf struct {
	lines []string
}

// shippedConf reads conf/<name> of the repository.
func shippedConf(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "conf", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseClassic(src string) *classicConf {
	return &classicConf{lines: strings.Split(src, "\n")}
}

func (c *classicConf) String() string { return strings.Join(c.lines, "\n") }

// enable switches on the commented alternative block name the way the
// shipped file tells an admin to: the first '#' of every line inside the
// block goes, so its property lines become active and its "##"
// explanations stay comments.
func (c *classicConf) enable(t testing.TB, name string) {
	t.Helper()
	out, err := fbconf.Enable(c.String(), name)
	if err != nil {
		t.Fatalf("the shipped configuration: %v", err)
	}
	c.lines = strings.Split(out, "\n")
}

// section is one active [NAME] section: the header's line index and the
// index after its last property line.
type section struct {
	name       string // lower-case: "service", "input", "output"
	start, end int
}

func isHeader(l string) bool {
	l = strings.TrimSpace(l)
	return strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]")
}

// property splits an active property line into key and value.
func property(l string) (key, value string, ok bool) {
	l = strings.TrimSpace(l)
	if l == "" || strings.HasPrefix(l, "#") || isHeader(l) {
		return "", "", false
	}
	k, v, _ := strings.Cut(l, " ")
	return k, strings.TrimSpace(v), true
}

func (c *classicConf) sections() []section {
	var out []section
	for i, l := range c.lines {
		if isHeader(l) {
			l = strings.TrimSpace(l)
			out = append(out, section{name: strings.ToLower(l[1 : len(l)-1]), start: i, end: i + 1})
			continue
		}
		if _, _, ok := property(l); ok && len(out) > 0 {
			out[len(out)-1].end = i + 1
		}
	}
	return out
}

// find returns the only section called name (service, input, output) whose
// Name property is plugin ("" for any).
func (c *classicConf) find(t testing.TB, name, plugin string) section {
	t.Helper()
	var hits []section
	for _, s := range c.sections() {
		if s.name != name {
			continue
		}
		if plugin != "" {
			if v, _ := c.get(s, "name"); !strings.EqualFold(v, plugin) {
				continue
			}
		}
		hits = append(hits, s)
	}
	if len(hits) != 1 {
		t.Fatalf("configuration: %d active [%s] sections named %q, want 1:\n%s", len(hits), name, plugin, c)
	}
	return hits[0]
}

func (c *classicConf) get(s section, key string) (string, bool) {
	for _, l := range c.lines[s.start:s.end] {
		if k, v, ok := property(l); ok && strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// set gives key the value in section (name, plugin): the existing line is
// rewritten in place (indentation and key spelling kept), or a new line is
// added after the section's last property.
func (c *classicConf) set(t testing.TB, name, plugin, key, value string) {
	t.Helper()
	s := c.find(t, name, plugin)
	for i := s.start + 1; i < s.end; i++ {
		if k, _, ok := property(c.lines[i]); ok && strings.EqualFold(k, key) {
			l := c.lines[i]
			indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			c.lines[i] = fmt.Sprintf("%s%-*s %s", indent, len(k), k, value)
			return
		}
	}
	add := fmt.Sprintf("    %s %s", key, value)
	c.lines = append(c.lines[:s.end], append([]string{add}, c.lines[s.end:]...)...)
}

// del removes key from section (name, plugin); the key must be there.
func (c *classicConf) del(t testing.TB, name, plugin, key string) {
	t.Helper()
	s := c.find(t, name, plugin)
	for i := s.start + 1; i < s.end; i++ {
		if k, _, ok := property(c.lines[i]); ok && strings.EqualFold(k, key) {
			c.lines = append(c.lines[:i], c.lines[i+1:]...)
			return
		}
	}
	t.Fatalf("configuration: [%s] %s has no %s", name, plugin, key)
}

// disable comments out the section (name, plugin), as an admin enabling
// another input would.
func (c *classicConf) disable(t testing.TB, name, plugin string) {
	t.Helper()
	s := c.find(t, name, plugin)
	for i := s.start; i < s.end; i++ {
		c.lines[i] = "#" + c.lines[i]
	}
}

// run is one test's Fluent Bit setup: its directory, monitoring port and
// configuration (adapted from the shipped one by the scenario).
type run struct {
	dir      string
	httpPort int
	conf     *classicConf
}

// newRun adapts the shipped conf/fluent-bit.conf for a test in dir. Every
// change is one a test run needs, never one that changes what is proven:
//   - Flush 1 and a retry back-off of 1-3 s instead of 5-300 s, so a run
//     takes seconds;
//   - the plugin comes from -e instead of Plugins_File (whose path is the
//     installed one);
//   - Parsers_File, storage.path and the tail input's Path and DB point
//     into dir;
//   - the monitoring server is on (loopback, a free port) with
//     storage.metrics, so the test can wait for Fluent Bit instead of
//     sleeping.
//
// The tail input stays active; Read_From_Head is set to true (the test's
// file exists before Fluent Bit starts) and Refresh_Interval to 1.
func newRun(t testing.TB, dir string) *run {
	t.Helper()
	r := &run{dir: dir, httpPort: freePort(t), conf: parseClassic(shippedConf(t, "fluent-bit.conf"))}
	c := r.conf
	c.set(t, "service", "", "Flush", "1")
	c.set(t, "service", "", "Grace", "10")
	c.del(t, "service", "", "Plugins_File")
	c.set(t, "service", "", "Parsers_File", filepath.Join(dir, "parsers.conf"))
	c.set(t, "service", "", "storage.path", filepath.Join(dir, "storage"))
	c.set(t, "service", "", "storage.metrics", "on")
	c.set(t, "service", "", "scheduler.base", "1")
	c.set(t, "service", "", "scheduler.cap", "3")
	c.set(t, "service", "", "HTTP_Server", "on")
	c.set(t, "service", "", "HTTP_Listen", "127.0.0.1")
	c.set(t, "service", "", "HTTP_Port", fmt.Sprint(r.httpPort))
	c.set(t, "input", "tail", "Path", filepath.Join(dir, "mail.log"))
	c.set(t, "input", "tail", "DB", filepath.Join(dir, "courier-tail.db"))
	c.set(t, "input", "tail", "Read_From_Head", "true")
	c.set(t, "input", "tail", "Refresh_Interval", "1")
	r.writeParsers(t, "")
	return r
}

// writeParsers writes dir/parsers.conf: the shipped conf/parsers.conf plus
// extra parser definitions.
func (r *run) writeParsers(t testing.TB, extra string) {
	t.Helper()
	src := shippedConf(t, "parsers.conf")
	if extra != "" {
		src += "\n" + extra
	}
	if err := os.WriteFile(filepath.Join(r.dir, "parsers.conf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// write stores the configuration as dir/fluent-bit.conf and returns its path.
func (r *run) write(t testing.TB) string {
	t.Helper()
	p := filepath.Join(r.dir, "fluent-bit.conf")
	if err := os.WriteFile(p, []byte(r.conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// stockRFC5424 is Fluent Bit's own syslog-rfc5424 parser, verbatim from the
// parsers.conf Fluent Bit ships (conf/parsers.conf of fluent/fluent-bit,
// installed as /etc/fluent-bit/parsers.conf by its packages).
const stockRFC5424 = `[PARSER]
    Name        syslog-rfc5424
    Format      regex
    Regex       ^\<(?<pri>[0-9]{1,5})\>1 (?<time>[^ ]+) (?<host>[^ ]+) (?<ident>[^ ]+) (?<pid>[-0-9]+) (?<msgid>[^ ]+) (?<extradata>(\[(.*?)\]|-)) (?<message>.+)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%L%z
    Time_Keep   On
`
