package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// unauthenticatedUser is the user tag the plugin gives pre-login sessions
// when count_unauthenticated is on; they are not users of the report.
const unauthenticatedUser = "(none)"

// FluxQuery returns the Flux program that sums a day's sessions per user:
// two results, "sum" (rcvd and sent per user) and "count" (sessions per
// user, counted on the rcvd field so that sessions without byte counters are
// left out as in the report from files). It runs on Flux 0.65 (InfluxDB
// 1.8.10) as well as on InfluxDB 2.x: absolute range bounds computed here
// in the report's zone, no timezone package, no query parameters.
func FluxQuery(cfg *flush.Config, date Date, svc Service) string {
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	start, end := date.Bounds(loc)
	var b strings.Builder
	fmt.Fprintf(&b, "data = from(bucket: %s)\n", fluxString(cfg.InfluxBucket))
	fmt.Fprintf(&b, "  |> range(start: %s, stop: %s)\n",
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %s and (r._field == \"rcvd\" or r._field == \"sent\"))\n",
		fluxString(cfg.Measurement))
	if svc != All {
		fmt.Fprintf(&b, "  |> filter(fn: (r) => r.service == %s)\n", fluxString(svc.String()))
	}
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r.user != %s)\n", fluxString(unauthenticatedUser))
	b.WriteString("data |> group(columns: [\"user\", \"_field\"]) |> sum() |> yield(name: \"sum\")\n")
	b.WriteString("data |> filter(fn: (r) => r._field == \"rcvd\") |> group(columns: [\"user\"]) |> count() |> yield(name: \"count\")\n")
	return b.String()
}

// fluxString quotes s as a Flux string literal. Backslash and double quote
// are escaped; "${" would start an interpolation, so its "$" is escaped too.
func fluxString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`)
	return `"` + r.Replace(s) + `"`
}

// QueryInflux asks InfluxDB (cfg's influx_* keys and measurement) for the
// per-user sums of date in cfg's time zone, for svc. The result has the
// same meaning as an Aggregator's Users over the same sessions, so the
// same table can be printed. Errors never contain the token.
func QueryInflux(ctx context.Context, cfg *flush.Config, date Date, svc Service) (map[string]Sums, error) {
	hc, err := flush.NewHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	opts := influxdb2.DefaultOptions().SetHTTPClient(hc).SetApplicationName(flush.ApplicationName)
	client := influxdb2.NewClientWithOptions(cfg.InfluxURL, cfg.InfluxToken, opts)
	defer client.Close()

	res, err := client.QueryAPI(cfg.InfluxOrg).Query(ctx, FluxQuery(cfg, date, svc))
	if err != nil {
		return nil, fmt.Errorf("query %s bucket %q: %w", cfg.InfluxURL, cfg.InfluxBucket, scrub(err, cfg.InfluxToken))
	}
	defer res.Close()
	users := make(map[string]Sums)
	for res.Next() {
		rec := res.Record()
		user, _ := rec.ValueByKey("user").(string)
		n, ok := rec.Value().(int64)
		if !ok {
			return nil, fmt.Errorf("query %s: result %q: value %v of user %q is %T, want an integer (field type conflict?)",
				cfg.InfluxURL, rec.Result(), rec.Value(), user, rec.Value())
		}
		s := users[user]
		switch {
		case rec.Result() == "count":
			s.Sessions += n
		case rec.Field() == "rcvd":
			s.Rcvd += n
		case rec.Field() == "sent":
			s.Sent += n
		}
		users[user] = s
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("query %s: %w", cfg.InfluxURL, scrub(err, cfg.InfluxToken))
	}
	return users, nil
}

// scrub removes the token (and its password part) from an error message,
// in case a server or proxy echoed it.
func scrub(err error, token string) error {
	msg := err.Error()
	if token == "" || !strings.Contains(msg, token) && !strings.Contains(msg, passwordOf(token)) {
		return err
	}
	msg = strings.ReplaceAll(msg, token, "****")
	if pw := passwordOf(token); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "****")
	}
	return errors.New(msg)
}

func passwordOf(token string) string {
	if _, pw, ok := strings.Cut(token, ":"); ok && pw != "" {
		return pw
	}
	return "\x00" // never contained in a message
}
