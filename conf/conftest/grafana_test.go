package conftest

import (
	"encoding/json"
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"
)

const grafanaDashboardPath = "conf/grafana/dashboards/courier-traffic.json"

// grafanaQueries returns the Flux queries of the provisioned Grafana dashboard (panel targets
// and template variables), keyed by a name for messages.
func grafanaQueries(t testing.TB) map[string]string {
	t.Helper()
	var d struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Query string `json:"query"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, grafanaDashboardPath)), &d); err != nil {
		t.Fatalf("%s: %v", grafanaDashboardPath, err)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		if p.Datasource.UID != grafanaDatasourceUID(t) {
			t.Errorf("%s panel %q: data source %q, want the provisioned %q", grafanaDashboardPath, p.Title, p.Datasource.UID, grafanaDatasourceUID(t))
		}
		for i, tg := range p.Targets {
			out[fmt.Sprintf("%s panel %q target %d", grafanaDashboardPath, p.Title, i)] = tg.Query
		}
	}
	for _, v := range d.Templating.List {
		out[fmt.Sprintf("%s variable %q", grafanaDashboardPath, v.Name)] = v.Query
	}
	if len(out) == 0 {
		t.Fatalf("%s: no queries", grafanaDashboardPath)
	}
	return out
}

// grafanaDatasourceUID returns the uid of the provisioned InfluxDB data source.
func grafanaDatasourceUID(t testing.TB) string {
	t.Helper()
	const p = "conf/grafana/provisioning/datasources/courier-influxdb.yaml"
	var f struct {
		Datasources []struct {
			UID      string `yaml:"uid"`
			Type     string `yaml:"type"`
			JSONData struct {
				Version string `yaml:"version"`
			} `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, p)), &f); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if len(f.Datasources) != 1 || f.Datasources[0].Type != "influxdb" || f.Datasources[0].JSONData.Version != "Flux" {
		t.Fatalf("%s: want one influxdb data source with version Flux, got %+v", p, f.Datasources)
	}
	return f.Datasources[0].UID
}
