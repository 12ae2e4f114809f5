package influxtest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Result is the answer to one InfluxQL statement.
type Result struct {
	StatementID int      `json:"statement_id"`
	Series      []Series `json:"series,omitempty"`
	Err         string   `json:"error,omitempty"`
}

// Series is one series of a Result. Numbers in Values are json.Number (exact
// int64s survive); times are integer nanoseconds since the epoch (epoch=ns).
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Use returns a view of the same server that works in database db (which
// must exist; see CreateDatabase and NewDatabase).
func (s *Server) Use(db string) *Server {
	v := *s
	v.DB, v.Bucket = db, db+"/autogen"
	return &v
}

// Query runs InfluxQL statements through POST /query in s.DB. It returns an
// error for transport failures and non-200 answers; statement errors are in
// each Result's Err.
func (s *Server) Query(q string) ([]Result, error) {
	return s.query(q, q)
}

// query runs q; errors name it as label, so that a statement carrying a
// password is not repeated in an error.
func (s *Server) query(q, label string) ([]Result, error) {
	form := url.Values{"q": {q}, "db": {s.DB}, "epoch": {"ns"}}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("influxql %q: %w", label, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.Token != "" {
		// The v1 endpoint takes the credentials as basic auth.
		user, pass, _ := strings.Cut(s.Token, ":")
		req.SetBasicAuth(user, pass)
	}
	resp, err := s.p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("influxql %q: %w", label, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("influxql %q: reading the answer: %w", label, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("influxql %q: HTTP %d: %s", label, resp.StatusCode, bytes.TrimSpace(body))
	}
	var out struct {
		Results []Result `json:"results"`
		Err     string   `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("influxql %q: decoding the answer: %w", label, err)
	}
	if out.Err != "" {
		return nil, fmt.Errorf("influxql %q: %s", label, out.Err)
	}
	return out.Results, nil
}

// execErr is Query that also turns statement errors into an error.
func (s *Server) execErr(q string) error {
	_, err := s.exec(q)
	return err
}

func (s *Server) exec(q string) ([]Result, error) {
	return s.execLabel(q, q)
}

func (s *Server) execLabel(q, label string) ([]Result, error) {
	res, err := s.query(q, label)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Err != "" {
			return nil, fmt.Errorf("influxql %q: statement %d: %s", label, r.StatementID, r.Err)
		}
	}
	return res, nil
}

// Exec runs InfluxQL statements in s.DB; any error, including a statement's,
// is fatal.
func (s *Server) Exec(tb testing.TB, influxql string) []Result {
	tb.Helper()
	res, err := s.exec(influxql)
	if err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	return res
}

// CreateDatabase creates database name (no error if it exists).
func (s *Server) CreateDatabase(tb testing.TB, name string) {
	tb.Helper()
	s.Exec(tb, "CREATE DATABASE "+quoteIdent(name))
}

// DropDatabase drops database name and its data (no error if it is absent).
func (s *Server) DropDatabase(tb testing.TB, name string) {
	tb.Helper()
	s.Exec(tb, "DROP DATABASE "+quoteIdent(name))
}

// dbSeq makes database names unique within a test binary.
var dbSeq atomic.Int64

// NewDatabase creates a database with a fresh name derived from the test's
// name and returns the name; tb.Cleanup drops it unless INFLUXTEST_KEEP=1.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(tb.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := fmt.Sprintf("%s_%d", b.String(), dbSeq.Add(1))
	s.CreateDatabase(tb, name)
	tb.Cleanup(func() {
		// A test that stopped its private server has nothing left to drop.
		if keep() || !s.p.running() {
			return
		}
		if err := s.execErr("DROP DATABASE " + quoteIdent(name)); err != nil {
			tb.Errorf("influxtest: cleanup: %v", err)
		}
	})
	return name
}

// TryWrite posts line protocol to /api/v2/write?bucket=bucket&precision=ns
// with s.Token and returns the HTTP status and the server's message (the
// "error" of its JSON answer, else the raw body). err is set only when no
// answer arrived (connection refused, reset, timeout).
func (s *Server) TryWrite(bucket string, lines []byte) (status int, msg string, err error) {
	u := s.URL + "/api/v2/write?" + url.Values{"bucket": {bucket}, "precision": {"ns"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(lines))
	if err != nil {
		return 0, "", fmt.Errorf("write to bucket %q: %w", bucket, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if s.Token != "" {
		req.Header.Set("Authorization", "Token "+s.Token)
	}
	resp, err := s.p.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("write to bucket %q: %w", bucket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("write to bucket %q: reading the answer: %w", bucket, err)
	}
	return resp.StatusCode, errorMessage(body), nil
}

// errorMessage extracts {"error": "..."} from an answer, else returns it
// trimmed.
func errorMessage(body []byte) string {
	var e struct {
		Err string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Err != "" {
		return e.Err
	}
	return string(bytes.TrimSpace(body))
}

// Write writes line protocol (nanosecond timestamps) into s.Bucket; anything
// but 204 is fatal.
func (s *Server) Write(tb testing.TB, lines string) {
	tb.Helper()
	status, msg, err := s.TryWrite(s.Bucket, []byte(lines))
	if err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	if status != http.StatusNoContent {
		tb.Fatalf("influxtest: write to bucket %q: HTTP %d: %s", s.Bucket, status, msg)
	}
}

// TryFlux runs a Flux query through POST /api/v2/query and returns one map
// per row, column name -> value as written in the CSV answer (the annotation
// column and the "result" and "table" columns included). A Flux error,
// whether an HTTP error or an error table in the stream, is returned as err.
func (s *Server) TryFlux(query string) ([]map[string]string, error) {
	body, err := s.rawFlux(query)
	if err != nil {
		return nil, err
	}
	rows, err := parseFluxCSV(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	return rows, nil
}

// rawFlux returns the annotated CSV answer of a Flux query.
func (s *Server) rawFlux(query string) ([]byte, error) {
	reqBody, err := json.Marshal(map[string]any{
		"query": query,
		"type":  "flux",
		// The datatype annotation marks where a new table (with possibly
		// other columns) starts; without it the header rows are ambiguous.
		"dialect": map[string]any{"header": true, "annotations": []string{"datatype", "group", "default"}},
	})
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v2/query", bytes.NewReader(reqBody))
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/csv")
	if s.Token != "" {
		req.Header.Set("Authorization", "Token "+s.Token)
	}
	resp, err := s.p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("flux: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("flux: HTTP %d: %s", resp.StatusCode, errorMessage(body))
	}
	return body, nil
}

// Flux is TryFlux with errors fatal.
func (s *Server) Flux(tb testing.TB, query string) []map[string]string {
	tb.Helper()
	rows, err := s.TryFlux(query)
	if err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	return rows
}

// parseFluxCSV reads Flux's annotated CSV: tables separated by annotation
// rows ("#datatype,..."), each followed by a header row. Empty cells take the
// table's #default annotation (the server sends "result" only there). An
// error table (columns "", "error", "reference") becomes an error.
func parseFluxCSV(r io.Reader) ([]map[string]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // tables differ in width
	var rows []map[string]string
	var header, defaults []string
	wantHeader, inAnnotations := true, false
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("annotated CSV: %w", err)
		}
		if strings.HasPrefix(rec[0], "#") {
			if !inAnnotations {
				defaults, inAnnotations = nil, true // a new table's annotations begin
			}
			if rec[0] == "#default" {
				defaults = rec
			}
			wantHeader = true
			continue
		}
		inAnnotations = false
		if wantHeader {
			header, wantHeader = rec, false
			if len(defaults) != len(header) {
				defaults = nil // absent or for another table
			}
			continue
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("annotated CSV line %d: %d columns, header has %d", line, len(rec), len(header))
		}
		if len(header) == 3 && header[1] == "error" && header[2] == "reference" {
			return nil, fmt.Errorf("query error: %s", rec[1])
		}
		row := make(map[string]string, len(header))
		for i, col := range header {
			if col == "" {
				continue
			}
			row[col] = rec[i]
			if rec[i] == "" && defaults != nil {
				row[col] = defaults[i]
			}
		}
		rows = append(rows, row)
	}
}

// Key identifies one day's traffic of one user on one service. It is
// field-for-field the Key of internal/loggen, so expected and read-back sums
// compare with cmp.Diff after a conversion.
type Key struct {
	Day     string // local day, "2006-01-02"
	Service string // "imap" or "pop3"
	User    string
}

// Sums are the totals of one Key, as internal/loggen's Sums.
type Sums struct {
	Sessions int64 // points (one per session)
	Rcvd     int64 // sum of field rcvd
	Sent     int64 // sum of field sent
}

// Sums reads back, from measurement in s.DB (default "courier_session" when
// empty), the per local day (in loc, which must be a named IANA zone or UTC;
// nil means UTC), service and user sums of rcvd and sent and the number of
// points. Days are cut by InfluxDB itself (GROUP BY time(1d) tz(...)), so the
// test checks the server's day boundaries, DST included. An empty or absent
// measurement gives an empty map.
func (s *Server) Sums(tb testing.TB, measurement string, loc *time.Location) map[Key]Sums {
	tb.Helper()
	got, err := s.sums(measurement, loc)
	if err != nil {
		tb.Fatalf("influxtest: Sums: %v", err)
	}
	return got
}

func (s *Server) sums(measurement string, loc *time.Location) (map[Key]Sums, error) {
	if measurement == "" {
		measurement = "courier_session"
	}
	if loc == nil {
		loc = time.UTC
	}
	zone := loc.String()
	if zone == "Local" || zone == "" {
		return nil, fmt.Errorf("location %q is not an IANA zone name; pass time.LoadLocation(\"Europe/Berlin\") or time.UTC", zone)
	}
	m := quoteIdent(measurement)
	// GROUP BY time needs a bounded range; without one InfluxQL would start
	// at 1970 and stop at now(), missing points in the future. first() and
	// last() are selectors: their row time is the point's time.
	res, err := s.exec(fmt.Sprintf("SELECT first(rcvd) FROM %s; SELECT last(rcvd) FROM %s", m, m))
	if err != nil {
		return nil, err
	}
	if len(res) != 2 || len(res[0].Series) == 0 || len(res[1].Series) == 0 {
		return map[Key]Sums{}, nil
	}
	lo, err := cell(res[0].Series[0], 0, "time")
	if err != nil {
		return nil, err
	}
	hi, err := cell(res[1].Series[0], 0, "time")
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT sum(rcvd) AS rcvd, sum(sent) AS sent, count(rcvd) AS sessions FROM %s WHERE time >= %d AND time <= %d GROUP BY time(1d), "service", "user" fill(none) tz('%s')`,
		m, lo, hi, strings.ReplaceAll(zone, `'`, `\'`))
	res, err = s.exec(q)
	if err != nil {
		return nil, err
	}
	out := make(map[Key]Sums)
	for _, r := range res {
		for _, ser := range r.Series {
			for i := range ser.Values {
				var v [4]int64
				for j, col := range []string{"time", "rcvd", "sent", "sessions"} {
					if v[j], err = cell(ser, i, col); err != nil {
						return nil, err
					}
				}
				k := Key{
					Day:     time.Unix(0, v[0]).In(loc).Format("2006-01-02"),
					Service: ser.Tags["service"],
					User:    ser.Tags["user"],
				}
				old := out[k]
				out[k] = Sums{Sessions: old.Sessions + v[3], Rcvd: old.Rcvd + v[1], Sent: old.Sent + v[2]}
			}
		}
	}
	return out, nil
}

// cell returns column col of row i as an int64; a null (no value) is 0.
func cell(ser Series, i int, col string) (int64, error) {
	for j, c := range ser.Columns {
		if c != col {
			continue
		}
		if i >= len(ser.Values) || j >= len(ser.Values[i]) {
			return 0, fmt.Errorf("series %q: row %d has no column %q", ser.Name, i, col)
		}
		switch v := ser.Values[i][j].(type) {
		case nil:
			return 0, nil
		case json.Number:
			n, err := v.Int64()
			if err != nil {
				return 0, fmt.Errorf("series %q row %d column %q: %w", ser.Name, i, col, err)
			}
			return n, nil
		default:
			return 0, fmt.Errorf("series %q row %d column %q: %T %v is not an integer (is the field a float?)", ser.Name, i, col, v, v)
		}
	}
	return 0, fmt.Errorf("series %q: no column %q in %v", ser.Name, col, ser.Columns)
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// logStderr is the logf of servers started outside a test (Main).
func logStderr(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
