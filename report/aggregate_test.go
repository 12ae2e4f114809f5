package report

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/google/go-cmp/cmp"
)

// mustConfig loads a flush.Config from key=value pairs.
func mustConfig(t testing.TB, kv ...string) *flush.Config {
	t.Helper()
	m := flush.MapGetter{"time_zone": "UTC"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	cfg, err := flush.LoadConfig(m)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return cfg
}

var day = Date{2026, 7, 23}

// ref is a reference time shortly after the day, as a file's mtime would be.
var ref = time.Date(2026, 7, 24, 6, 25, 0, 0, time.UTC)

func aggregate(t *testing.T, cfg *flush.Config, svc Service, log string) (*Aggregator, map[string]Sums) {
	t.Helper()
	a, err := NewAggregator(cfg, day, svc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Read(strings.NewReader(log), ref); err != nil {
		t.Fatal(err)
	}
	return a, a.Users()
}

const (
	lA     = "Jul 23 10:00:00 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1001], headers=0, body=0, rcvd=100, sent=1000, time=5\n"
	lB     = "Jul 23 10:00:01 mx imapd-ssl: DISCONNECTED, user=bob, ip=[::ffff:192.0.2.2], port=[1002], headers=0, body=0, rcvd=200, sent=2000, time=5, starttls=1\n"
	lP     = "Jul 23 10:00:02 mx pop3d: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1003], top=0, retr=10, rcvd=30, sent=300, time=1\n"
	lPre   = "Jul 23 10:00:03 mx imapd: LOGOUT, ip=[::ffff:192.0.2.9], port=[1004], rcvd=56, sent=412\n"
	lOld   = "Jul 23 10:00:04 mx imaplogin: LOGOUT, user=carol, ip=[::ffff:127.0.0.1], headers=0, body=955, time=0\n"
	lX     = "Jul 23 10:00:05 mx postfix/smtpd[1]: connect from unknown[203.0.113.9]\n"
	lBad   = "Jul 23 10:00:06 mx imapd: LOGOUT, user=dave, ip=[::ffff:192.0.2.3], port=[1], headers=0, body=0, rcvd=12x, sent=1, time=1\n"
	lPrev  = "Jul 22 23:59:59 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1005], headers=0, body=0, rcvd=7, sent=7, time=5\n"
	lNext  = "Jul 24 00:00:00 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1006], headers=0, body=0, rcvd=7, sent=7, time=5\n"
	lLast  = "Jul 23 10:00:07 mx imapd: last message repeated 3 times\n"
	lMsg   = "Jul 23 10:00:08 mx imapd: message repeated 2 times: [ LOGOUT, user=erin, ip=[::ffff:192.0.2.4], port=[1007], headers=0, body=0, rcvd=5, sent=5, time=1]\n"
	lRFC   = "2026-07-23T23:30:00.123456+00:00 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1008], headers=0, body=0, rcvd=1, sent=1, time=5\n"
	lISO   = "2026-07-24T01:30:00+0200 mx imapd[77]: LOGOUT, user=Alice, ip=[::ffff:192.0.2.1], port=[1009], headers=0, body=0, rcvd=2, sent=2, time=5\n"
	lComma = "Jul 23 11:00:00 mx imapd: LOGOUT, user=doe, john, ip=[::ffff:192.0.2.5], port=[1010], headers=0, body=0, rcvd=3, sent=3, time=5\n"
	// Lines of a daemon of one service whose fields decide (lPopI: IMAP
	// counters under pop3d, an IMAP session by Event.Service), or broken,
	// or pre-login, or of another day.
	lPopI   = "Jul 23 10:00:09 mx pop3d: LOGOUT, user=frank, ip=[::ffff:192.0.2.6], port=[1011], headers=1, body=2, rcvd=40, sent=400, time=1\n"
	lPopBad = "Jul 23 10:00:10 mx pop3d-ssl: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1012], top=0, retr=x, rcvd=30, sent=300, time=1\n"
	lPopPre = "Jul 23 10:00:11 mx pop3d: LOGOUT, ip=[::ffff:192.0.2.9], port=[1013], rcvd=5, sent=50\n"
	lPopOld = "Jul 22 10:00:12 mx pop3d: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], port=[1014], top=0, retr=10, rcvd=30, sent=300, time=1\n"
	lImapP  = "Jul 23 10:00:13 mx imapd: LOGOUT, user=grace, ip=[::ffff:192.0.2.7], port=[1015], top=1, retr=2, rcvd=60, sent=600, time=1\n"
)

func TestAggregator(t *testing.T) {
	tests := []struct {
		name      string
		cfg       []string
		svc       Service
		log       string
		want      map[string]Sums
		wantStats Stats
	}{
		{
			name: "imap only, filters",
			svc:  IMAP,
			log:  lA + lB + lP + lPre + lOld + lX + lBad + lPrev + lNext,
			want: map[string]Sums{"alice": {1, 100, 1000}, "bob": {1, 200, 2000}},
			wantStats: Stats{Lines: 9, Counted: 2, OtherService: 1, Unauthenticated: 1, Skipped: 2,
				SyntaxErrors: 1, OtherDay: 2},
		},
		{
			name:      "dedup off parses every line",
			cfg:       []string{"dedup", "off"},
			svc:       IMAP,
			log:       lA + lOld + lX,
			want:      map[string]Sums{"alice": {1, 100, 1000}},
			wantStats: Stats{Lines: 3, Counted: 1, NoBytes: 1, NotTraffic: 1},
		},
		{
			// With dedup on and one service, a line of the other service's
			// daemons is not parsed when its fields cannot make it this
			// service's: it lands in OtherService whatever it is (broken,
			// pre-login). Its fields still decide otherwise. The day
			// window comes first: a line of another day is OtherDay.
			name:      "imap: pop3 daemons' lines unparsed, fields decide",
			svc:       IMAP,
			log:       lA + lP + lPopI + lPopBad + lPopPre + lPopOld + lImapP,
			want:      map[string]Sums{"alice": {1, 100, 1000}, "frank": {1, 40, 400}},
			wantStats: Stats{Lines: 7, Counted: 2, OtherService: 4, OtherDay: 1},
		},
		{
			// lPrev, one second before the day, lies in the dedup window
			// before it, which is read to seed the seen-set: the service
			// filter sees it first.
			name:      "pop3: imap daemons' lines unparsed, fields decide",
			svc:       POP3,
			log:       lA + lBad + lPre + lPrev + lP + lPopI + lPopBad + lImapP,
			want:      map[string]Sums{"alice": {1, 30, 300}, "grace": {1, 60, 600}},
			wantStats: Stats{Lines: 8, Counted: 2, OtherService: 5, SyntaxErrors: 1},
		},
		{
			// With dedup on, a line of another day is skipped after its
			// stamp: broken lines, markers and pre-login sessions of other
			// days are OtherDay too, and RFC 3339 stamps are judged in the
			// report's zone (lISO is 23:30 UTC on the day).
			name: "other days' lines unparsed",
			svc:  All,
			log: lPrev + strings.Replace(lBad, "Jul 23", "Jul 22", 1) + strings.Replace(lMsg, "Jul 23", "Jul 24", 1) +
				strings.Replace(lPre, "Jul 23", "Jul 21", 1) + lNext + lISO + lA,
			want:      map[string]Sums{"alice": {1, 100, 1000}, "Alice": {1, 2, 2}},
			wantStats: Stats{Lines: 7, Counted: 2, OtherDay: 5},
		},
		{
			name: "dedup off: other days' lines parsed",
			cfg:  []string{"dedup", "off"},
			svc:  All,
			log: lPrev + strings.Replace(lBad, "Jul 23", "Jul 22", 1) + strings.Replace(lMsg, "Jul 23", "Jul 24", 1) +
				strings.Replace(lPre, "Jul 23", "Jul 21", 1) + lNext + lISO + lA,
			want: map[string]Sums{"alice": {1, 100, 1000}, "Alice": {1, 2, 2}},
			wantStats: Stats{Lines: 7, Counted: 2, OtherDay: 4, SyntaxErrors: 1, Markers: 1,
				Unauthenticated: 1},
		},
		{
			name: "dedup off: every line parsed and classified",
			cfg:  []string{"dedup", "off"},
			svc:  IMAP,
			log:  lA + lP + lPopI + lPopBad + lPopPre + lPopOld + lImapP,
			want: map[string]Sums{"alice": {1, 100, 1000}, "frank": {1, 40, 400}},
			wantStats: Stats{Lines: 7, Counted: 2, OtherService: 2, SyntaxErrors: 1,
				Unauthenticated: 1, OtherDay: 1},
		},
		{
			name:      "pop3",
			svc:       POP3,
			log:       lA + lP,
			want:      map[string]Sums{"alice": {1, 30, 300}},
			wantStats: Stats{Lines: 2, Counted: 1, OtherService: 1},
		},
		{
			name:      "all services sum per user",
			svc:       All,
			log:       lA + lP,
			want:      map[string]Sums{"alice": {2, 130, 1300}},
			wantStats: Stats{Lines: 2, Counted: 2},
		},
		{
			name:      "adjacent and interleaved repeats dropped",
			svc:       IMAP,
			log:       lA + lA + lB + lX + lA + lB,
			want:      map[string]Sums{"alice": {1, 100, 1000}, "bob": {1, 200, 2000}},
			wantStats: Stats{Lines: 6, Counted: 2, Repeats: 3, Skipped: 1},
		},
		{
			name:      "dedup off counts every copy",
			cfg:       []string{"dedup", "off"},
			svc:       IMAP,
			log:       lA + lA + lB + lA,
			want:      map[string]Sums{"alice": {3, 300, 3000}, "bob": {1, 200, 2000}},
			wantStats: Stats{Lines: 4, Counted: 4},
		},
		{
			name:      "markers are repeats with dedup on",
			svc:       IMAP,
			log:       lA + lLast + lMsg,
			want:      map[string]Sums{"alice": {1, 100, 1000}},
			wantStats: Stats{Lines: 3, Counted: 1, Skipped: 1, Markers: 1, Repeats: 2},
		},
		{
			name:      "markers expand with dedup off",
			cfg:       []string{"dedup", "false"},
			svc:       IMAP,
			log:       lA + lLast + lMsg,
			want:      map[string]Sums{"alice": {4, 400, 4000}, "erin": {2, 10, 10}},
			wantStats: Stats{Lines: 3, Counted: 6, Markers: 2},
		},
		{
			name:      "last message repeated after a non-session line stands for nothing",
			cfg:       []string{"dedup", "false"},
			svc:       IMAP,
			log:       lA + lX + lLast,
			want:      map[string]Sums{"alice": {1, 100, 1000}},
			wantStats: Stats{Lines: 3, Counted: 1, NotTraffic: 1, Markers: 1},
		},
		{
			name:      "RFC 3339 and short-iso stamps converted into the zone",
			svc:       IMAP,
			log:       lRFC + lISO,
			want:      map[string]Sums{"alice": {1, 1, 1}, "Alice": {1, 2, 2}},
			wantStats: Stats{Lines: 2, Counted: 2},
		},
		{
			name:      "user_case lower merges users",
			cfg:       []string{"user_case", "lower"},
			svc:       IMAP,
			log:       lRFC + lISO,
			want:      map[string]Sums{"alice": {2, 3, 3}},
			wantStats: Stats{Lines: 2, Counted: 2},
		},
		{
			name:      "zone moves the day boundary",
			cfg:       []string{"time_zone", "Europe/Berlin"},
			svc:       IMAP,
			log:       lRFC + lISO, // 23:30 UTC is Jul 24 in Berlin; 01:30+02:00 is Jul 24 too
			want:      map[string]Sums{},
			wantStats: Stats{Lines: 2, OtherDay: 2},
		},
		{
			name:      "exclude_ips unwraps v4-mapped addresses",
			cfg:       []string{"exclude_ips", "192.0.2.2/32"},
			svc:       IMAP,
			log:       lA + lB,
			want:      map[string]Sums{"alice": {1, 100, 1000}},
			wantStats: Stats{Lines: 2, Counted: 1, Excluded: 1},
		},
		{
			name:      "user with comma and blank",
			svc:       IMAP,
			log:       lComma,
			want:      map[string]Sums{"doe, john": {1, 3, 3}},
			wantStats: Stats{Lines: 1, Counted: 1},
		},
		{
			name:      "identifiers restrict the daemons",
			cfg:       []string{"identifiers", "imapd"},
			svc:       IMAP,
			log:       lA + lB,
			want:      map[string]Sums{"alice": {1, 100, 1000}},
			wantStats: Stats{Lines: 2, Counted: 1, NotTraffic: 1},
		},
		{
			name:      "CRLF, blank lines and a last line without newline",
			svc:       IMAP,
			log:       strings.ReplaceAll(lA, "\n", "\r\n") + "\n\n" + strings.TrimSuffix(lB, "\n"),
			want:      map[string]Sums{"alice": {1, 100, 1000}, "bob": {1, 200, 2000}},
			wantStats: Stats{Lines: 4, Counted: 2, Skipped: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, got := aggregate(t, mustConfig(t, tt.cfg...), tt.svc, tt.log)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStats, a.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAggregatorYear(t *testing.T) {
	log := "Jul 23 10:00:00 mx imapd: LOGOUT, user=alice, ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=5\n"
	tests := []struct {
		name string
		date Date
		year int
		ref  time.Time
		want int64
	}{
		{"inferred from a reference just after", Date{2026, 7, 23}, 0, ref, 1},
		{"inferred: last year's line in a file written this January", Date{2025, 7, 23}, 0, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), 1},
		{"--year overrides the reference", Date{2019, 7, 23}, 2019, ref, 1},
		{"--year of another year misses the day", Date{2026, 7, 23}, 2019, ref, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAggregator(mustConfig(t), tt.date, IMAP, tt.year)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Read(strings.NewReader(log), tt.ref); err != nil {
				t.Fatal(err)
			}
			if got := a.Users()["alice"].Sessions; got != tt.want {
				t.Errorf("sessions = %d, want %d (stats %s)", got, tt.want, a.Stats())
			}
		})
	}
}

func TestEachLine(t *testing.T) {
	long := strings.Repeat("x", bufSize+10)
	huge := strings.Repeat("y", maxLine+bufSize*2+5)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one line no newline", "a", []string{"a"}},
		{"lines", "a\nb\n", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"blank lines kept", "\n\n", []string{"", ""}},
		{"line longer than the buffer", "a\n" + long + "\nb\n", []string{"a", long, "b"}},
		{"huge line cut to maxLine", huge + "\nz", []string{huge[:maxLine], "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := EachLine(strings.NewReader(tt.in), func(l []byte) { got = append(got, string(l)) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "mail.log")
	content := lA + lB
	if err := os.WriteFile(plain, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 7, 24, 6, 25, 0, 0, time.UTC)
	if err := os.Chtimes(plain, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(lA))
	zw.Close()
	// A second gzip member, as `cat a.gz b.gz` makes: still one stream.
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte(lB))
	zw.Close()
	gzName := filepath.Join(dir, "mail.log.2.gz")
	if err := os.WriteFile(gzName, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// gzip content under a name without .gz is still detected.
	gzNoExt := filepath.Join(dir, "mail.log.2")
	if err := os.WriteFile(gzNoExt, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		file     string
		stdin    string
		wantRef  time.Time
		wantSize int64
	}{
		{"plain", plain, "", mtime, int64(len(content))},
		{"gzip", gzName, "", time.Time{}, int64(gz.Len())},
		{"gzip without .gz", gzNoExt, "", time.Time{}, int64(gz.Len())},
		{"stdin", "-", content, now, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counted int
			in, err := Open(tt.file, strings.NewReader(tt.stdin), now, func(n int) { counted += n })
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var got strings.Builder
			if err := in.Lines(func(l []byte) { got.Write(l); got.WriteByte('\n') }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(content, got.String()); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if !tt.wantRef.IsZero() && !in.Ref.Equal(tt.wantRef) {
				t.Errorf("Ref = %v, want %v", in.Ref, tt.wantRef)
			}
			if in.Size != tt.wantSize {
				t.Errorf("Size = %d, want %d", in.Size, tt.wantSize)
			}
			if tt.wantSize > 0 && int64(counted) != tt.wantSize {
				t.Errorf("counted %d raw bytes, want %d", counted, tt.wantSize)
			}
		})
	}

	t.Run("errors name the file", func(t *testing.T) {
		_, err := Open(filepath.Join(dir, "missing.log"), nil, now, nil)
		if err == nil || !strings.Contains(err.Error(), "missing.log") {
			t.Errorf("Open(missing) error = %v, want one naming the file", err)
		}
		if _, err := Open(dir, nil, now, nil); err == nil {
			t.Errorf("Open(directory) succeeded, want an error")
		}
		bad := filepath.Join(dir, "bad.gz")
		os.WriteFile(bad, append(gz.Bytes()[:20:20], 0, 0, 0), 0o644)
		in, err := Open(bad, nil, now, nil)
		if err == nil {
			err = in.Lines(func([]byte) {})
			in.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "bad.gz") {
			t.Errorf("truncated gzip: error = %v, want one naming bad.gz", err)
		}
	})
}

// TestAddLineAllocs pins the hot path at zero allocations per line once the
// users are known.
func TestAddLineAllocs(t *testing.T) {
	a, err := NewAggregator(mustConfig(t, "dedup_window", "87600h"), day, All, 0)
	if err != nil {
		t.Fatal(err)
	}
	lines := [][]byte{[]byte(lX), []byte(lPre), []byte(lOld), []byte(lPrev)}
	for _, l := range lines {
		a.AddLine(l, ref)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, l := range lines {
			a.AddLine(l, ref)
		}
	})
	if allocs != 0 {
		t.Errorf("AddLine: %v allocations per run of %d lines, want 0", allocs, len(lines))
	}
}

func FuzzAggregate(f *testing.F) {
	for _, s := range []string{lA, lB, lP, lPre, lOld, lX, lBad, lPrev, lNext, lLast, lMsg, lRFC, lISO, lComma, lA + lA + lLast} {
		f.Add(s, false)
	}
	cfgs := map[bool]*flush.Config{true: mustConfig(f), false: mustConfig(f, "dedup", "off")}
	f.Fuzz(func(t *testing.T, log string, dedup bool) {
		a, err := NewAggregator(cfgs[dedup], day, All, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Read(strings.NewReader(log), ref); err != nil {
			t.Fatal(err)
		}
		s := a.Stats()
		lines := s.NotTraffic + s.SyntaxErrors + s.Markers + s.Skipped
		if dedup {
			// Every non-marker line lands in exactly one counter.
			lines += s.OtherDay + s.OtherService + s.Unauthenticated + s.NoBytes + s.Excluded + s.Counted
			lines += s.Repeats - markerCopies(t, log, a)
		}
		if dedup && lines != s.Lines {
			t.Errorf("counters do not add up to %d lines: %s", s.Lines, s)
		}
		users := a.Users()
		var total Sums
		for u, v := range users {
			if u == "" || v.Sessions <= 0 || v.Rcvd < 0 || v.Sent < 0 {
				t.Errorf("bad row %q: %+v", u, v)
			}
			total.add(v)
		}
		if total.Sessions != s.Counted {
			t.Errorf("rows hold %d sessions, Counted = %d", total.Sessions, s.Counted)
		}
		tab := NewTable(Params{Date: day, Service: All, Unit: DefaultUnit}, users)
		var b bytes.Buffer
		for _, f := range []Format{Text, JSON, CSV} {
			if err := tab.Write(&b, f); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// markerCopies recomputes the copies the markers of log stood for (dedup
// on: they went to Repeats) by parsing each line alone, through the
// Aggregator's filter state (a marker of another day is skipped as Read
// skips it: OtherDay, no copies).
func markerCopies(t *testing.T, log string, a *Aggregator) int64 {
	t.Helper()
	var n int64
	st := a.f.state() // the day window: a marker of another day is OtherDay, its copies not counted
	_ = EachLine(strings.NewReader(log), func(l []byte) {
		if !bytes.Contains(l, rcvdKey) {
			return // skipped unparsed: its copies are not counted anywhere
		}
		res, err := a.p.ParseLineState(string(l), ref, &a.ev, &st)
		if err == nil && res == 2 { // parser.Repeat
			n += int64(a.ev.Repeats)
		}
	})
	return n
}
