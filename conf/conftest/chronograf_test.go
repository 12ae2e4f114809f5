package conftest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/courier-traffic/courier-traffic/flush"
)

const chronografDashboardPath = "conf/chronograf/courier-traffic.json"

// chronografFile is the dashboard file as Chronograf's "Import Dashboard" reads it: the
// export format {meta, dashboard}, the dashboard with cells (grid position, name, type,
// queries) and templates (tempVar, type, values, query). Field names follow Chronograf's
// chronograf.Dashboard, DashboardCell, DashboardQuery and Template types.
type chronografFile struct {
	Meta *struct {
		ChronografVersion string          `json:"chronografVersion"`
		Sources           json.RawMessage `json:"sources"`
	} `json:"meta"`
	Dashboard *struct {
		Cells []struct {
			I       string          `json:"i"`
			X       *int            `json:"x"`
			Y       *int            `json:"y"`
			W       *int            `json:"w"`
			H       *int            `json:"h"`
			Name    string          `json:"name"`
			Type    string          `json:"type"`
			Axes    json.RawMessage `json:"axes"`
			Queries []struct {
				Query       string `json:"query"`
				Type        string `json:"type"`
				QueryConfig *struct {
					Database        string  `json:"database"`
					Measurement     string  `json:"measurement"`
					RetentionPolicy string  `json:"retentionPolicy"`
					RawText         *string `json:"rawText"`
				} `json:"queryConfig"`
			} `json:"queries"`
		} `json:"cells"`
		Templates []struct {
			TempVar string            `json:"tempVar"`
			ID      string            `json:"id"`
			Type    string            `json:"type"`
			Values  []json.RawMessage `json:"values"`
			Query   *struct {
				InfluxQL    string `json:"influxql"`
				DB          string `json:"db"`
				RP          string `json:"rp"`
				Measurement string `json:"measurement"`
				TagKey      string `json:"tagKey"`
			} `json:"query"`
		} `json:"templates"`
		Name string `json:"name"`
	} `json:"dashboard"`
}

// fromRe matches a fully qualified measurement: "db"."rp"."measurement".
var fromRe = regexp.MustCompile(`FROM "([^"]+)"\."([^"]+)"\."([^"]+)"`)

var (
	anyFromRe = regexp.MustCompile(`\bFROM\b`)
	tempVarRe = regexp.MustCompile(`:[a-zA-Z][a-zA-Z0-9_]*:`)
	cellTypes = map[string]bool{"line": true, "line-stacked": true, "line-stepplot": true, "line-plus-single-stat": true,
		"bar": true, "single-stat": true, "gauge": true, "table": true, "note": true}
	templateTypes = map[string]bool{"databases": true, "measurements": true, "fieldKeys": true, "tagKeys": true,
		"tagValues": true, "csv": true, "map": true, "constant": true, "influxql": true, "text": true}
	predefinedVars = map[string]bool{":dashboardTime:": true, ":upperDashboardTime:": true, ":interval:": true}
)

