package conftest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/courier-traffic/courier-traffic/flush"
)

var update = flag.Bool("update", false, "rewrite the template's task query from conf/flux/courier_daily_ranking.flux")

// templateDoc is the part of an InfluxDB template (influx apply) resource the tests read.
type templateDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Name   string `yaml:"name"`
		Every  string `yaml:"every"`
		Offset string `yaml:"offset"`
		Query  string `yaml:"query"`
		Charts []struct {
			Name    string `yaml:"name"`
			Queries []struct {
				Query string `yaml:"query"`
			} `yaml:"queries"`
		} `yaml:"charts"`
		Associations []struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"associations"`
	} `yaml:"spec"`
}

func loadTemplate(t testing.TB) []templateDoc {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, templatePath)))
	var docs []templateDoc
	for {
		var d templateDoc
		err := dec.Decode(&d)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: %v", templatePath, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// optionTaskRe matches the task option line of the .flux file.
var optionTaskRe = regexp.MustCompile(`(?m)^option task = \{name: "([^"]+)", every: ([0-9a-z]+), offset: ([0-9a-z]+)\}\n`)

// taskQueryFromFlux is what the template's Task query must be: the .flux file without its
// option task line, which influx apply generates from spec.name/every/offset.
func taskQueryFromFlux(t testing.TB) (query, name, every, offset string) {
	t.Helper()
	src := readRepoFile(t, fluxTaskPath)
	m := optionTaskRe.FindStringSubmatch(src)
	if m == nil || len(optionTaskRe.FindAllString(src, -1)) != 1 {
		t.Fatalf("%s: want exactly one line `option task = {name: \"...\", every: ..., offset: ...}`", fluxTaskPath)
	}
	return optionTaskRe.ReplaceAllString(src, ""), m[1], m[2], m[3]
}

// pkgerImportRe is the expression influx apply (pkger's taskFluxTranslation) uses to find the
// end of the imports, after which it inserts the generated option task line.
var pkgerImportRe = regexp.MustCompile(`import\s+\".*\"`)

// pkgerTaskFlux reproduces how influx apply turns a Task resource into the task's Flux.
func pkgerTaskFlux(query, name string, every, offset time.Duration) string {
	opt := fmt.Sprintf("option task = { name: %q, every: %s, offset: %s }", name, every, offset)
	idx := pkgerImportRe.FindAllStringIndex(query, -1)
	if len(idx) == 0 {
		return opt + "\n" + query
	}
	last := idx[len(idx)-1][1]
	return query[:last] + "\n\n" + opt + "\n" + query[last:]
}

func TestTemplateTaskMatchesFluxFile(t *testing.T) {
	want, name, every, offset := taskQueryFromFlux(t)
	var task *templateDoc
	docs := loadTemplate(t)
	for i := range docs {
		if docs[i].Kind == "Task" {
			if task != nil {
				t.Fatalf("%s: more than one Task", templatePath)
			}
			task = &docs[i]
		}
	}
	if task == nil {
		t.Fatalf("%s: no Task", templatePath)
	}
	if *update {
		rewriteTemplateQuery(t, want)
		return
	}
	if diff := cmp.Diff(want, task.Spec.Query); diff != "" {
		t.Errorf("template task query differs from %s (-want +got); run go test ./conf/conftest -run Template -update\n%s", fluxTaskPath, diff)
	}
	for _, c := range []struct{ field, got, want string }{
		{"spec.name", task.Spec.Name, name},
		{"metadata.name", task.Metadata.Name, name},
		{"spec.every", task.Spec.Every, every},
		{"spec.offset", task.Spec.Offset, offset},
	} {
		if c.got != c.want {
			t.Errorf("template Task %s = %q, want %q (the .flux file's option task)", c.field, c.got, c.want)
		}
	}
}

// rewriteTemplateQuery replaces the block scalar after the Task's `  query: |` line.
func rewriteTemplateQuery(t *testing.T, query string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), filepath.FromSlash(templatePath))
	src := readRepoFile(t, templatePath)
	start := strings.Index(src, "\nkind: Task\n")
	if start < 0 {
		t.Fatalf("%s: no kind: Task", templatePath)
	}
	head := "\n  query: |\n"
	q := strings.Index(src[start:], head)
	if q < 0 {
		t.Fatalf("%s: Task has no `  query: |` line", templatePath)
	}
	bodyStart := start + q + len(head)
	bodyEnd := strings.Index(src[bodyStart:], "\n---\n")
	if bodyEnd < 0 {
		bodyEnd = len(src) - bodyStart
	} else {
		bodyEnd++ // keep the newline before ---
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(query, "\n"), "\n") {
		if l != "" {
			b.WriteString("    ")
			b.WriteString(l)
		}
		b.WriteByte('\n')
	}
	out := src[:bodyStart] + b.String() + src[bodyStart+bodyEnd:]
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote the task query of %s", templatePath)
}

