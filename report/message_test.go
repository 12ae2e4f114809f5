package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
)

// msgRecord is one record in both forms: the raw line for AddLine and its
// parts for AddMessage.
type msgRecord struct {
	line        string
	ident, host string
	t           time.Time
	prec        time.Duration
	msg         string
}

// splitLine cuts a syslog line of the test constants (classic, RFC 3339 or
// short-iso stamp) into its parts.
func splitLine(t *testing.T, l string) msgRecord {
	t.Helper()
	l = strings.TrimSuffix(l, "\n")
	r := msgRecord{line: l, prec: time.Second}
	var rest string
	var err error
	if l[3] == ' ' {
		r.t, err = time.ParseInLocation("2006 Jan _2 15:04:05", "2026 "+l[:15], time.UTC)
		rest = l[16:]
	} else {
		stamp, after, _ := strings.Cut(l, " ")
		rest = after
		if r.t, err = time.Parse(time.RFC3339Nano, stamp); err != nil {
			r.t, err = time.Parse("2006-01-02T15:04:05-0700", stamp)
		}
		if strings.Contains(stamp, ".") {
			r.prec = time.Microsecond
		}
	}
	if err != nil {
		t.Fatalf("%q: %v", l, err)
	}
	r.host, rest, _ = strings.Cut(rest, " ")
	if ident, msg, ok := strings.Cut(rest, ": "); ok && !strings.Contains(ident, " ") {
		r.ident, r.msg = ident, msg
	} else {
		r.msg = rest // sysklogd's untagged "last message repeated"
	}
	return r
}

// feedBoth accounts records with AddLine into one Aggregator and with
// AddMessage into another.
func feedBoth(t *testing.T, cfg *flush.Config, date Date, svc Service, recs []msgRecord) (lines, msgs *Aggregator) {
	t.Helper()
	var err error
	if lines, err = NewAggregator(cfg, date, svc, 0); err != nil {
		t.Fatal(err)
	}
	if msgs, err = NewAggregator(cfg, date, svc, 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		lines.AddLine([]byte(r.line), ref)
		msgs.AddMessage(r.ident, r.host, r.t, r.prec, r.msg)
	}
	return lines, msgs
}

