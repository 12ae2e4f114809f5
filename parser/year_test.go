package parser

import (
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestInferYear(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	type stamp struct {
		m                   time.Month
		d, hh, mm, ss, nsec int
	}
	for _, tc := range []struct {
		name   string
		in     stamp
		loc    *time.Location
		ref    time.Time
		want   time.Time
		wantOK bool
	}{
		{name: "same year", in: stamp{time.June, 10, 9, 20, 38, 0}, loc: berlin,
			ref: time.Date(2024, 6, 10, 12, 0, 0, 0, berlin), want: time.Date(2024, 6, 10, 9, 20, 38, 0, berlin), wantOK: true},
		{name: "December line read in January", in: stamp{time.December, 30, 22, 0, 0, 0}, loc: berlin,
			ref: time.Date(2025, 1, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 12, 30, 22, 0, 0, 0, berlin), wantOK: true},
		{name: "Dec 31 23:59:59 at New Year's midnight", in: stamp{time.December, 31, 23, 59, 59, 0}, loc: berlin,
			ref: time.Date(2025, 1, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 12, 31, 23, 59, 59, 0, berlin), wantOK: true},
		{name: "23h in the future stays in the same year", in: stamp{time.June, 11, 11, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 6, 10, 12, 0, 0, 0, berlin), want: time.Date(2024, 6, 11, 11, 0, 0, 0, berlin), wantOK: true},
		{name: "exactly 24h in the future stays", in: stamp{time.June, 11, 12, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 6, 10, 12, 0, 0, 0, berlin), want: time.Date(2024, 6, 11, 12, 0, 0, 0, berlin), wantOK: true},
		{name: "25h in the future is last year", in: stamp{time.June, 11, 13, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 6, 10, 12, 0, 0, 0, berlin), want: time.Date(2023, 6, 11, 13, 0, 0, 0, berlin), wantOK: true},
		{name: "New Year's line read on Dec 31 is next year", in: stamp{time.January, 1, 0, 30, 0, 0}, loc: berlin,
			ref: time.Date(2024, 12, 31, 23, 50, 0, 0, berlin), want: time.Date(2025, 1, 1, 0, 30, 0, 0, berlin), wantOK: true},
		{name: "New Year's line read in the morning of Dec 31 (UTC date Dec 31)", in: stamp{time.January, 1, 5, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 12, 31, 8, 0, 0, 0, berlin), want: time.Date(2025, 1, 1, 5, 0, 0, 0, berlin), wantOK: true},
		{name: "Feb 29 read in 2025", in: stamp{time.February, 29, 12, 0, 0, 0}, loc: berlin,
			ref: time.Date(2025, 6, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 2, 29, 12, 0, 0, 0, berlin), wantOK: true},
		{name: "Feb 29 read on 2024-03-01", in: stamp{time.February, 29, 23, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 3, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 2, 29, 23, 0, 0, 0, berlin), wantOK: true},
		{name: "Feb 29 read on 2028-02-28 (within 24h)", in: stamp{time.February, 29, 1, 0, 0, 0}, loc: berlin,
			ref: time.Date(2028, 2, 28, 12, 0, 0, 0, berlin), want: time.Date(2028, 2, 29, 1, 0, 0, 0, berlin), wantOK: true},
		{name: "Feb 29 read in 2027 (three years back)", in: stamp{time.February, 29, 1, 0, 0, 0}, loc: berlin,
			ref: time.Date(2027, 2, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 2, 29, 1, 0, 0, 0, berlin), wantOK: true},
		{name: "Feb 29 across the 2100 non-leap year", in: stamp{time.February, 29, 1, 0, 0, 0}, loc: berlin,
			ref: time.Date(2103, 6, 1, 0, 0, 0, 0, berlin), want: time.Date(2096, 2, 29, 1, 0, 0, 0, berlin), wantOK: true},
		{name: "April 31 never exists", in: stamp{time.April, 31, 1, 0, 0, 0}, loc: berlin,
			ref: time.Date(2024, 6, 1, 0, 0, 0, 0, berlin), wantOK: false},
		{name: "bad month", in: stamp{13, 1, 1, 0, 0, 0}, loc: berlin, ref: time.Date(2024, 6, 1, 0, 0, 0, 0, berlin), wantOK: false},
		{name: "bad hour", in: stamp{time.May, 1, 24, 0, 0, 0}, loc: berlin, ref: time.Date(2024, 6, 1, 0, 0, 0, 0, berlin), wantOK: false},
		// New York: summer offset -4h, winter -5h. A UTC reference already in
		// the new year is still Dec 31 locally.
		{name: "New York: ref is Jan 1 UTC but Dec 31 local", in: stamp{time.December, 31, 21, 0, 0, 0}, loc: ny,
			ref: time.Date(2025, 1, 1, 3, 0, 0, 0, time.UTC), want: time.Date(2024, 12, 31, 21, 0, 0, 0, ny), wantOK: true},
		{name: "New York: Jan 1 line, ref Dec 31 evening local (Jan 1 UTC)", in: stamp{time.January, 1, 0, 10, 0, 0}, loc: ny,
			ref: time.Date(2025, 1, 1, 4, 55, 0, 0, time.UTC), want: time.Date(2025, 1, 1, 0, 10, 0, 0, ny), wantOK: true},
		{name: "New York: summer time line", in: stamp{time.July, 4, 12, 0, 0, 0}, loc: ny,
			ref: time.Date(2024, 11, 20, 0, 0, 0, 0, ny), want: time.Date(2024, 7, 4, 16, 0, 0, 0, time.UTC), wantOK: true},
		{name: "New York: winter time line", in: stamp{time.January, 15, 12, 0, 0, 0}, loc: ny,
			ref: time.Date(2024, 11, 20, 0, 0, 0, 0, ny), want: time.Date(2024, 1, 15, 17, 0, 0, 0, time.UTC), wantOK: true},
		{name: "New York: the day DST ends, 23h ahead of ref", in: stamp{time.November, 3, 23, 0, 0, 0}, loc: ny,
			ref: time.Date(2024, 11, 3, 1, 0, 0, 0, ny), want: time.Date(2024, 11, 4, 4, 0, 0, 0, time.UTC), wantOK: true},
		{name: "Berlin: DST begins (summer offset)", in: stamp{time.March, 31, 3, 30, 0, 0}, loc: berlin,
			ref: time.Date(2024, 4, 1, 0, 0, 0, 0, berlin), want: time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC), wantOK: true},
		{name: "nil location is UTC", in: stamp{time.June, 1, 0, 0, 0, 0}, loc: nil,
			ref: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC), want: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), wantOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := InferYear(tc.in.m, tc.in.d, tc.in.hh, tc.in.mm, tc.in.ss, tc.in.nsec, tc.loc, tc.ref)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v (time %v)", ok, tc.wantOK, got)
			}
			if ok && !got.Equal(tc.want) {
				t.Errorf("InferYear = %v, want %v", got, tc.want)
			}
			if ok && got.After(tc.ref.Add(24*time.Hour)) {
				t.Errorf("InferYear = %v is more than 24h after ref %v", got, tc.ref)
			}
		})
	}
}

