package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "time/tzdata"
)

func TestParseUnit(t *testing.T) {
	tests := []struct {
		in      string
		want    Unit
		wantErr bool
	}{
		{"B", Unit{"B", 1}, false},
		{"KB", Unit{"KB", 1000}, false},
		{"mb", Unit{"MB", 1000000}, false},
		{"GB", Unit{"GB", 1000000000}, false},
		{"TB", Unit{"TB", 1000000000000}, false},
		{"KiB", Unit{"KiB", 1024}, false},
		{"MiB", Unit{"MiB", 1 << 20}, false},
		{"gib", Unit{"GiB", 1 << 30}, false},
		{"PB", Unit{}, true},
		{"", Unit{}, true},
		{"M", Unit{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUnit(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseUnit(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseUnit(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"2900000", 2900000, false},
		{"0", 0, false},
		{"3MB", 3000000, false},
		{"3 MB", 3000000, false},
		{"2.9MB", 2900000, false},
		{"1GiB", 1 << 30, false},
		{"1.5KiB", 1536, false},
		{"9223372036854775807", 1<<63 - 1, false},
		{"9223372036854775808", 0, true},
		{"10000000TB", 0, true},
		{"-1", 0, true},
		{"MB", 0, true},
		{"3XB", 0, true},
		{"1.2.3", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseThreshold(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseThreshold(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseThreshold(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	now := time.Date(2026, 7, 24, 9, 30, 0, 0, time.UTC)
	newYear := time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		now     time.Time
		year    int
		want    Date
		wantErr bool
	}{
		{"today", "today", now, 0, Date{2026, 7, 24}, false},
		{"yesterday", "yesterday", now, 0, Date{2026, 7, 23}, false},
		{"yesterday across new year", "yesterday", newYear, 0, Date{2026, 12, 31}, false},
		{"iso", "2025-02-28", now, 0, Date{2025, 2, 28}, false},
		{"iso ignores --year", "2025-02-28", now, 2020, Date{2025, 2, 28}, false},
		{"syslog", "Jul 23", now, 0, Date{2026, 7, 23}, false},
		{"syslog padded", "Jul  3", now, 0, Date{2026, 7, 3}, false},
		{"syslog lower case", "jul 3", now, 0, Date{2026, 7, 3}, false},
		{"syslog tomorrow is this year", "Jul 25", now, 0, Date{2026, 7, 25}, false},
		{"syslog two days ahead is last year", "Jul 26", now, 0, Date{2025, 7, 26}, false},
		{"syslog december read in january", "Dec 31", newYear, 0, Date{2026, 12, 31}, false},
		{"syslog with year", "Jul 23", now, 2019, Date{2019, 7, 23}, false},
		{"feb 29 in leap year", "Feb 29", now, 2024, Date{2024, 2, 29}, false},
		{"feb 29 in other year", "Feb 29", now, 2025, Date{}, true},
		{"iso invalid day", "2025-02-30", now, 0, Date{}, true},
		{"bad month", "Foo 3", now, 0, Date{}, true},
		{"day zero", "Jul 0", now, 0, Date{}, true},
		{"day 32", "Jul 32", now, 0, Date{}, true},
		{"garbage", "last week", now, 0, Date{}, true},
		{"empty", "", now, 0, Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.now, tt.year)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDate(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDateForms(t *testing.T) {
	tests := []struct {
		d           Date
		iso, syslog string
	}{
		{Date{2026, 7, 23}, "2026-07-23", "Jul 23"},
		{Date{2026, 7, 3}, "2026-07-03", "Jul  3"},
		{Date{999, 12, 31}, "0999-12-31", "Dec 31"},
	}
	for _, tt := range tests {
		t.Run(tt.iso, func(t *testing.T) {
			if got := tt.d.String(); got != tt.iso {
				t.Errorf("String() = %q, want %q", got, tt.iso)
			}
			if got := tt.d.Syslog(); got != tt.syslog {
				t.Errorf("Syslog() = %q, want %q", got, tt.syslog)
			}
		})
	}
}

func TestDateBoundsDST(t *testing.T) {
	vienna, err := time.LoadLocation("Europe/Vienna")
	if err != nil {
		t.Fatalf("zone Europe/Vienna (time/tzdata is embedded in the test): %v", err)
	}
	tests := []struct {
		d    Date
		want time.Duration
	}{
		{Date{2026, 3, 29}, 23 * time.Hour}, // spring forward
		{Date{2026, 10, 25}, 25 * time.Hour},
		{Date{2026, 7, 23}, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			start, end := tt.d.Bounds(vienna)
			if got := end.Sub(start); got != tt.want {
				t.Errorf("day length = %v, want %v", got, tt.want)
			}
			if start.Hour() != 0 || DateOf(start) != tt.d {
				t.Errorf("start = %v, want local midnight of %v", start, tt.d)
			}
		})
	}
}

func TestParseService(t *testing.T) {
	tests := []struct {
		in      string
		want    Service
		label   string
		wantErr bool
	}{
		{"imap", IMAP, "IMAP", false},
		{"POP3", POP3, "POP3", false},
		{"all", All, "IMAP+POP3", false},
		{"smtp", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseService(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseService(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && (got != tt.want || got.Label() != tt.label) {
				t.Errorf("ParseService(%q) = %v (%s), want %v (%s)", tt.in, got, got.Label(), tt.want, tt.label)
			}
		})
	}
}

func textOf(t *testing.T, tab *Table) string {
	t.Helper()
	var b bytes.Buffer
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteText(t *testing.T) {
	users := map[string]Sums{
		"example":                           {3, 400000, 623700000},
		"another-user":                      {36, 40300000, 50300000},
		"small":                             {5, 1000000, 1900000}, // exactly at the threshold: no row
		"just-above":                        {1, 1000000, 1900001},
		"a-very-long-user-name@example.com": {2, 5000000, 5000000},
		"jörg":                              {1, 4000000, 0},
	}
	tab := NewTable(Params{Date: Date{2026, 7, 3}, Service: IMAP, Unit: DefaultUnit, Threshold: DefaultThreshold}, users)
	want := "== Courier IMAP traffic stats per user of Jul  3 ==\n" +
		"\n" +
		"                     example    624 MB  [#    3: r     0 s   623 ]\n" +
		"                another-user     90 MB  [#   36: r    40 s    50 ]\n" +
		"a-very-long-user-name@example.com     10 MB  [#    2: r     5 s     5 ]\n" +
		"                       jörg      4 MB  [#    1: r     4 s     0 ]\n" +
		"                  just-above      2 MB  [#    1: r     1 s     1 ]\n" +
		"\n" +
		"                 -- total --    734 MB  [#   48: r    51 s   682 ]\n"
	if diff := cmp.Diff(want, textOf(t, tab)); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}

	tab = NewTable(Params{Date: Date{2026, 7, 3}, Service: All, Unit: Unit{"B", 1}, Threshold: 0, Top: 1},
		map[string]Sums{"big": {1, 1 << 40, 1 << 41}, "small": {1, 1, 1}})
	want = "== Courier IMAP+POP3 traffic stats per user of Jul  3 ==\n" +
		"\n" +
		"                         big 3298534883328 B   [#    1: r 1099511627776 s 2199023255552 ]\n" +
		"\n" +
		"                 -- total -- 3298534883330 B   [#    2: r 1099511627777 s 2199023255553 ]\n"
	if diff := cmp.Diff(want, textOf(t, tab)); diff != "" {
		t.Errorf("WriteText with 64-bit values and --top 1 (-want +got):\n%s", diff)
	}

	tab = NewTable(Params{Date: Date{2026, 1, 1}, Service: POP3, Unit: DefaultUnit, Threshold: DefaultThreshold}, nil)
	want = "== Courier POP3 traffic stats per user of Jan  1 ==\n" +
		"\n" +
		"\n" +
		"                 -- total --      0 MB  [#    0: r     0 s     0 ]\n"
	if diff := cmp.Diff(want, textOf(t, tab)); diff != "" {
		t.Errorf("WriteText empty (-want +got):\n%s", diff)
	}
}

// TestOrderMatchesSort checks the ranking against the real `sort -nr -k 2` of
// the classic script in the C locale, over random rows with many ties in the
// printed value (user names without blanks, where the script is right).
func TestOrderMatchesSort(t *testing.T) {
	sortPath, err := exec.LookPath("sort")
	if err != nil {
		t.Skipf("SKIPPED: no sort(1) on this machine to compare with: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "abcXYZ019.-_@"
	for round := range 20 {
		users := map[string]Sums{}
		for range 1 + rng.IntN(60) {
			var name strings.Builder
			for range 1 + rng.IntN(12) {
				name.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
			users[name.String()] = Sums{
				Sessions: rng.Int64N(3),
				Rcvd:     rng.Int64N(9_000_000),
				Sent:     rng.Int64N(9_000_000),
			}
		}
		tab := NewTable(Params{Date: Date{2026, 7, 23}, Service: IMAP, Unit: DefaultUnit, Threshold: DefaultThreshold}, users)
		var ours bytes.Buffer
		for _, r := range tab.Rows {
			ours.Write(tab.appendLine(nil, r))
		}
		// Feed sort the same lines in a shuffled order, as awk's `for (user in uc)` does.
		lines := strings.SplitAfter(ours.String(), "\n")
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		cmd := exec.Command(sortPath, "-nr", "-k", "2")
		cmd.Env = []string{"LC_ALL=C"}
		cmd.Stdin = strings.NewReader(strings.Join(lines, ""))
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("sort: %v", err)
		}
		if diff := cmp.Diff(string(got), ours.String()); diff != "" {
			t.Errorf("round %d: NewTable order differs from sort -nr -k 2 (-sort +ours):\n%s", round, diff)
		}
	}
}

func TestWriteJSONAndCSV(t *testing.T) {
	tab := NewTable(Params{Date: Date{2026, 7, 23}, Service: All, Unit: DefaultUnit, Threshold: 10},
		map[string]Sums{"doe, john": {2, 30, 40}, "x": {1, 5, 5}, "b": {1, 100, 0}})
	var j bytes.Buffer
	if err := tab.Write(&j, JSON); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
  "date": "2026-07-23",
  "service": "all",
  "threshold": 10,
  "users": [
    {
      "rank": 1,
      "user": "doe, john",
      "sessions": 2,
      "rcvd": 30,
      "sent": 40,
      "total": 70
    },
    {
      "rank": 2,
      "user": "b",
      "sessions": 1,
      "rcvd": 100,
      "sent": 0,
      "total": 100
    }
  ],
  "total": {
    "rank": 0,
    "user": "-- total --",
    "sessions": 4,
    "rcvd": 135,
    "sent": 45,
    "total": 180
  }
}
`
	// Both users print 0 MB: the tie goes to the printed line in descending
	// byte order, and the shorter name's line starts with more blanks, which
	// sort lower than letters: "doe, john" ranks first although its total is
	// smaller, exactly as the classic script's sort would place them.
	if diff := cmp.Diff(wantJSON, j.String()); diff != "" {
		t.Errorf("WriteJSON (-want +got):\n%s", diff)
	}
	var c bytes.Buffer
	if err := tab.Write(&c, CSV); err != nil {
		t.Fatal(err)
	}
	wantCSV := "date,service,rank,user,sessions,rcvd,sent,total\n" +
		"2026-07-23,all,1,\"doe, john\",2,30,40,70\n" +
		"2026-07-23,all,2,b,1,100,0,100\n" +
		"2026-07-23,all,0,-- total --,4,135,45,180\n"
	if diff := cmp.Diff(wantCSV, c.String()); diff != "" {
		t.Errorf("WriteCSV (-want +got):\n%s", diff)
	}
}

func ExampleTable_WriteText() {
	tab := NewTable(Params{Date: Date{2026, 7, 23}, Service: IMAP, Unit: DefaultUnit, Threshold: DefaultThreshold},
		map[string]Sums{"example": {3, 400000, 623700000}, "quiet": {10, 1000, 2000}})
	var b bytes.Buffer
	_ = tab.WriteText(&b)
	fmt.Print(b.String())
	// Output:
	// == Courier IMAP traffic stats per user of Jul 23 ==
	//
	//                      example    624 MB  [#    3: r     0 s   623 ]
	//
	//                  -- total --    624 MB  [#   13: r     0 s   623 ]
}