// TestAddMessageMatchesAddLine: the same records given as lines and as
// parts give the same sums and the same Stats, for dedup on and off, each
// service and several days, on the hand-written lines of every outcome
// and on generated logs with repeat bursts and markers. With dedup off a
// "last message repeated" marker is left out: after a message it stands
// for nothing (see AddMessage), after a line for that line's copies.
func TestAddMessageMatchesAddLine(t *testing.T) {
	var hand []msgRecord
	for _, l := range []string{lA, lB, lP, lPre, lOld, lX, lBad, lPrev, lNext, lLast, lMsg, lRFC, lISO, lComma,
		lPopI, lPopBad, lPopPre, lPopOld, lImapP, lA, lB, lA} {
		hand = append(hand, splitLine(t, l))
	}
	// A "[pid]" suffix on the identifier, and an identifier that is not
	// configured, under the service filter.
	hand = append(hand, splitLine(t, strings.Replace(lP, "pop3d:", "pop3d[42]:", 1)),
		splitLine(t, strings.Replace(lP, "pop3d:", "mypop3d:", 1)),
		splitLine(t, strings.Replace(lP, "pop3d:", "pop3d[42]:", 1)))
	generated := func(opts loggen.Options) []msgRecord {
		var recs []msgRecord
		_, err := loggen.Generate(opts, func(l loggen.Line) error {
			prec := time.Microsecond
			if opts.Format == loggen.ShortISO {
				prec = time.Second
			}
			ident := l.Ident
			if l.PID%2 == 1 {
				ident = fmt.Sprintf("%s[%d]", ident, l.PID)
			}
			recs = append(recs, msgRecord{line: l.Raw, ident: ident, host: l.Host, t: l.Time, prec: prec, msg: l.Message})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	inputs := []struct {
		name  string
		recs  []msgRecord
		dates []Date
	}{
		{"hand-written", hand, []Date{{2026, 7, 22}, day, {2026, 7, 24}}},
		{"rfc3339, repeats, markers", generated(loggen.Options{Seed: 21, Days: 2, SessionsPerDay: 300, Users: 30,
			Format: loggen.RFC3339, Eras: loggen.AllEras, RepeatBursts: 0.2, RsyslogMarkers: 0.2,
			Hosts: []string{"mx1", "mx2"}}), []Date{{2026, 7, 28}, {2026, 7, 29}}},
		{"shortiso", generated(loggen.Options{Seed: 22, SessionsPerDay: 300, Users: 30, Format: loggen.ShortISO,
			RepeatBursts: 0.1}), []Date{{2026, 7, 28}}},
	}
	cfgs := []struct {
		name string
		kv   []string
	}{
		{"dedup on", nil},
		{"dedup off", []string{"dedup", "false"}},
		{"lower, excluded", []string{"user_case", "lower", "exclude_ips", "192.0.2.2,::ffff:48.0.0.0/104"}},
	}
	for _, in := range inputs {
		for _, c := range cfgs {
			cfg := mustConfig(t, c.kv...)
			recs := in.recs
			if !cfg.Dedup {
				recs = nil
				for _, r := range in.recs {
					if !strings.HasPrefix(r.msg, "last message repeated") {
						recs = append(recs, r)
					}
				}
			}
			for _, date := range in.dates {
				for _, svc := range []Service{IMAP, POP3, All} {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", in.name, c.name, date, svc), func(t *testing.T) {
						lines, msgs := feedBoth(t, cfg, date, svc, recs)
						if diff := cmp.Diff(lines.Users(), msgs.Users()); diff != "" {
							t.Errorf("users (-AddLine +AddMessage):\n%s", diff)
						}
						if diff := cmp.Diff(lines.Stats(), msgs.Stats()); diff != "" {
							t.Errorf("stats (-AddLine +AddMessage):\n%s", diff)
						}
						if lines.Stats().Counted == 0 && date == in.dates[0] && svc == All {
							t.Errorf("nothing counted: the test would prove nothing")
						}
					})
				}
			}
		}
	}
}

// TestAddMessageAllocs: like AddLine, AddMessage allocates nothing once the
// users are known.
func TestAddMessageAllocs(t *testing.T) {
	a, err := NewAggregator(mustConfig(t), day, All, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := splitLine(t, lA)
	b := splitLine(t, lP)
	a.AddMessage(r.ident, r.host, r.t, r.prec, r.msg)
	a.AddMessage(b.ident, b.host, b.t, b.prec, b.msg)
	n := 0
	allocs := testing.AllocsPerRun(1000, func() {
		n++
		// A new second each run: a new identity, not a repeat.
		a.AddMessage(r.ident, r.host, r.t.Add(time.Duration(n)*time.Second), r.prec, r.msg)
	})
	if allocs > 0 {
		t.Errorf("AddMessage: %v allocations per record, want 0", allocs)
	}
	// The service filter's path: a POP3 record in an IMAP report.
	imap, err := NewAggregator(mustConfig(t), day, IMAP, 0)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(1000, func() {
		imap.AddMessage(b.ident, b.host, b.t, b.prec, b.msg)
	}); allocs > 0 || imap.Stats().OtherService == 0 {
		t.Errorf("AddMessage of the other service: %v allocations per record, stats %v", allocs, imap.Stats())
	}
}

// BenchmarkAddMessage: the report's cost per journal record after
// decoding, on a generated day with repeat bursts.
func BenchmarkAddMessage(b *testing.B) {
	var recs []msgRecord
	_, err := loggen.Generate(loggen.Options{Seed: 23, SessionsPerDay: 20000, Users: 500, Format: loggen.RFC3339,
		NoiseRatio: -1}, func(l loggen.Line) error {
		recs = append(recs, msgRecord{ident: l.Ident, host: l.Host, t: l.Time, prec: time.Microsecond, msg: l.Message})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg := mustConfig(b)
	b.ResetTimer()
	for range b.N {
		a, _ := NewAggregator(cfg, Date{2026, 7, 28}, IMAP, 0)
		for i := range recs {
			r := &recs[i]
			a.AddMessage(r.ident, r.host, r.t, r.prec, r.msg)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
}
