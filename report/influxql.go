package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
)

// InfluxQLQuery returns the InfluxQL statement that sums a day's sessions per user: the same
// numbers as FluxQuery (rcvd, sent, and sessions counted on the rcvd field; pre-login
// sessions left out), for servers without Flux: InfluxDB 1.x with flux-enabled = false or
// older than 1.7, and InfluxDB 3 (its v1-compatible /query endpoint). The database is the
// part of cfg's influx_bucket before "/"; the retention policy the part after it, if any.
func InfluxQLQuery(cfg *flush.Config, date Date, svc Service) (db, query string) {
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	start, end := date.Bounds(loc)
	db, rp, _ := strings.Cut(cfg.InfluxBucket, "/")
	from := quoteInfluxQLIdent(cfg.Measurement)
	if rp != "" {
		from = quoteInfluxQLIdent(rp) + "." + from
	}
	var b strings.Builder
	fmt.Fprintf(&b, `SELECT sum("rcvd") AS "rcvd", sum("sent") AS "sent", count("rcvd") AS "sessions" FROM %s`, from)
	fmt.Fprintf(&b, ` WHERE time >= '%s' AND time < '%s' AND "user" != '%s'`,
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), unauthenticatedUser)
	if svc != All {
		fmt.Fprintf(&b, ` AND "service" = '%s'`, quoteInfluxQLString(svc.String()))
	}
	b.WriteString(` GROUP BY "user"`)
	return db, b.String()
}

func quoteInfluxQLIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func quoteInfluxQLString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// QueryInfluxQL is QueryInflux over InfluxQL (POST /query): the same per-user sums of date in
// cfg's time zone, for svc. The token is "user:password" (basic auth, InfluxDB 1.x) or an API
// token (InfluxDB 2.x/3 v1-compatible API). Errors never contain the token.
func QueryInfluxQL(ctx context.Context, cfg *flush.Config, date Date, svc Service) (map[string]Sums, error) {
	hc, err := flush.NewHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	db, q := InfluxQLQuery(cfg, date, svc)
	form := url.Values{"db": {db}, "q": {q}, "epoch": {"ns"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cfg.InfluxURL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user, pass, ok := strings.Cut(cfg.InfluxToken, ":"); ok {
		req.SetBasicAuth(user, pass)
	} else if cfg.InfluxToken != "" {
		req.Header.Set("Authorization", "Token "+cfg.InfluxToken)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s database %q: %w", cfg.InfluxURL, db, scrub(err, cfg.InfluxToken))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("query %s: reading the answer: %w", cfg.InfluxURL, err)
	}
	var ans struct {
		Err     string `json:"error"`
		Results []struct {
			Err    string `json:"error"`
			Series []struct {
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if derr := dec.Decode(&ans); derr != nil || resp.StatusCode != http.StatusOK || ans.Err != "" {
		msg := strings.TrimSpace(string(body))
		if ans.Err != "" {
			msg = ans.Err
		}
		return nil, fmt.Errorf("query %s database %q: HTTP %d: %s", cfg.InfluxURL, db, resp.StatusCode, msg)
	}
	users := make(map[string]Sums)
	for _, r := range ans.Results {
		if r.Err != "" {
			return nil, fmt.Errorf("query %s database %q: %s", cfg.InfluxURL, db, r.Err)
		}
		for _, s := range r.Series {
			user := s.Tags["user"]
			for _, row := range s.Values {
				var v [3]int64
				for i, col := range []string{"rcvd", "sent", "sessions"} {
					for j, c := range s.Columns {
						if c != col || j >= len(row) || row[j] == nil {
							continue
						}
						n, ok := row[j].(json.Number)
						if !ok {
							return nil, fmt.Errorf("query %s: %s of user %q is %v, want a number", cfg.InfluxURL, col, user, row[j])
						}
						if v[i], err = n.Int64(); err != nil {
							return nil, fmt.Errorf("query %s: %s of user %q is %v, want an integer (field type conflict?)", cfg.InfluxURL, col, user, n)
						}
					}
				}
				s := users[user]
				s.Rcvd += v[0]
				s.Sent += v[1]
				s.Sessions += v[2]
				users[user] = s
			}
		}
	}
	return users, nil
}
