package conftest

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/fbconf"
)

// kv is one property as Fluent Bit sees it: keys are case-insensitive (lower-cased here),
// values verbatim; a multi-valued property (systemd_filter) appears once per value.
type kv struct{ Key, Value string }

// fbSection is one [SECTION] of a classic file or one entry of a YAML list.
type fbSection struct {
	Name  string // "service", "input", "output", ...
	Props []kv
	// Commented holds `# key value` lines of keys shown with their default, commented out.
	Commented []kv
}

func (s fbSection) get(key string) (string, bool) {
	for _, p := range s.Props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// fbConfig is a Fluent Bit configuration reduced to what the tests compare.
type fbConfig struct {
	Service fbSection
	Inputs  []fbSection
	Outputs []fbSection
}

// uncomment switches on the named alternative block (fbconf.Enable).
func uncomment(t testing.TB, src, name string) string {
	t.Helper()
	out, err := fbconf.Enable(src, name)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// commentedKeyRe matches a key shown with its default, commented out: "# key value" or
// "# key: value" with a one-word value (explanations are sentences, ending with a period).
var commentedKeyRe = regexp.MustCompile(`^#\s+([a-z][a-z_.]*):?\s+(\S*[^.\s])$`)

// parseClassic parses the classic format: [SECTION] headers, `Key Value` lines, # comments.
// It also checks the shipped-config rule that every property line is explained by the
// comment line above it (or continues a multi-valued property).
func parseClassicSections(t testing.TB, name, src string) []fbSection {
	t.Helper()
	var cur *fbSection
	var sections []*fbSection
	prev, prevKey := "", ""
	for i, raw := range strings.Split(src, "\n") {
		l := strings.TrimSpace(raw)
		switch {
		case l == "":
		case strings.HasPrefix(l, "#"):
			if cur != nil && cur.Name == "output" {
				if m := commentedKeyRe.FindStringSubmatch(l); m != nil {
					cur.Commented = append(cur.Commented, kv{m[1], m[2]})
				}
			}
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			cur = &fbSection{Name: strings.ToLower(l[1 : len(l)-1])}
			sections = append(sections, cur)
			prevKey = ""
		default:
			if cur == nil {
				t.Fatalf("%s:%d: property outside a section: %q", name, i+1, l)
			}
			f := strings.Fields(l)
			if len(f) < 2 {
				t.Fatalf("%s:%d: property without value: %q", name, i+1, l)
			}
			key := strings.ToLower(f[0])
			if !strings.HasPrefix(prev, "#") && key != prevKey {
				t.Errorf("%s:%d: %s has no comment line above it", name, i+1, f[0])
			}
			cur.Props = append(cur.Props, kv{key, strings.Join(f[1:], " ")})
			prevKey = key
		}
		if l != "" {
			prev = l
		}
	}
	out := make([]fbSection, len(sections))
	for i, s := range sections {
		out[i] = *s
	}
	return out
}

// parseClassic parses a main classic configuration file.
func parseClassic(t testing.TB, name, src string) fbConfig {
	t.Helper()
	var cfg fbConfig
	for _, s := range parseClassicSections(t, name, src) {
		switch s.Name {
		case "service":
			cfg.Service = s
		case "input":
			cfg.Inputs = append(cfg.Inputs, s)
		case "output":
			cfg.Outputs = append(cfg.Outputs, s)
		default:
			t.Errorf("%s: unexpected section [%s]", name, s.Name)
		}
	}
	return cfg
}

// yamlFile is the YAML format's top level.
type yamlFile struct {
	Service  yaml.Node   `yaml:"service"`
	Plugins  []string    `yaml:"plugins"`
	Parsers  []yaml.Node `yaml:"parsers"`
	Pipeline struct {
		Inputs  []yaml.Node `yaml:"inputs"`
		Outputs []yaml.Node `yaml:"outputs"`
	} `yaml:"pipeline"`
}

// yamlSection flattens a YAML mapping into properties; list values become repeated keys,
// as Fluent Bit sets a property once per element. Comment lines of the form "# key: value"
// directly above or below a key become Commented.
func yamlSection(t testing.TB, name string, n yaml.Node) fbSection {
	t.Helper()
	s := fbSection{Name: name}
	if n.Kind != yaml.MappingNode {
		t.Fatalf("%s: not a mapping (line %d)", name, n.Line)
	}
	addComments := func(c string) {
		if !strings.Contains(name, "output") {
			return
		}
		for _, l := range strings.Split(c, "\n") {
			if m := commentedKeyRe.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				s.Commented = append(s.Commented, kv{m[1], m[2]})
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		addComments(k.HeadComment)
		addComments(k.FootComment)
		addComments(v.FootComment)
		// yaml.v3 attaches a comment that follows a list to the list as a foot comment.
		explained := k.HeadComment != "" || (i == 0 && n.HeadComment != "") ||
			(i > 0 && hasFootComment(n.Content[i-1]))
		if !explained {
			t.Errorf("%s: %s (line %d) has no comment above it", name, k.Value, k.Line)
		}
		key := strings.ToLower(k.Value)
		switch v.Kind {
		case yaml.ScalarNode:
			s.Props = append(s.Props, kv{key, v.Value})
		case yaml.SequenceNode:
			for _, e := range v.Content {
				s.Props = append(s.Props, kv{key, e.Value})
			}
		default:
			t.Fatalf("%s: %s: unexpected value kind", name, k.Value)
		}
	}
	addComments(n.FootComment)
	return s
}

// hasFootComment reports whether a comment follows n or its last descendant.
func hasFootComment(n *yaml.Node) bool {
	for n != nil {
		if n.FootComment != "" {
			return true
		}
		if len(n.Content) == 0 {
			return false
		}
		n = n.Content[len(n.Content)-1]
	}
	return false
}

func parseYAML(t testing.TB, name, src string) (fbConfig, yamlFile) {
	t.Helper()
	var f yamlFile
	if err := yaml.Unmarshal([]byte(src), &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cfg := fbConfig{Service: yamlSection(t, name+" service", f.Service)}
	for i, n := range f.Pipeline.Inputs {
		cfg.Inputs = append(cfg.Inputs, yamlSection(t, fmt.Sprintf("%s input %d", name, i), n))
	}
	for i, n := range f.Pipeline.Outputs {
		cfg.Outputs = append(cfg.Outputs, yamlSection(t, fmt.Sprintf("%s output %d", name, i), n))
	}
	return cfg, f
}

// The fixed environments the ${VAR} references are resolved from: as on a host where the
// variables are unset (the plugin then uses its defaults), and as docker/compose.yaml sets them.
var fbEnvs = map[string]map[string]string{
	"unset": {"INFLUX_URL": "", "INFLUX_ORG": "", "INFLUX_BUCKET": "", "INFLUX_TOKEN": "", "COURIER_TIME_ZONE": ""},
	"compose": {
		"INFLUX_URL": "http://influxdb:8086", "INFLUX_ORG": "courier", "INFLUX_BUCKET": "courier/autogen",
		"INFLUX_TOKEN": "test-token-not-a-secret", "COURIER_TIME_ZONE": "Europe/Vienna",
	},
}

var envRefRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} like Fluent Bit does; a variable missing from env fails the test so
// the fixed maps stay complete.
func expand(t testing.TB, v string, env map[string]string) string {
	t.Helper()
	return envRefRe.ReplaceAllStringFunc(v, func(ref string) string {
		name := envRefRe.FindStringSubmatch(ref)[1]
		val, ok := env[name]
		if !ok {
			t.Errorf("${%s} is not in the test's fixed environment", name)
		}
		return val
	})
}

// coreOutputKeys are consumed by the Fluent Bit core and never reach the plugin.
var coreOutputKeys = map[string]bool{
	"name": true, "match": true, "match_regex": true, "alias": true, "workers": true,
	"retry_limit": true, "storage.total_limit_size": true, "log_level": true,
}

const pluginName = "courier_influxdb"

// checkConfig runs the checks shared by both formats and returns the plugin's effective
// configuration per fixed environment.
func checkConfig(t *testing.T, cfg fbConfig) map[string]*flush.Config {
	t.Helper()
	pluginKeys := map[string]bool{}
	for _, k := range flush.Keys() {
		pluginKeys[k] = true
	}

	if v, _ := cfg.Service.get("storage.path"); v == "" {
		t.Error("service: storage.path is not set")
	}
	if v, _ := cfg.Service.get("coro_stack_size"); v == "" || len(v) < 5 {
		t.Errorf("service: coro_stack_size %q, want at least 65536", v)
	}

	var out *fbSection
	for i := range cfg.Outputs {
		if v, _ := cfg.Outputs[i].get("name"); v == pluginName {
			if out != nil {
				t.Fatalf("more than one %s output", pluginName)
			}
			out = &cfg.Outputs[i]
		}
	}
	if out == nil {
		t.Fatalf("no %s output", pluginName)
	}
	for key, want := range map[string]string{"workers": "1", "retry_limit": "no_limits", "storage.total_limit_size": "1G"} {
		if got, _ := out.get(key); got != want {
			t.Errorf("output %s = %q, want %q", key, got, want)
		}
	}
	match, _ := out.get("match")
	if len(cfg.Inputs) == 0 {
		t.Fatal("no input")
	}
	for _, in := range cfg.Inputs {
		tag, _ := in.get("tag")
		name, _ := in.get("name")
		if ok, _ := path.Match(match, tag); !ok {
			t.Errorf("input %s: tag %q does not match the output's match %q", name, tag, match)
		}
		if v, _ := in.get("storage.type"); v != "filesystem" {
			t.Errorf("input %s: storage.type %q, want filesystem", name, v)
		}
		if db, ok := in.get("db"); name != "syslog" && (!ok || !strings.HasPrefix(db, "/var/lib/fluent-bit/")) {
			t.Errorf("input %s: db %q, want a file under /var/lib/fluent-bit/", name, db)
		}
	}

	// Keys: every key set or shown is a plugin key or a core key; every plugin key is shown.
	shown := map[string]bool{}
	for _, p := range out.Props {
		if !pluginKeys[p.Key] && !coreOutputKeys[p.Key] {
			t.Errorf("output key %q is neither a plugin key (flush.Keys) nor a Fluent Bit core key", p.Key)
		}
		shown[p.Key] = true
	}
	for _, p := range out.Commented {
		if !pluginKeys[p.Key] {
			t.Errorf("commented output key %q is not a plugin key (flush.Keys)", p.Key)
		}
		shown[p.Key] = true
	}
	for k := range pluginKeys {
		if !shown[k] {
			t.Errorf("plugin key %q is neither set nor shown commented in the output section", k)
		}
	}

	got := map[string]*flush.Config{}
	for envName, env := range fbEnvs {
		m := flush.MapGetter{}
		for _, p := range out.Props {
			if !coreOutputKeys[p.Key] {
				m[p.Key] = expand(t, p.Value, env)
			}
		}
		c, err := flush.LoadConfig(m)
		if err != nil {
			t.Errorf("env %s: flush.LoadConfig: %v", envName, err)
			continue
		}
		got[envName] = c
	}

	// The defaults shown commented out must be valid values too (file paths aside: they
	// name files of the production host).
	m := flush.MapGetter{}
	for _, p := range out.Commented {
		if p.Key != flush.KeyInfluxTokenFile && p.Key != flush.KeyInfluxTLSCAFile {
			m[p.Key] = p.Value
		}
	}
	if _, err := flush.LoadConfig(m); err != nil {
		t.Errorf("the commented-out values: flush.LoadConfig: %v", err)
	}
	return got
}

func TestFluentBitConfigs(t *testing.T) {
	settings := fluxSettings(t, readRepoFile(t, fluxTaskPath))
	type variant struct{ file, alt string }
	var variants []variant
	for _, f := range []string{"conf/fluent-bit.conf", "conf/fluent-bit.yaml"} {
		variants = append(variants, variant{f, ""})
		alts := fbconf.Alternatives(readRepoFile(t, f))
		if diff := cmp.Diff([]string{"systemd", "syslog"}, alts); diff != "" {
			t.Errorf("%s: alternative input blocks (-want +got):\n%s", f, diff)
		}
		for _, a := range alts {
			variants = append(variants, variant{f, a})
		}
	}
	parsed := map[variant]fbConfig{}
	for _, v := range variants {
		name := v.file
		if v.alt != "" {
			name += " with " + v.alt
		}
		t.Run(name, func(t *testing.T) {
			src := readRepoFile(t, v.file)
			if v.alt != "" {
				src = uncomment(t, src, v.alt)
			}
			var cfg fbConfig
			if strings.HasSuffix(v.file, ".yaml") {
				cfg, _ = parseYAML(t, name, src)
			} else {
				cfg = parseClassic(t, name, src)
			}
			wantInputs := 1
			if v.alt != "" {
				wantInputs = 2
			}
			if len(cfg.Inputs) != wantInputs {
				t.Errorf("%d inputs, want %d (exactly one active by default)", len(cfg.Inputs), wantInputs)
			}
			parsed[v] = cfg
			for envName, c := range checkConfig(t, cfg) {
				if c.InfluxBucket != settings["influx_bucket"] {
					t.Errorf("env %s: influx_bucket %q, the Flux task reads %q", envName, c.InfluxBucket, settings["influx_bucket"])
				}
				if c.Measurement != settings["measurement"] {
					t.Errorf("env %s: measurement %q, the Flux task reads %q", envName, c.Measurement, settings["measurement"])
				}
			}
		})
	}

	// The two formats are the same configuration.
	norm := func(c fbConfig) map[string][]kv {
		out := map[string][]kv{}
		add := func(name string, s fbSection) {
			var ps []kv
			for _, p := range s.Props {
				if p.Key == "plugins_file" || p.Key == "parsers_file" {
					continue // the YAML format has plugins: and parsers: instead
				}
				ps = append(ps, p)
			}
			ps = append(ps, s.Commented...)
			sort.Slice(ps, func(i, j int) bool {
				if ps[i].Key != ps[j].Key {
					return ps[i].Key < ps[j].Key
				}
				return ps[i].Value < ps[j].Value
			})
			out[name] = ps
		}
		add("service", c.Service)
		for i, s := range c.Inputs {
			add(fmt.Sprintf("input %d", i), s)
		}
		for i, s := range c.Outputs {
			add(fmt.Sprintf("output %d", i), s)
		}
		return out
	}
	for _, alt := range []string{"", "systemd", "syslog"} {
		classic, ok1 := parsed[variant{"conf/fluent-bit.conf", alt}]
		yml, ok2 := parsed[variant{"conf/fluent-bit.yaml", alt}]
		if !ok1 || !ok2 {
			continue
		}
		if diff := cmp.Diff(norm(classic), norm(yml)); diff != "" {
			t.Errorf("alternative %q: fluent-bit.conf and fluent-bit.yaml differ (-conf +yaml):\n%s", alt, diff)
		}
	}
}

// TestPluginAndParserFiles checks that the plugin path and the syslog parser are the same in
// every file that names them, and that the parser does what its comment says.
func TestPluginAndParserFiles(t *testing.T) {
	_, yf := parseYAML(t, "conf/fluent-bit.yaml", readRepoFile(t, "conf/fluent-bit.yaml"))
	classicSections := parseClassicSections(t, "conf/plugins.conf", readRepoFile(t, "conf/plugins.conf"))
	if len(classicSections) != 1 || classicSections[0].Name != "plugins" {
		t.Fatalf("conf/plugins.conf: want one [PLUGINS] section, got %+v", classicSections)
	}
	classicPath, _ := classicSections[0].get("path")
	if diff := cmp.Diff([]string{classicPath}, yf.Plugins); diff != "" {
		t.Errorf("plugin paths: plugins.conf vs fluent-bit.yaml (-conf +yaml):\n%s", diff)
	}
	if !strings.HasSuffix(classicPath, "/out_courier_influxdb.so") || !strings.HasPrefix(classicPath, "/") {
		t.Errorf("plugin path %q: want an absolute path to out_courier_influxdb.so", classicPath)
	}
	if df := readRepoFile(t, "docker/Dockerfile"); !regexp.MustCompile(`(?m)^COPY --from=build \S+ ` + regexp.QuoteMeta(classicPath) + `$`).MatchString(df) {
		t.Errorf("docker/Dockerfile does not COPY the plugin to %s", classicPath)
	}

	parsers := parseClassicSections(t, "conf/parsers.conf", readRepoFile(t, "conf/parsers.conf"))
	if len(parsers) != 1 {
		t.Fatalf("conf/parsers.conf: %d sections, want 1", len(parsers))
	}
	if len(yf.Parsers) != 1 {
		t.Fatalf("conf/fluent-bit.yaml: %d parsers, want 1", len(yf.Parsers))
	}
	yp := yamlSection(t, "yaml parser", yf.Parsers[0])
	for _, key := range []string{"name", "format", "regex"} {
		a, _ := parsers[0].get(key)
		b, _ := yp.get(key)
		if a != b {
			t.Errorf("parser %s: parsers.conf %q, fluent-bit.yaml %q", key, a, b)
		}
	}
	rx, _ := parsers[0].get("regex")
	re, err := regexp.Compile(rx) // Go accepts the (?<name>...) groups of Onigmo
	if err != nil {
		t.Fatalf("parser regex %q: %v", rx, err)
	}
	for _, c := range []struct{ in, log string }{
		{"<22>Jul 29 06:36:47 server imapd-ssl: LOGOUT, user=example, ip=[::ffff:1.2.3.4], headers=0, body=0, rcvd=48, sent=292, time=344, starttls=1",
			"Jul 29 06:36:47 server imapd-ssl: LOGOUT, user=example, ip=[::ffff:1.2.3.4], headers=0, body=0, rcvd=48, sent=292, time=344, starttls=1"},
		{"<166>2026-07-29T06:36:47.123456+02:00 mx1 pop3d: LOGOUT, user=a@b.example, ip=[::1], port=[4711], top=0, retr=10, rcvd=20, sent=30, time=1, stls=1",
			"2026-07-29T06:36:47.123456+02:00 mx1 pop3d: LOGOUT, user=a@b.example, ip=[::1], port=[4711], top=0, retr=10, rcvd=20, sent=30, time=1, stls=1"},
	} {
		m := re.FindStringSubmatch(c.in)
		if m == nil {
			t.Errorf("parser regex does not match %q", c.in)
			continue
		}
		if got := m[re.SubexpIndex("log")]; got != c.log {
			t.Errorf("parser log = %q, want %q", got, c.log)
		}
	}
}