// TestChronografDashboard checks the structure Chronograf's import reads and that every query
// reads the database, retention policies and measurements the plugin, the ranking and the
// continuous queries write: database and raw RP from the plugin's default influx_bucket
// (courier/autogen), the daily RP from the task's daily_bucket (courier/daily, the installer's
// --daily-rp default), measurements courier_session (plugin), courier_daily (task and CQs) and
// the stats_measurement of the shipped Fluent Bit config.
func TestChronografDashboard(t *testing.T) {
	var f chronografFile
	if err := json.Unmarshal([]byte(readRepoFile(t, chronografDashboardPath)), &f); err != nil {
		t.Fatalf("%s: %v", chronografDashboardPath, err)
	}
	if f.Meta == nil || f.Meta.ChronografVersion == "" || len(f.Meta.Sources) == 0 {
		t.Errorf("meta.chronografVersion and meta.sources are what the import checks first")
	}
	if f.Dashboard == nil || f.Dashboard.Name == "" || len(f.Dashboard.Cells) == 0 {
		t.Fatalf("dashboard with a name and cells expected")
	}

	def := flush.DefaultConfig()
	db, rawRP, ok := strings.Cut(def.InfluxBucket, "/")
	if !ok {
		t.Fatalf("plugin default influx_bucket %q is not db/rp", def.InfluxBucket)
	}
	settings := fluxSettings(t, readRepoFile(t, fluxTaskPath))
	dailyDB, dailyRP, ok := strings.Cut(settings["daily_bucket"], "/")
	if !ok || dailyDB != db {
		t.Fatalf("task daily_bucket %q is not %s/rp", settings["daily_bucket"], db)
	}
	statsRe := regexp.MustCompile(`(?m)^\s*#\s*stats_measurement\s+(\S+)$`)
	m := statsRe.FindStringSubmatch(readRepoFile(t, "conf/fluent-bit.conf"))
	if m == nil {
		t.Fatal("conf/fluent-bit.conf: no (commented) stats_measurement line")
	}
	// measurement -> the retention policy it lives in.
	allowed := map[string]string{
		def.Measurement:               rawRP,
		m[1]:                          rawRP,
		settings["daily_measurement"]: dailyRP,
	}
	read := map[string]bool{}

	type box struct{ x, y, w, h int }
	var boxes []box
	ids := map[string]bool{}
	used := map[string]bool{}
	for i, c := range f.Dashboard.Cells {
		if c.I == "" || ids[c.I] {
			t.Errorf("cell %d: id (i) %q empty or repeated", i, c.I)
		}
		ids[c.I] = true
		if c.X == nil || c.Y == nil || c.W == nil || c.H == nil {
			t.Errorf("cell %q: x, y, w and h are all needed", c.Name)
			continue
		}
		b := box{*c.X, *c.Y, *c.W, *c.H}
		if b.x < 0 || b.y < 0 || b.w <= 0 || b.h <= 0 || b.x+b.w > 12 {
			t.Errorf("cell %q: position %+v outside the 12-column grid", c.Name, b)
		}
		for _, o := range boxes {
			if b.x < o.x+o.w && o.x < b.x+b.w && b.y < o.y+o.h && o.y < b.y+b.h {
				t.Errorf("cell %q %+v overlaps %+v", c.Name, b, o)
			}
		}
		boxes = append(boxes, b)
		if c.Name == "" || !cellTypes[c.Type] {
			t.Errorf("cell %d: name %q, type %q", i, c.Name, c.Type)
		}
		if len(c.Queries) == 0 {
			t.Errorf("cell %q: no queries", c.Name)
		}
		for _, v := range tempVarRe.FindAllString(c.Name, -1) {
			used[v] = true
		}
		for j, q := range c.Queries {
			if q.Type != "influxql" || strings.TrimSpace(q.Query) == "" {
				t.Errorf("cell %q query %d: type %q, query %q", c.Name, j, q.Type, q.Query)
				continue
			}
			froms := fromRe.FindAllStringSubmatch(q.Query, -1)
			if len(froms) == 0 || len(froms) != len(anyFromRe.FindAllString(q.Query, -1)) {
				t.Errorf("cell %q query %d: every FROM must name \"db\".\"rp\".\"measurement\": %s", c.Name, j, q.Query)
			}
			for _, fr := range froms {
				if fr[1] != db {
					t.Errorf("cell %q: database %q, want %q", c.Name, fr[1], db)
				}
				if rp, ok := allowed[fr[3]]; !ok || rp != fr[2] {
					t.Errorf("cell %q: reads %q.%q, which nothing writes (want one of %v as measurement: rp)", c.Name, fr[2], fr[3], allowed)
				}
				read[fr[3]] = true
				qc := q.QueryConfig
				if qc == nil || qc.Database != fr[1] || qc.RetentionPolicy != fr[2] || qc.Measurement != fr[3] {
					t.Errorf("cell %q: queryConfig %+v does not name %s.%s.%s", c.Name, qc, fr[1], fr[2], fr[3])
				}
			}
			if qc := q.QueryConfig; qc == nil || qc.RawText == nil || *qc.RawText != q.Query {
				t.Errorf("cell %q: queryConfig.rawText must be the query (Chronograf shows it in the editor)", c.Name)
			}
			if strings.Count(q.Query, "tz('UTC')") != 1 {
				t.Errorf("cell %q: want exactly one tz('UTC') (the documented edit): %s", c.Name, q.Query)
			}
			for _, v := range tempVarRe.FindAllString(q.Query, -1) {
				used[v] = true
			}
		}
	}
	for meas := range allowed {
		if !read[meas] {
			t.Errorf("no cell reads %q", meas)
		}
	}

	defined := map[string]bool{}
	for _, tv := range f.Dashboard.Templates {
		if !tempVarRe.MatchString(tv.TempVar) || tempVarRe.FindString(tv.TempVar) != tv.TempVar || predefinedVars[tv.TempVar] {
			t.Errorf("template %q: tempVar must be :name: and not a predefined one", tv.TempVar)
		}
		defined[tv.TempVar] = true
		if tv.ID == "" || !templateTypes[tv.Type] || tv.Values == nil {
			t.Errorf("template %q: id %q, type %q, values %v", tv.TempVar, tv.ID, tv.Type, tv.Values)
		}
		if tv.Type == "influxql" || tv.Type == "tagValues" {
			q := tv.Query
			if q == nil || q.InfluxQL == "" {
				t.Errorf("template %q: a %s template needs query.influxql", tv.TempVar, tv.Type)
				continue
			}
			want := `ON "` + db + `" FROM "` + dailyRP + `"."` + settings["daily_measurement"] + `"`
			if !strings.Contains(q.InfluxQL, want) || q.DB != db || q.RP != dailyRP || q.Measurement != settings["daily_measurement"] {
				t.Errorf("template %q: query %+v does not name %s", tv.TempVar, q, want)
			}
		}
	}
	for v := range used {
		if !predefinedVars[v] && !defined[v] {
			t.Errorf("%s is used but is neither a template nor predefined", v)
		}
	}
	for v := range defined {
		if !used[v] {
			t.Errorf("template %s is never used", v)
		}
	}
}
