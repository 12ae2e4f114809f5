package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/conf"
	"github.com/courier-traffic/courier-traffic/flush"
)

// The influxql command installs the continuous queries of conf/influxql/courier_daily_cq.influxql
// on InfluxDB 1.x: the scheduled daily sums that 2.x gets from the Flux task.

// cqKeys are the plugin keys the influxql command reads: where InfluxDB is and how to reach it.
var cqKeys = []string{
	flush.KeyInfluxURL, flush.KeyInfluxToken, flush.KeyInfluxTokenFile, flush.KeyInfluxTimeout,
	flush.KeyInfluxTLSCAFile, flush.KeyInfluxTLSInsecure, flush.KeyMeasurement, flush.KeyTimeZone,
}

// cqParams are the values of the template's placeholders.
type cqParams struct {
	database, rp, measurement, dailyRP, dailyMeasurement, zone, every, forDur string
}

// influxQLDuration is an InfluxQL duration literal as RESAMPLE takes it (one unit).
var influxQLDuration = regexp.MustCompile(`^[1-9][0-9]*(ns|u|µ|ms|s|m|h|d|w)$`)

// parseInfluxQLDuration converts a one-unit InfluxQL duration.
func parseInfluxQLDuration(s string) (time.Duration, error) {
	if !influxQLDuration.MatchString(s) {
		return 0, fmt.Errorf("%q is not an InfluxQL duration (a number and one of ns u ms s m h d w, e.g. 10m, 2d)", s)
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := map[string]time.Duration{
		"ns": time.Nanosecond, "u": time.Microsecond, "µ": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
	}[s[i:]]
	var n int64
	if _, err := fmt.Sscan(s[:i], &n); err != nil || n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%q: out of range", s)
	}
	return time.Duration(n) * unit, nil
}

// check validates the parameters: names non-empty, a zone InfluxDB can load by name, durations
// InfluxQL accepts, FOR covering at least yesterday and today.
func (p cqParams) check() error {
	for _, n := range []struct{ flag, v string }{
		{"--database", p.database}, {"--rp", p.rp}, {"--measurement", p.measurement},
		{"--daily-rp", p.dailyRP}, {"--daily-measurement", p.dailyMeasurement},
	} {
		if n.v == "" {
			return fmt.Errorf("%s: empty", n.flag)
		}
		if strings.ContainsAny(n.v, "\n\r") {
			return fmt.Errorf("%s %q: contains a line break", n.flag, n.v)
		}
	}
	if p.zone == "" || p.zone == "Local" {
		return errors.New("--tz: give the IANA zone of the mail hosts' local days (the plugin's time_zone), e.g. Europe/Vienna or UTC; InfluxDB cannot know what Local is")
	}
	if _, err := time.LoadLocation(p.zone); err != nil {
		return fmt.Errorf("--tz %q: %w", p.zone, err)
	}
	every, err := parseInfluxQLDuration(p.every)
	if err != nil {
		return fmt.Errorf("--every: %w", err)
	}
	forDur, err := parseInfluxQLDuration(p.forDur)
	if err != nil {
		return fmt.Errorf("--for: %w", err)
	}
	if forDur < 2*24*time.Hour {
		return fmt.Errorf("--for %s: want at least 2d, so that yesterday is recomputed after it ended (late data)", p.forDur)
	}
	if every > 24*time.Hour {
		return fmt.Errorf("--every %s: want at most 1d", p.every)
	}
	return nil
}