// TestInferYearExhaustive checks the rule against a brute-force search over
// every day of a few years and several zones: the answer is the latest
// candidate year not more than 24h after ref.
func TestInferYearExhaustive(t *testing.T) {
	zones := []*time.Location{time.UTC, mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York"),
		mustLoad(t, "Pacific/Kiritimati"), mustLoad(t, "Pacific/Pago_Pago")}
	refs := []time.Time{
		time.Date(2024, 12, 31, 10, 0, 0, 0, time.UTC), time.Date(2024, 12, 30, 11, 0, 0, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 13, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, loc := range zones {
		for _, ref := range refs {
			for m := time.January; m <= time.December; m++ {
				for d := 1; d <= 31; d++ {
					for _, hh := range []int{0, 12, 23} {
						got, ok := InferYear(m, d, hh, 30, 0, 0, loc, ref)
						var want time.Time
						wantOK := false
						for y := ref.Year() + 2; y >= ref.Year()-10; y-- {
							c := time.Date(y, m, d, hh, 30, 0, 0, loc)
							if c.Month() != m || c.Day() != d || c.After(ref.Add(24*time.Hour)) {
								continue
							}
							want, wantOK = c, true
							break
						}
						if ok != wantOK || (ok && !got.Equal(want)) {
							t.Fatalf("%v %s %d %02d:30 ref %v: got %v %v, want %v %v", loc, m, d, hh, ref, got, ok, want, wantOK)
						}
					}
				}
			}
		}
	}
}

// TestParserTimeMatchesInferYear checks the parser's cached-zone fast path
// against InferYear (two time.Date calls, no cache) on every half hour
// around DST transitions and New Year in several zones, in sequential and
// scrambled order so that the cache both hits and misses.
func TestParserTimeMatchesInferYear(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "Pacific/Chatham", "America/Sao_Paulo"}
	refs := []time.Time{
		time.Date(2024, 12, 31, 22, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC), time.Date(2024, 11, 3, 6, 0, 0, 0, time.UTC),
		time.Date(2024, 10, 27, 1, 0, 0, 0, time.UTC), time.Date(2025, 4, 6, 12, 0, 0, 0, time.UTC),
	}
	for _, name := range zones {
		loc := mustLoad(t, name)
		p, err := New(Options{Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		var stamps []stamp
		for _, day := range []struct {
			m time.Month
			d int
		}{{time.January, 1}, {time.January, 2}, {time.March, 10}, {time.March, 31}, {time.April, 6}, {time.October, 6},
			{time.October, 27}, {time.November, 3}, {time.December, 30}, {time.December, 31}, {time.February, 29}} {
			for min := 0; min < 24*60; min += 30 {
				stamps = append(stamps, stamp{kind: stampClassic, month: day.m, day: day.d, hour: min / 60, min: min % 60, sec: 7})
			}
		}
		check := func(st stamp, ref time.Time) {
			t.Helper()
			got, ok := p.time(&st, ref)
			want, wantOK := InferYear(st.month, st.day, st.hour, st.min, st.sec, st.nsec, loc, ref)
			if ok != wantOK || !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%s %v %d %02d:%02d ref %v: got %v %v, want %v %v", name, st.month, st.day, st.hour, st.min, ref, got, ok, want, wantOK)
			}
		}
		for _, ref := range refs {
			for _, st := range stamps {
				check(st, ref)
			}
			for i := range stamps { // scrambled: the cache misses often
				check(stamps[(i*7919)%len(stamps)], ref)
			}
		}
	}
}

func TestParserTimeFixedYear(t *testing.T) {
	loc := mustLoad(t, "America/New_York")
	p, err := New(Options{Location: loc, Year: 2024})
	if err != nil {
		t.Fatal(err)
	}
	for min := 0; min < 24*60; min += 15 {
		for _, d := range []int{10, 11} { // 2024-03-10: spring forward; check both days in either order
			st := stamp{kind: stampClassic, month: time.March, day: d, hour: min / 60, min: min % 60}
			got, ok := p.time(&st, time.Time{})
			want := time.Date(2024, time.March, d, st.hour, st.min, 0, 0, loc)
			if !ok || !got.Equal(want) {
				t.Fatalf("March %d %02d:%02d: got %v, want %v", d, st.hour, st.min, got, want)
			}
		}
	}
}
