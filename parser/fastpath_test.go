package parser

import (
	"strings"
	"testing"
	"time"
)

// The fast paths must give exactly the results of the general code they
// shortcut: fastSuffix those of parseFieldList, daysFromCivil's tables
// those of the general algorithm.

// suffixAfterIP returns the text after the first "ip=[...]" of line, or
// false.
func suffixAfterIP(line string) (string, bool) {
	i := strings.Index(line, ", ip=[")
	if i < 0 {
		return "", false
	}
	e := strings.IndexByte(line[i:], ']')
	if e < 0 {
		return "", false
	}
	return line[i+e+1:], true
}

// checkFastSuffix compares fastSuffix with parseFieldList on the fields
// suffix placed after a message head, for a daemon and a logger limit.
func checkFastSuffix(t *testing.T, suffix, daemon string, extraTrunc int) (fast bool) {
	t.Helper()
	const head = "LOGOUT, user=u, ip=[::1]"
	msg := head + suffix
	var fe, ge Event
	pop3 := strings.Contains(daemon, "pop3")
	fast = fastSuffix(msg, len(head), pop3, &fe, len(msg), extraTrunc)
	res, pos, why, again := parseFieldList(msg, len(head), pop3, &ge, len(msg), extraTrunc)
	if !fast {
		if fe != (Event{}) {
			t.Fatalf("%q: fastSuffix declined but wrote %+v", suffix, fe)
		}
		return false
	}
	if res != Traffic || why != "" || pos != 0 || again {
		t.Fatalf("%q (%s, trunc %d): fastSuffix accepted, parseFieldList says %v %d %q again=%v", suffix, daemon, extraTrunc, res, pos, why, again)
	}
	if fe != ge {
		t.Fatalf("%q (%s): fastSuffix\n%+v\nparseFieldList\n%+v", suffix, daemon, fe, ge)
	}
	return true
}

func TestFastSuffix(t *testing.T) {
	for _, c := range []struct {
		suffix string
		fast   bool // fastSuffix must take it
	}{
		{", port=[54915], headers=58, body=0, rcvd=254, sent=563, time=1", true},
		{", port=[54915], headers=58, body=0, rcvd=254, sent=563, time=1, starttls=1", true},
		{", port=[N/A], headers=1234567, body=12345678, rcvd=123456789012, sent=9223372036854775807, time=0, starttls=0", true},
		{", headers=0, body=0, rcvd=218, sent=886, time=79", true},
		{", port=[1], top=0, retr=12345678, rcvd=9, sent=123456789012, time=3, stls=1", true},
		{", port=[40112], rcvd=33, sent=444", true},
		{", rcvd=3, sent=4", true},
		{", port=[40112], headers=1, body=2, rcvd=3, sent=4, time=5, stls=1", false},       // TLS key of the other protocol
		{", headers=1, body=2, time=5", false},                                             // before 4.1.0
		{", port=[1], top=0, retr=263787, time=485, rcvd=258, sent=269885", false},         // Plesk order
		{", port=[1], headers=1, body=2, rcvd=3, sent=4, time=5, maildir=/x", false},       // unknown field
		{", port=[12345678], headers=1, body=2, rcvd=3, sent=4, time=5", false},            // long port
		{", port=[1], headers=1, body=2, rcvd=3, sent=9223372036854775808, time=5", false}, // overflow
		{", port=[1], headers=1, body=2, rcvd=3, sent=4, time=5, time=6", false},           // repeated
		{", port=[1], headers=1, rcvd=3, sent=4, time=5", false},                           // unpaired
		{", port=[1], headers=1, body=2, rcvd=3, sent=4, time=", false},                    // empty value
		{", port=[1], headers=1, body=2, rcvd=3, sent=4, time=5, ip=[::2]", false},         // not the rightmost ip
		{", port=[1], time=5", false},                                                      // no counters
	} {
		if got := checkFastSuffix(t, c.suffix, "imapd", 0); got != c.fast {
			t.Errorf("%q: fastSuffix took it: %v, want %v", c.suffix, got, c.fast)
		}
		checkFastSuffix(t, c.suffix, "pop3d", 0)
	}
	// A message whose length is a logger limit is left to parseFieldList.
	suffix := ", rcvd=3, sent=4"
	if checkFastSuffix(t, suffix, "imapd", len("LOGOUT, user=u, ip=[::1]")+len(suffix)) {
		t.Errorf("fastSuffix took a message of a logger limit length")
	}
}

// FuzzFastSuffix: whatever fields follow the IP, fastSuffix either
// declines (without touching the Event) or gives parseFieldList's Event.
func FuzzFastSuffix(f *testing.F) {
	seedFromGolden(f, func(line string) {
		if s, ok := suffixAfterIP(line); ok {
			f.Add(s, false, 0)
			f.Add(s, true, 0)
		}
	})
	f.Add(", rcvd=3, sent=4", false, 40)
	f.Fuzz(func(t *testing.T, suffix string, pop bool, extraTrunc int) {
		daemon := "imapd"
		if pop {
			daemon = "pop3d-ssl"
		}
		checkFastSuffix(t, suffix, daemon, extraTrunc)
	})
}

// TestFastSuffixGolden: the golden traffic lines of the current formats
// take the fast path (so that the benchmarks measure it).
func TestFastSuffixGolden(t *testing.T) {
	n := 0
	for _, line := range readGoldenInput(t, "testdata/golden/imap.log") {
		if s, ok := suffixAfterIP(line); ok && checkFastSuffix(t, s, "imapd", 0) {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no golden IMAP line took fastSuffix")
	}
}

func TestDaysFromCivilTable(t *testing.T) {
	for y := civilBase - 3; y < civilBase+len(yearStart)+3; y++ {
		for m := time.January; m <= time.December; m++ {
			for d := 1; d <= 31; d++ {
				if got, want := daysFromCivil(y, m, d), daysFromCivilSlow(y, m, d); got != want {
					t.Fatalf("daysFromCivil(%d, %d, %d) = %d, want %d", y, m, d, got, want)
				}
			}
		}
	}
	for _, y := range []int{-1, 0, 1, 1969, 1970, 2038, 2106, 9999, 10000, -400} {
		if got, want := daysFromCivil(y, time.March, 1), daysFromCivilSlow(y, time.March, 1); got != want {
			t.Fatalf("daysFromCivil(%d, 3, 1) = %d, want %d", y, got, want)
		}
	}
}