// quoteIdentBody escapes an identifier for use between double quotes.
func quoteIdentBody(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// quoteStringBody escapes a string for use between single quotes.
func quoteStringBody(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// cqStatement is one CREATE CONTINUOUS QUERY of the template, rendered.
type cqStatement struct {
	name   string // the CQ's name
	create string // the CREATE CONTINUOUS QUERY statement
}

var cqNameRe = regexp.MustCompile(`^CREATE CONTINUOUS QUERY "([a-z_]+)" ON `)

// renderCQs returns the template's statements with the placeholders replaced. Every
// placeholder sits inside double quotes (identifiers) or single quotes (the zone), or is a
// checked duration.
func renderCQs(tmpl string, p cqParams) ([]cqStatement, error) {
	r := strings.NewReplacer(
		"{{database}}", quoteIdentBody(p.database),
		"{{rp}}", quoteIdentBody(p.rp),
		"{{measurement}}", quoteIdentBody(p.measurement),
		"{{daily_rp}}", quoteIdentBody(p.dailyRP),
		"{{daily_measurement}}", quoteIdentBody(p.dailyMeasurement),
		"{{zone}}", quoteStringBody(p.zone),
		"{{every}}", p.every,
		"{{for}}", p.forDur,
	)
	var out []cqStatement
	for _, l := range strings.Split(tmpl, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--") {
			continue
		}
		m := cqNameRe.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("template line %.60q... is not a CREATE CONTINUOUS QUERY", l)
		}
		s := r.Replace(l)
		if strings.Contains(s, "{{") {
			return nil, fmt.Errorf("CQ %s: unknown placeholder left in %q", m[1], s)
		}
		out = append(out, cqStatement{name: m[1], create: s})
	}
	if len(out) == 0 {
		return nil, errors.New("template has no statements")
	}
	return out, nil
}

// backfillSelect turns a CQ into the SELECT ... INTO it runs, over [start, stop).
func backfillSelect(create string, start, stop time.Time) (string, error) {
	b := strings.Index(create, " BEGIN ")
	e := strings.LastIndex(create, " END")
	g := strings.Index(create, " GROUP BY ")
	if b < 0 || e < b || g < b || g > e {
		return "", fmt.Errorf("cannot find BEGIN ... GROUP BY ... END in %q", create)
	}
	where := fmt.Sprintf(" WHERE time >= '%s' AND time < '%s'", start.UTC().Format(time.RFC3339), stop.UTC().Format(time.RFC3339))
	return create[b+len(" BEGIN "):g] + where + create[g:e], nil
}

// influxQL is a minimal client of InfluxDB 1.x's /query endpoint.
type influxQL struct {
	url   string
	token string
	hc    *http.Client
}

type influxQLSeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// query runs q (in database db when not empty) and returns each statement's series; a
// statement's error is an error. Errors never contain the token.
func (c *influxQL) query(ctx context.Context, db, q string) ([][]influxQLSeries, error) {
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.url, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user, pass, ok := strings.Cut(c.token, ":"); ok {
		req.SetBasicAuth(user, pass) // InfluxDB 1.x: user:password
	} else if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token) // a 2.x token on the v1 compatibility API
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.url, scrubToken(err, c.token))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", c.url, err)
	}
	var ans struct {
		Err     string `json:"error"`
		Results []struct {
			Err    string           `json:"error"`
			Series []influxQLSeries `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if derr := dec.Decode(&ans); derr != nil || resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if ans.Err != "" {
			msg = ans.Err
		}
		return nil, fmt.Errorf("%s: HTTP %d: %s", c.url, resp.StatusCode, msg)
	}
	if ans.Err != "" {
		return nil, fmt.Errorf("%s: %s", c.url, ans.Err)
	}
	out := make([][]influxQLSeries, len(ans.Results))
	for i, r := range ans.Results {
		if r.Err != "" {
			return nil, fmt.Errorf("%s: %s", firstWords(q, 8), r.Err)
		}
		out[i] = r.Series
	}
	return out, nil
}

// firstWords shortens a statement for an error message.
func firstWords(q string, n int) string {
	f := strings.Fields(q)
	if len(f) > n {
		return strings.Join(f[:n], " ") + " ..."
	}
	return q
}

func scrubToken(err error, token string) error {
	msg := err.Error()
	for _, s := range []string{token, passwordOf(token)} {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "****")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

func passwordOf(token string) string {
	if _, pw, ok := strings.Cut(token, ":"); ok {
		return pw
	}
	return ""
}

// firstColumn returns the values of column col of a statement's series.
func firstColumn(series []influxQLSeries, col string) []string {
	var out []string
	for _, s := range series {
		for j, c := range s.Columns {
			if c != col {
				continue
			}
			for _, v := range s.Values {
				if j < len(v) {
					out = append(out, fmt.Sprint(v[j]))
				}
			}
		}
	}
	return out
}

// newInfluxQLClient builds the client from the plugin keys (URL, token, timeout, TLS).
func newInfluxQLClient(cfg *flush.Config) (*influxQL, error) {
	hc, err := flush.NewHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	return &influxQL{url: cfg.InfluxURL, token: cfg.InfluxToken, hc: hc}, nil
}

const influxQLUsage = `Usage:
  courier-traffic influxql install   --influx-url URL --tz ZONE [flags]   create (or re-create) the continuous queries
  courier-traffic influxql print     --tz ZONE [flags]                    print the statements instead (for influx -execute)
  courier-traffic influxql uninstall --influx-url URL [flags]             drop them

The continuous queries (conf/influxql/courier_daily_cq.influxql) keep the daily sums of
courier_daily up to date on InfluxDB 1.x: per local day, per user and service, per user
(service "all" = no service tag), per service and in total ("-- total --" = no user tag).
Rank and threshold are applied when reading: conf/influxql/courier_daily_top.influxql,
conf/chronograf/courier-traffic.json, courier-traffic report --alert-above.
`

// influxQLFlags are the flags of the influxql subcommands.
type influxQLFlags struct {
	params       cqParams
	tz           string
	backfillDays int
	cfg          *configFlags
}

func newInfluxQLFlags(e env, sub string) (*flag.FlagSet, *influxQLFlags) {
	fs := flag.NewFlagSet("courier-traffic influxql "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &influxQLFlags{}
	fs.StringVar(&f.params.database, "database", "courier", "database of the session points and of the daily sums")
	fs.StringVar(&f.params.rp, "rp", "autogen", "retention policy of the session points (the plugin's influx_bucket is database/rp)")
	fs.StringVar(&f.params.dailyRP, "daily-rp", "daily", "retention policy of the daily sums; created with DURATION INF if missing")
	fs.StringVar(&f.params.dailyMeasurement, "daily-measurement", "courier_daily", "measurement of the daily sums")
	fs.StringVar(&f.params.every, "every", "10m", "RESAMPLE EVERY: how often the sums are recomputed")
	fs.StringVar(&f.params.forDur, "for", "2d", "RESAMPLE FOR: how far back each run recomputes (at least 2d: yesterday and today)")
	fs.StringVar(&f.tz, "tz", "", "short for --time-zone: IANA zone of the local days (required; the plugin's time_zone)")
	if sub == "install" {
		fs.IntVar(&f.backfillDays, "backfill-days", 0, "also compute the sums of the last N local days once (history before the CQs existed)")
	}
	f.cfg = newConfigFlags(fs, cqKeys, keyUsage)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), influxQLUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, f
}

func runInfluxQL(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, influxQLUsage)
		if len(args) == 0 {
			return errUsageShown
		}
		return flag.ErrHelp
	}
	sub := args[0]
	if sub != "install" && sub != "print" && sub != "uninstall" {
		return usageError(fmt.Errorf("unknown subcommand %q (install, print, uninstall)", sub))
	}
	fs, f := newInfluxQLFlags(e, sub)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsageShown
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if f.backfillDays < 0 || f.backfillDays > 3660 {
		return usageError(fmt.Errorf("--backfill-days %d: want 0..3660", f.backfillDays))
	}
	if sub == "uninstall" && f.tz == "" && !f.cfg.isSet(flush.KeyTimeZone) {
		f.tz = "UTC" // the zone does not matter for dropping
	}
	cfg, err := loadConfig(f.cfg, f.tz)
	if err != nil {
		return err
	}
	f.params.measurement = cfg.Measurement
	f.params.zone = f.cfg.Get(flush.KeyTimeZone)
	if err := f.params.check(); err != nil {
		return usageError(err)
	}
	stmts, err := renderCQs(conf.ContinuousQueries, f.params)
	if err != nil {
		return err
	}
	if sub == "print" {
		fmt.Fprintf(e.stdout, "CREATE RETENTION POLICY \"%s\" ON \"%s\" DURATION INF REPLICATION 1\n",
			quoteIdentBody(f.params.dailyRP), quoteIdentBody(f.params.database))
		for _, s := range stmts {
			fmt.Fprintln(e.stdout, s.create)
		}
		return nil
	}
	if !f.cfg.isSet(flush.KeyInfluxURL) {
		return usageError(errors.New("--influx-url: required (the InfluxDB 1.x server)"))
	}
	c, err := newInfluxQLClient(cfg)
	if err != nil {
		return usageError(err)
	}
	defer c.hc.CloseIdleConnections()
	if sub == "uninstall" {
		return uninstallCQs(ctx, c, f.params, stmts, e)
	}
	return installCQs(ctx, c, f.params, stmts, f.backfillDays, e)
}

// existingCQs returns the names of the continuous queries of database db.
func existingCQs(ctx context.Context, c *influxQL, db string) (map[string]bool, error) {
	res, err := c.query(ctx, "", "SHOW CONTINUOUS QUERIES")
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, s := range res[0] {
		if s.Name != db {
			continue
		}
		for _, n := range firstColumn([]influxQLSeries{s}, "name") {
			have[n] = true
		}
	}
	return have, nil
}

func installCQs(ctx context.Context, c *influxQL, p cqParams, stmts []cqStatement, backfillDays int, e env) error {
	db := `"` + quoteIdentBody(p.database) + `"`
	res, err := c.query(ctx, "", "SHOW DATABASES")
	if err != nil {
		return err
	}
	found := false
	for _, n := range firstColumn(res[0], "name") {
		found = found || n == p.database
	}
	if !found {
		return fmt.Errorf("database %q does not exist on %s (the plugin writes into it; check --database)", p.database, c.url)
	}
	res, err = c.query(ctx, "", "SHOW RETENTION POLICIES ON "+db)
	if err != nil {
		return err
	}
	rps := map[string]bool{}
	for _, n := range firstColumn(res[0], "name") {
		rps[n] = true
	}
	if !rps[p.rp] {
		return fmt.Errorf("retention policy %q does not exist in database %q (check --rp: the plugin's influx_bucket is database/rp)", p.rp, p.database)
	}
	if !rps[p.dailyRP] {
		q := fmt.Sprintf(`CREATE RETENTION POLICY "%s" ON %s DURATION INF REPLICATION 1`, quoteIdentBody(p.dailyRP), db)
		if _, err := c.query(ctx, "", q); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created retention policy %q on %q (DURATION INF)\n", p.dailyRP, p.database)
	}
	have, err := existingCQs(ctx, c, p.database)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		verb := "created"
		if have[s.name] {
			if _, err := c.query(ctx, "", fmt.Sprintf(`DROP CONTINUOUS QUERY "%s" ON %s`, s.name, db)); err != nil {
				return err
			}
			verb = "replaced"
		}
		if _, err := c.query(ctx, "", s.create); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s continuous query %q on %q (RESAMPLE EVERY %s FOR %s, tz %s)\n", verb, s.name, p.database, p.every, p.forDur, p.zone)
	}
	if backfillDays == 0 {
		return nil
	}
	loc, err := time.LoadLocation(p.zone)
	if err != nil {
		return err
	}
	now := e.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	start := today.AddDate(0, 0, -backfillDays)
	stop := today.AddDate(0, 0, 1)
	for _, s := range stmts {
		q, err := backfillSelect(s.create, start, stop)
		if err != nil {
			return err
		}
		res, err := c.query(ctx, p.database, q)
		if err != nil {
			return err
		}
		written := firstColumn(res[0], "written")
		fmt.Fprintf(e.stdout, "backfilled %q from %s to %s: %s points written\n", s.name,
			start.Format("2006-01-02"), today.Format("2006-01-02"), strings.Join(written, ""))
	}
	return nil
}

func uninstallCQs(ctx context.Context, c *influxQL, p cqParams, stmts []cqStatement, e env) error {
	have, err := existingCQs(ctx, c, p.database)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if !have[s.name] {
			fmt.Fprintf(e.stdout, "continuous query %q on %q: not there\n", s.name, p.database)
			continue
		}
		if _, err := c.query(ctx, "", fmt.Sprintf(`DROP CONTINUOUS QUERY "%s" ON "%s"`, s.name, quoteIdentBody(p.database))); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "dropped continuous query %q on %q\n", s.name, p.database)
	}
	return nil
}