// TestTaskImportsForPkger checks that influx apply will insert its option task line after the
// real imports: it takes the last match of `import "..."` anywhere in the text, comments too.
func TestTaskImportsForPkger(t *testing.T) {
	query, _, _, _ := taskQueryFromFlux(t)
	var lastImportLine int
	for i, l := range strings.Split(query, "\n") {
		if strings.HasPrefix(l, "import \"") {
			lastImportLine = i
		}
	}
	matches := pkgerImportRe.FindAllStringIndex(query, -1)
	if len(matches) == 0 {
		t.Fatal("no imports found")
	}
	lastMatchLine := strings.Count(query[:matches[len(matches)-1][0]], "\n")
	if lastMatchLine != lastImportLine {
		t.Errorf("line %d matches %s but is not the last import line (%d): influx apply would insert option task there",
			lastMatchLine+1, pkgerImportRe, lastImportLine+1)
	}
}

func TestShippedFluxParses(t *testing.T) {
	query, name, _, _ := taskQueryFromFlux(t)
	sources := map[string]string{
		fluxTaskPath:                        readRepoFile(t, fluxTaskPath),
		templatePath + " task (as applied)": pkgerTaskFlux(query, name, time.Hour, 5*time.Minute),
	}
	for _, d := range loadTemplate(t) {
		if d.Kind == "Variable" {
			sources[templatePath+" variable "+d.Spec.Name] = d.Spec.Query
		}
		for _, c := range d.Spec.Charts {
			for i, q := range c.Queries {
				sources[fmt.Sprintf("%s chart %q query %d", templatePath, c.Name, i)] = q.Query
			}
		}
	}
	for name, q := range grafanaQueries(t) {
		sources[name] = q
	}
	got := parseFlux(t, sources)
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			r := got[n]
			if len(r.Errors) > 0 {
				t.Errorf("Flux syntax errors: %q", r.Errors)
			}
			if r.Statements == 0 {
				t.Errorf("no statements parsed")
			}
		})
	}
}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// TestTemplateNames checks the template against the plugin's defaults and the task settings.
func TestTemplateNames(t *testing.T) {
	def := flush.DefaultConfig()
	settings := fluxSettings(t, readRepoFile(t, fluxTaskPath))
	if got, want := settings["influx_bucket"], def.InfluxBucket; got != want {
		t.Errorf("task influx_bucket = %q, want the plugin default %q", got, want)
	}
	if got, want := settings["measurement"], def.Measurement; got != want {
		t.Errorf("task measurement = %q, want the plugin default %q", got, want)
	}
	if got, want := settings["daily_measurement"], "courier_daily"; got != want {
		t.Errorf("task daily_measurement = %q, want %q (docs/design.md, Schema)", got, want)
	}

	buckets := map[string]bool{}
	labels := map[string]bool{}
	kinds := map[string]int{}
	docs := loadTemplate(t)
	for _, d := range docs {
		kinds[d.Kind]++
		if d.APIVersion != "influxdata.com/v2alpha1" {
			t.Errorf("%s %q: apiVersion %q", d.Kind, d.Metadata.Name, d.APIVersion)
		}
		if !dns1123.MatchString(d.Metadata.Name) {
			t.Errorf("%s metadata.name %q is not a DNS-1123 label", d.Kind, d.Metadata.Name)
		}
		switch d.Kind {
		case "Bucket":
			buckets[d.Spec.Name] = true
		case "Label":
			labels[d.Metadata.Name] = true
		}
	}
	for _, d := range docs {
		for _, a := range d.Spec.Associations {
			if a.Kind == "Label" && !labels[a.Name] {
				t.Errorf("%s %q: associated label %q is not defined", d.Kind, d.Metadata.Name, a.Name)
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"Label": 1, "Bucket": 2, "Task": 1, "Variable": 1, "Dashboard": 1,
		"CheckThreshold": 1, "NotificationEndpointHTTP": 1, "NotificationRule": 1}, kinds); diff != "" {
		t.Errorf("template resources (-want +got):\n%s", diff)
	}
	for _, b := range []string{def.InfluxBucket, settings["daily_bucket"]} {
		if !buckets[b] {
			t.Errorf("template has no bucket %q (buckets: %v)", b, buckets)
		}
	}

	// Every bucket and measurement a shipped query reads must be one the template creates
	// and the task or the plugin writes.
	measurements := map[string]bool{
		def.Measurement:                true,
		settings["daily_measurement"]:  true,
		settings["domain_measurement"]: true,
	}
	bucketRe := regexp.MustCompile(`bucket: "([^"]+)"`)
	measRe := regexp.MustCompile(`_measurement == "([^"]+)"`)
	queries := grafanaQueries(t)
	for _, d := range docs {
		if d.Kind == "Variable" {
			queries["variable "+d.Spec.Name] = d.Spec.Query
		}
		for _, c := range d.Spec.Charts {
			for i, q := range c.Queries {
				queries[fmt.Sprintf("chart %q query %d", c.Name, i)] = q.Query
			}
		}
	}
	for name, q := range queries {
		for _, m := range bucketRe.FindAllStringSubmatch(q, -1) {
			if !buckets[m[1]] {
				t.Errorf("%s reads bucket %q, which the template does not create", name, m[1])
			}
		}
		for _, m := range measRe.FindAllStringSubmatch(q, -1) {
			if !measurements[m[1]] {
				t.Errorf("%s reads measurement %q, which nothing writes", name, m[1])
			}
		}
	}
}
