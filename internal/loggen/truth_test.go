package loggen

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTruthJSONRoundTrip(t *testing.T) {
	_, tr := collect(t, Options{Seed: 6, Days: 2, Hosts: []string{"h1", "h2"}, Location: berlin(t)})
	js, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var back Truth
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tr, back); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	js2, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != string(js2) {
		t.Fatal("marshalling is not stable")
	}
}

func TestTruthUnmarshalErrors(t *testing.T) {
	dup := `{"sessions":[{"day":"2026-07-28","service":"imap","user":"a","sessions":1,"rcvd":1,"sent":1},` +
		`{"day":"2026-07-28","service":"imap","user":"a","sessions":1,"rcvd":1,"sent":1}]}`
	for _, tc := range []struct{ in, want string }{
		{dup, "duplicate bucket"},
		{`{"lines": "many"}`, "truth"},
		{`[`, "truth"},
	} {
		var tr Truth
		if err := tr.UnmarshalJSON([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestTruthHelpers(t *testing.T) {
	tr := Truth{Sessions: map[Key]Sums{
		{Day: "2026-07-28", Service: IMAP, User: "a"}: {1, 10, 100},
		{Day: "2026-07-28", Service: POP3, User: "a"}: {2, 20, 200},
		{Day: "2026-07-28", Service: IMAP, User: "b"}: {3, 30, 300},
		{Day: "2026-07-29", Service: IMAP, User: "b"}: {4, 40, 400},
	}, PreLogin: map[Key]Sums{{Day: "2026-07-30", Service: IMAP}: {1, 1, 1}}}
	if d := cmp.Diff([]string{"2026-07-28", "2026-07-29", "2026-07-30"}, tr.Days()); d != "" {
		t.Errorf("Days (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a", "b"}, tr.Users()); d != "" {
		t.Errorf("Users (-want +got):\n%s", d)
	}
	tests := []struct {
		day, svc string
		want     map[string]Sums
		total    Sums
	}{
		{"2026-07-28", "", map[string]Sums{"a": {3, 30, 300}, "b": {3, 30, 300}}, Sums{6, 60, 600}},
		{"2026-07-28", POP3, map[string]Sums{"a": {2, 20, 200}}, Sums{2, 20, 200}},
		{"2026-07-30", "", map[string]Sums{}, Sums{}},
	}
	for _, tc := range tests {
		t.Run(tc.day+"/"+tc.svc, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tr.Total(tc.day, tc.svc)); d != "" {
				t.Errorf("Total (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.total, tr.DayTotal(tc.day, tc.svc)); d != "" {
				t.Errorf("DayTotal (-want +got):\n%s", d)
			}
		})
	}
}

// recorder is a fataler that records the first failure and unwinds.
type recorder struct{ msg string }

type stopRecount struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(stopRecount{})
}

func recountFails(lines []Line) (msg string) {
	r := &recorder{}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopRecount); !ok {
				panic(v)
			}
			msg = r.msg
		}
	}()
	recountLines(r, lines, DefaultStart)
	return ""
}

// The checker must be able to fail: feed it broken streams.
func TestRecountCatchesBrokenLogs(t *testing.T) {
	lines, tr := collect(t, Options{Seed: 12, SessionsPerDay: 300, RepeatBursts: -1})
	if msg := recountFails(lines); msg != "" {
		t.Fatalf("clean log rejected: %s", msg)
	}
	find := func(pred func(Line) bool) int {
		for i, l := range lines {
			if pred(l) {
				return i
			}
		}
		t.Fatal("no line for the mutation")
		return -1
	}
	noise := find(func(l Line) bool { return strings.HasPrefix(l.Message, "LOGIN, ") })
	traffic := find(func(l Line) bool { return strings.Contains(l.Message, ", rcvd=") })
	with := func(i int, extra ...Line) []Line {
		out := append([]Line(nil), lines[:i+1]...)
		out = append(out, extra...)
		return append(out, lines[i+1:]...)
	}
	tl := lines[traffic]
	// The same line in another format, dt later.
	reformat := func(l Line, dt time.Duration) Line {
		o := l
		o.Time = l.Time.Add(dt)
		o.Raw = strings.Replace(l.Raw, l.Time.Format("Jan _2 15:04:05"), o.Time.Format("2006-01-02T15:04:05.000000-07:00"), 1)
		return o
	}
	sameSecond := reformat(lines[noise], 123*time.Microsecond)
	tests := []struct {
		name  string
		lines []Line
		want  string
	}{
		{"repeated noise line", with(noise, lines[noise]), "non-traffic line is repeated"},
		{"same identity, other format", with(traffic, sameSecond), "distinct lines share"},
		{"message disagrees with raw", func() []Line {
			c := append([]Line(nil), lines...)
			c[traffic].Message = "x"
			return c
		}(), "disagree"},
		{"line out of order", with(traffic, func() Line {
			early := lines[0]
			early.Raw += " x"
			early.Message += " x"
			return early
		}()), "out of time order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if msg := recountFails(tc.lines); !strings.Contains(msg, tc.want) {
				t.Fatalf("checker said %q, want %q", msg, tc.want)
			}
		})
	}
	// A changed counter shows up as a truth difference.
	c := append([]Line(nil), lines...)
	c[traffic].Raw = strings.Replace(tl.Raw, ", rcvd=", ", rcvd=1", 1)
	c[traffic].Message = strings.Replace(tl.Message, ", rcvd=", ", rcvd=1", 1)
	if d := cmp.Diff(recountLines(t, c, DefaultStart).truth.Sessions, tr.Sessions); d == "" {
		t.Fatal("a changed rcvd went unnoticed")
	}
	// The repeat window: a copy less than 1 s after the line is a repeat,
	// one 1 s or more after it a distinct session.
	for _, tc := range []struct {
		dt             time.Duration
		repeat, twin   int64
		sessionsChange bool
	}{
		{999999 * time.Microsecond, 1, 0, false},
		{time.Second, 0, 1, true},
		{1500 * time.Millisecond, 0, 1, true},
	} {
		t.Run(fmt.Sprint(tc.dt), func(t *testing.T) {
			rc := recountLines(t, with(traffic, reformat(tl, tc.dt)), DefaultStart)
			if rc.truth.RepeatLines != tc.repeat || int64(rc.twins) != tc.twin {
				t.Fatalf("copy %v later: %d repeats, %d twins; want %d, %d", tc.dt, rc.truth.RepeatLines, rc.twins, tc.repeat, tc.twin)
			}
			if d := cmp.Diff(rc.truth.Sessions, tr.Sessions); (d != "") != tc.sessionsChange {
				t.Fatalf("copy %v later: sessions changed %v, want %v", tc.dt, d != "", tc.sessionsChange)
			}
		})
	}
}
