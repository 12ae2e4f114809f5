package conftest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// alertDoc is the part of the template's alert resources the tests read.
type alertDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Name                  string `yaml:"name"`
		Every                 string `yaml:"every"`
		Offset                string `yaml:"offset"`
		Query                 string `yaml:"query"`
		StatusMessageTemplate string `yaml:"statusMessageTemplate"`
		Tags                  []struct {
			Key   string `yaml:"key"`
			Value string `yaml:"value"`
		} `yaml:"tags"`
		Thresholds []struct {
			Type  string  `yaml:"type"`
			Level string  `yaml:"level"`
			Value float64 `yaml:"value"`
		} `yaml:"thresholds"`
		URL             string `yaml:"url"`
		Method          string `yaml:"method"`
		EndpointName    string `yaml:"endpointName"`
		MessageTemplate string `yaml:"messageTemplate"`
		StatusRules     []struct {
			CurrentLevel string `yaml:"currentLevel"`
		} `yaml:"statusRules"`
		TagRules []struct {
			Key      string `yaml:"key"`
			Value    string `yaml:"value"`
			Operator string `yaml:"operator"`
		} `yaml:"tagRules"`
	} `yaml:"spec"`
}

const alertURLPlaceholder = "https://alerts.example.invalid/courier-traffic"

func alertDocs(t *testing.T) map[string]alertDoc {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, templatePath)))
	out := map[string]alertDoc{}
	for {
		var d alertDoc
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: %v", templatePath, err)
		}
		switch d.Kind {
		case "CheckThreshold", "NotificationEndpointHTTP", "NotificationRule":
			if _, dup := out[d.Kind]; dup {
				t.Fatalf("%s: two %s", templatePath, d.Kind)
			}
			out[d.Kind] = d
		}
	}
	return out
}

// thresholdCheckFlux reproduces the task InfluxDB 2.x generates from a threshold check
// (notification/check/threshold.go, GenerateFluxAST): every `start:` becomes -every, the
// range's stop is dropped, the pipeline becomes `data`, the check's option task, check record,
// level functions comparing the one filtered _field with a float, the message function and
// the monitor.check call are appended.
func thresholdCheckFlux(d alertDoc) string {
	q := regexp.MustCompile(`start: [^,)]+`).ReplaceAllString(d.Spec.Query, "start: -"+d.Spec.Every)
	field := regexp.MustCompile(`r\._field == "([^"]+)"`).FindStringSubmatch(q)[1]
	var b strings.Builder
	b.WriteString("import \"influxdata/influxdb/monitor\"\nimport \"influxdata/influxdb/v1\"\n\n")
	fmt.Fprintf(&b, "data = %s\n", strings.TrimSpace(q))
	fmt.Fprintf(&b, "option task = {name: %q, every: %s, offset: %s}\n", d.Spec.Name, d.Spec.Every, d.Spec.Offset)
	b.WriteString("check = {_check_id: \"000000000000000a\", _check_name: " + strconv.Quote(d.Spec.Name) + ", _type: \"threshold\", tags: {}}\n")
	var levels []string
	for _, th := range d.Spec.Thresholds {
		lvl := strings.ToLower(th.Level)
		fmt.Fprintf(&b, "%s = (r) => r[%q] > %s\n", lvl, field, strconv.FormatFloat(th.Value, 'f', 1, 64))
		levels = append(levels, lvl+": "+lvl)
	}
	fmt.Fprintf(&b, "messageFn = (r) => %q\n", d.Spec.StatusMessageTemplate)
	fmt.Fprintf(&b, "data |> v1[\"fieldsAsCols\"]() |> monitor[\"check\"](data: check, messageFn: messageFn, %s)\n", strings.Join(levels, ", "))
	return b.String()
}

