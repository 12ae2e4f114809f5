package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// yamlConf is the shipped conf/fluent-bit.yaml as a YAML node tree, edited
// in place so that everything not touched stays as shipped.
type yamlConf struct {
	root *yaml.Node // the document's top-level mapping
}

func parseYAML(t testing.TB, src string) *yamlConf {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("fluent-bit.yaml: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatal("fluent-bit.yaml: not a mapping")
	}
	return &yamlConf{root: doc.Content[0]}
}

// child returns the value of key in mapping m, or nil.
func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if strings.EqualFold(m.Content[i].Value, key) {
			return m.Content[i+1]
		}
	}
	return nil
}

// path walks mapping keys; a numeric element indexes a sequence.
func (c *yamlConf) path(t testing.TB, keys ...string) *yaml.Node {
	t.Helper()
	n := c.root
	for _, k := range keys {
		var i int
		if _, err := fmt.Sscan(k, &i); err == nil && n.Kind == yaml.SequenceNode {
			if i >= len(n.Content) {
				t.Fatalf("fluent-bit.yaml: %v: index %d out of range", keys, i)
			}
			n = n.Content[i]
			continue
		}
		if n = child(n, k); n == nil {
			t.Fatalf("fluent-bit.yaml: no %v", keys)
		}
	}
	return n
}

// set gives key the scalar value in mapping m (added at the end if absent).
func set(m *yaml.Node, key, value string) {
	if v := child(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style, v.Content = yaml.ScalarNode, "", value, 0, nil
		return
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

func (c *yamlConf) bytes(t testing.TB) []byte {
	t.Helper()
	b, err := yaml.Marshal(c.root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTailYAML: the shipped conf/fluent-bit.yaml (tail input, the parser
// and the plugin list inline), adapted like the classic file in newRun.
// The plugin is loaded through the file's own plugins: list (its path
// replaced by the built .so) instead of -e.
func TestTailYAML(t *testing.T) {
	bin, plugin := setup(t)
	began := time.Now()
	g := generate(t, logOptions(1308, loggen.RFC3339, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false))
	dir := workDir(t)
	if err := os.WriteFile(filepath.Join(dir, "mail.log"), g.raw(0, len(g.lines)), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	c := parseYAML(t, shippedConf(t, "fluent-bit.yaml"))
	svc := c.path(t, "service")
	for k, v := range map[string]string{
		"flush": "1", "grace": "10", "storage.path": filepath.Join(dir, "storage"), "storage.metrics": "on",
		"scheduler.base": "1", "scheduler.cap": "3",
		"http_server": "on", "http_listen": "127.0.0.1", "http_port": fmt.Sprint(port),
	} {
		set(svc, k, v)
	}
	plugins := c.path(t, "plugins")
	if plugins.Kind != yaml.SequenceNode || len(plugins.Content) != 1 {
		t.Fatalf("fluent-bit.yaml: plugins is not a list of one path")
	}
	plugins.Content[0].Value = plugin
	in := c.path(t, "pipeline", "inputs", "0")
	if v := child(in, "name"); v == nil || v.Value != "tail" {
		t.Fatal("fluent-bit.yaml: the first input is not tail")
	}
	set(in, "path", filepath.Join(dir, "mail.log"))
	set(in, "db", filepath.Join(dir, "courier-tail.db"))
	set(in, "read_from_head", "true")
	set(in, "refresh_interval", "1")
	conf := filepath.Join(dir, "fluent-bit.yaml")
	if err := os.WriteFile(conf, c.bytes(t), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := startInflux(t)
	fb := startFluentBitArgs(t, bin, dir, port, []string{"-c", conf}, influxEnv(srv, "Europe/Berlin")...)
	cnt := fb.waitProcessed("tail", g.truth.Lines)
	fb.stop()
	compare(t, "tail/yaml-rfc3339", srv, g, cnt.InRecords, began)
}
