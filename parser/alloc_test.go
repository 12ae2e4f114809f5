package parser

import (
	"testing"
	"time"
)

// TestParseLineNoAllocs: 0 allocations per line, also when the reference
// time changes day from line to line (the memos of Parser must not
// allocate on a miss) and for both timestamp forms.
func TestParseLineNoAllocs(t *testing.T) {
	ref, loc := goldenRef(t)
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"Jun 10 09:20:38 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.7], port=[40112], headers=1, body=22, rcvd=333, sent=4444, time=5, starttls=1",
		"2024-06-10T09:20:38.412907+02:00 mx pop3d-ssl: LOGOUT, user=bob, ip=[::1], port=[1], top=0, retr=12345678, rcvd=9, sent=123456789012, time=3, stls=1",
		"Jun 10 09:20:39 mx postfix/smtpd[123]: connect from unknown[192.0.2.7]",
	}
	refs := []time.Time{ref, ref.Add(-49 * time.Hour), ref.Add(30 * 24 * time.Hour)}
	var ev Event
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		res, err := p.ParseLine(lines[i%len(lines)], refs[i%len(refs)], &ev)
		if err != nil || (i%len(lines) < 2 && res != Traffic) {
			t.Fatalf("line %d: %v, %v", i%len(lines), res, err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("ParseLine allocates %.2f times per line, want 0", allocs)
	}
}