// TestTemplateAlerts checks the threshold check, the endpoint and the rule: the check reads
// what the task writes for it (daily_bucket, running_measurement, the field total) one period
// after the task wrote it, compares it with the task's threshold, its Flux (as given, and as
// InfluxDB turns it into a task) parses with the real parser, and the rule reaches the check
// by its tag and the endpoint by its name.
func TestTemplateAlerts(t *testing.T) {
	docs := alertDocs(t)
	check, endpoint, rule := docs["CheckThreshold"], docs["NotificationEndpointHTTP"], docs["NotificationRule"]
	if check.Kind == "" || endpoint.Kind == "" || rule.Kind == "" {
		t.Fatalf("template lacks a CheckThreshold, NotificationEndpointHTTP or NotificationRule: %v", docs)
	}
	settings := fluxSettings(t, readRepoFile(t, fluxTaskPath))
	q := check.Spec.Query
	for _, want := range []string{
		`from(bucket: ` + strconv.Quote(settings["daily_bucket"]) + `)`,
		`r._measurement == ` + strconv.Quote(settings["running_measurement"]),
		`r._field == "total"`,
	} {
		if !strings.Contains(q, want) {
			t.Errorf("check query lacks %s:\n%s", want, q)
		}
	}
	if n := len(regexp.MustCompile(`_field ==`).FindAllString(q, -1)); n != 1 {
		t.Errorf("check query filters %d fields; InfluxDB's threshold check needs exactly one", n)
	}
	if !strings.Contains(readRepoFile(t, fluxTaskPath), "_measurement: running_measurement") {
		t.Errorf("%s does not write running_measurement", fluxTaskPath)
	}
	threshold, err := strconv.ParseFloat(settings["threshold"], 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Spec.Thresholds) != 1 || check.Spec.Thresholds[0].Type != "greater" || check.Spec.Thresholds[0].Value != threshold {
		t.Errorf("check thresholds %+v, want one greater than the task's threshold %v", check.Spec.Thresholds, threshold)
	}
	// The task (every 1h, offset 5m) stamps the running totals at its schedule time T; the
	// check scheduled at T+every reads [T, T+every) and must run after the task wrote.
	_, _, taskEvery, taskOffset := taskQueryFromFlux(t)
	dur := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("duration %q: %v", s, err)
		}
		return d
	}
	if check.Spec.Every != taskEvery || dur(check.Spec.Offset) <= dur(taskOffset) {
		t.Errorf("check every %s offset %s; want every = the task's %s and offset > the task's %s", check.Spec.Every, check.Spec.Offset, taskEvery, taskOffset)
	}
	if dur(rule.Spec.Offset) <= dur(check.Spec.Offset) || rule.Spec.Every != check.Spec.Every {
		t.Errorf("rule every %s offset %s; want the check's every and a later offset than %s", rule.Spec.Every, rule.Spec.Offset, check.Spec.Offset)
	}

	if rule.Spec.EndpointName != endpoint.Metadata.Name {
		t.Errorf("rule endpointName %q, endpoint is %q", rule.Spec.EndpointName, endpoint.Metadata.Name)
	}
	tags := map[string]string{}
	for _, tg := range check.Spec.Tags {
		tags[tg.Key] = tg.Value
	}
	if len(rule.Spec.TagRules) == 0 {
		t.Error("rule has no tag rule: it would notify on every check of the organisation")
	}
	for _, tr := range rule.Spec.TagRules {
		if tr.Operator != "equal" || tags[tr.Key] != tr.Value {
			t.Errorf("rule tag rule %+v does not match the check's tags %v", tr, tags)
		}
	}
	if len(rule.Spec.StatusRules) == 0 || rule.Spec.StatusRules[0].CurrentLevel != check.Spec.Thresholds[0].Level {
		t.Errorf("rule status rules %+v do not match the check's level", rule.Spec.StatusRules)
	}
	if endpoint.Spec.URL != alertURLPlaceholder || endpoint.Spec.Method != "POST" {
		t.Errorf("endpoint url %q method %q; want the documented placeholder and POST", endpoint.Spec.URL, endpoint.Spec.Method)
	}
	if !strings.Contains(readRepoFile(t, templatePath), "sed 's#"+alertURLPlaceholder+"#") {
		t.Errorf("%s's header does not show how to replace the endpoint URL", templatePath)
	}

	got := parseFlux(t, map[string]string{
		"check query":          q,
		"check task (as made)": thresholdCheckFlux(check),
		"rule message":         "r = {_message: \"m\"}\nx = \"" + rule.Spec.MessageTemplate + "\"\n",
	})
	for name, r := range got {
		if len(r.Errors) > 0 || r.Statements == 0 {
			t.Errorf("%s: Flux errors %q (%d statements)", name, r.Errors, r.Statements)
		}
	}
}

// TestRunningTotalsOnServer runs the task's running-total block (what the threshold check
// reads) on the real Flux engine of the test server, as TestRankingPipelineOnServer runs the
// ranking: for one generated day as "today" it must give the day's ranked users with their
// service "all" sums and ranks, stamped at now(), in running_measurement (wideTo, which
// Flux 0.65 lacks, is left out).
func TestRunningTotalsOnServer(t *testing.T) {
	g := writeGenerated(t)
	day := g.truth.Days()[0]
	threshold := thresholdFor(t, g.truth, day)
	start, _ := dayBounds(t, day, g.loc)
	src := readRepoFile(t, fluxTaskPath)
	begin := strings.Index(src, "userRanking(start: today, stop: tomorrow)\n    |> filter(fn: (r) => r.service == \"all\"")
	end := strings.Index(src, "    |> influxdb.wideTo(bucket: daily_bucket)\n    |> yield(name: \"running\")")
	if begin < 0 || end < begin {
		t.Fatalf("%s: running-total block not found", fluxTaskPath)
	}
	prog := pipelineProgram(t, g.srv.Bucket, threshold, []time.Time{start}) +
		"today = start0\ntomorrow = stop0\n" + src[begin:end] + "    |> yield(name: \"running\")\n"
	before := time.Now()
	rows := g.srv.Flux(t, prog)
	settings := fluxSettings(t, src)
	users, _ := expectedRanking(g.truth, day, threshold)
	var want, got []rankRow
	for _, r := range users {
		if r.Service == "all" && r.Name != totalUser {
			want = append(want, r)
		}
	}
	for _, r := range rows {
		if r["result"] != "running" {
			continue
		}
		tm, err := time.Parse(time.RFC3339Nano, r["_time"])
		if err != nil || tm.Before(before.Add(-time.Minute)) || tm.After(time.Now().Add(time.Minute)) {
			t.Errorf("_time %q: want the query's now() (%v)", r["_time"], err)
		}
		if r["_measurement"] != settings["running_measurement"] || r["service"] != "" {
			t.Errorf("row %v: want _measurement %q and no service column", r, settings["running_measurement"])
		}
		got = append(got, rankRow{Day: day, Name: r["user"], Service: "all", Rcvd: fluxInt(t, r, "rcvd"), Sent: fluxInt(t, r, "sent"),
			Total: fluxInt(t, r, "total"), Sessions: fluxInt(t, r, "sessions"), Rank: fluxInt(t, r, "rank")})
	}
	if len(want) < 5 {
		t.Fatalf("only %d ranked users", len(want))
	}
	if diff := cmp.Diff(sortRows(want), sortRows(got)); diff != "" {
		t.Errorf("running totals (-want +got):\n%s", diff)
	}
}
