package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/report"
)

// report --influx-url reads with Flux by default (InfluxDB 2.x, 1.8 with flux-enabled);
// --influx-query-language influxql reads with InfluxQL instead, so that the report and its
// --alert-above mode work on every InfluxDB version: 1.x without Flux (1.7 and older, or
// flux-enabled = false) and InfluxDB 3, which answers InfluxQL on /query but has no Flux.

// addInfluxLanguageFlag registers --influx-query-language.
func addInfluxLanguageFlag(fs *flag.FlagSet) *string {
	return fs.String("influx-query-language", "flux", "with --influx-url: flux (InfluxDB 2.x, 1.8 with flux-enabled) or influxql (any 1.x, InfluxDB 3; the bucket is database/rp or database)")
}

// queryInfluxIn reads the day's per-user sums in the chosen language.
func queryInfluxIn(ctx context.Context, lang string, cfg *flush.Config, date report.Date, svc report.Service) (map[string]report.Sums, error) {
	switch lang {
	case "flux":
		return report.QueryInflux(ctx, cfg, date, svc)
	case "influxql":
		return report.QueryInfluxQL(ctx, cfg, date, svc)
	}
	return nil, usageError(fmt.Errorf("--influx-query-language %q: want flux or influxql", lang))
}
