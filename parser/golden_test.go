package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin etc. without depending on the host's zoneinfo

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current parser")

// goldenFamilies are the input files under testdata/golden/.
var goldenFamilies = []string{"headers", "journal", "imap", "pop3", "vendor", "users", "notraffic", "repeats", "hostile"}

// goldenRef is the reference time of every golden test: late in 2024, so
// year-less lines of any month land in 2024.
func goldenRef(t testing.TB) (time.Time, *time.Location) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("load Europe/Berlin: %v", err)
	}
	return time.Date(2024, 12, 20, 12, 0, 0, 0, loc), loc
}

// goldenRecord is the JSON form of one parse: the input, the result, the
// error and every Event field.
type goldenRecord struct {
	Line      string `json:"line"`
	Result    string `json:"result"`
	Error     string `json:"error"`
	Time      string `json:"time"`
	Precision string `json:"precision"`
	Host      string `json:"host"`
	Daemon    string `json:"daemon"`
	Service   string `json:"service"`
	Kind      string `json:"kind"`
	Keyword   string `json:"keyword"`
	User      string `json:"user"`
	IP        string `json:"ip"`
	Port      string `json:"port"`
	Rcvd      int64  `json:"rcvd"`
	Sent      int64  `json:"sent"`
	Headers   int64  `json:"headers"`
	Body      int64  `json:"body"`
	Top       int64  `json:"top"`
	Retr      int64  `json:"retr"`
	Duration  int64  `json:"duration"`
	TLS       bool   `json:"tls"`
	Has       string `json:"has"`
	Repeats   int    `json:"repeats"`
}

func hasString(h uint8) string {
	var parts []string
	for _, f := range []struct {
		bit  uint8
		name string
	}{{HasPort, "port"}, {HasBytes, "bytes"}, {HasTime, "time"}, {HasContent, "content"}} {
		if h&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

func record(line string, res Result, err error, ev *Event) goldenRecord {
	r := goldenRecord{
		Line: line, Result: res.String(),
		Host: ev.Host, Daemon: ev.Daemon, Service: ev.Service.String(), Kind: ev.Kind.String(),
		Keyword: ev.Keyword, User: ev.User, IP: ev.IP, Port: ev.Port,
		Rcvd: ev.Rcvd, Sent: ev.Sent, Headers: ev.Headers, Body: ev.Body, Top: ev.Top, Retr: ev.Retr,
		Duration: ev.Duration, TLS: ev.TLS, Has: hasString(ev.Has), Repeats: ev.Repeats,
	}
	if err != nil {
		r.Error = err.Error()
	}
	if !ev.Time.IsZero() {
		r.Time = ev.Time.Format(time.RFC3339Nano)
	}
	if ev.Precision != 0 {
		r.Precision = ev.Precision.String()
	}
	return r
}

// readGoldenInput returns the input lines of a .log file: one per line,
// '#' comments and the final newline dropped. Lines are split on '\n' only
// so that a "\r\n" line end reaches the parser.
func readGoldenInput(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

func TestGolden(t *testing.T) {
	ref, loc := goldenRef(t)
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range goldenFamilies {
		t.Run(family, func(t *testing.T) {
			in := filepath.Join("testdata", "golden", family+".log")
			out := filepath.Join("testdata", "golden", family+".golden")
			var got bytes.Buffer
			for _, line := range readGoldenInput(t, in) {
				var ev Event
				res, err := p.ParseLine(line, ref, &ev)
				checkInvariants(t, line, res, err, &ev)
				b, jerr := json.Marshal(record(line, res, err, &ev))
				if jerr != nil {
					t.Fatal(jerr)
				}
				got.Write(b)
				got.WriteByte('\n')
			}
			if *update {
				if err := os.WriteFile(out, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("read %s (run go test -update to create it): %v", out, err)
			}
			wantLines := strings.Split(string(want), "\n")
			gotLines := strings.Split(got.String(), "\n")
			if len(wantLines) != len(gotLines) {
				t.Errorf("%s: %d records, want %d (run go test -update after adding lines)", out, len(gotLines)-1, len(wantLines)-1)
			}
			for i := 0; i < len(wantLines) && i < len(gotLines); i++ {
				if diff := cmp.Diff(wantLines[i], gotLines[i]); diff != "" {
					t.Errorf("%s record %d (-want +got):\n%s", out, i+1, diff)
				}
			}
		})
	}
}

// checkInvariants holds for every parse of every input.
func checkInvariants(t testing.TB, line string, res Result, err error, ev *Event) {
	t.Helper()
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %T is not a *SyntaxError", line, err)
		} else if se.Pos < 0 || se.Pos > len(line) {
			t.Errorf("%q: error position %d outside the line", line, se.Pos)
		}
		if res != Skip {
			t.Errorf("%q: result %v with an error, want skip", line, res)
		}
	}
	switch res {
	case Skip:
		if *ev != (Event{}) {
			t.Errorf("%q: skip left fields set: %+v", line, *ev)
		}
	case Traffic:
		if ev.Service == ServiceUnknown || ev.Kind == KindUnknown || ev.Keyword == "" {
			t.Errorf("%q: traffic without service/kind/keyword: %+v", line, *ev)
		}
		if ev.Has&(HasBytes|HasContent) == 0 {
			t.Errorf("%q: traffic without counters: %+v", line, *ev)
		}
		if ev.Repeats != 0 {
			t.Errorf("%q: traffic with Repeats=%d", line, ev.Repeats)
		}
	case Repeat:
		if ev.Repeats < 0 {
			t.Errorf("%q: negative Repeats %d", line, ev.Repeats)
		}
	default:
		t.Errorf("%q: unknown result %v", line, res)
	}
	for _, n := range []int64{ev.Rcvd, ev.Sent, ev.Headers, ev.Body, ev.Top, ev.Retr, ev.Duration} {
		if n < 0 {
			t.Errorf("%q: negative counter in %+v", line, *ev)
		}
	}
	if res != Skip && ev.IP != "" {
		// The user ends at the rightmost ", ip=[": none may follow the IP.
		if off, ok := offsetIn(ev.IP, line); ok && strings.Contains(line[off+len(ev.IP):], ", ip=[") {
			t.Errorf("%q: ip %q is not the rightmost ip=[...]", line, ev.IP)
		}
	}
	if res != Skip && ev.Precision == 0 {
		t.Errorf("%q: %v without precision", line, res)
	}
}
