package flush

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// cloneStrings returns ev with each string in an allocation of its own,
// so that LocalKey cannot find them in one run (the built path).
func cloneStrings(ev parser.Event) parser.Event {
	c := func(s string) string { return string(append([]byte(nil), s...)) }
	ev.Host, ev.Daemon, ev.Keyword = c(ev.Host), c(ev.Daemon), c(ev.Keyword)
	ev.User, ev.IP, ev.Port = c(ev.User), c(ev.IP), c(ev.Port)
	return ev
}

// checkLocalKey fails unless a and b get equal local keys exactly when
// they get equal Keys.
func checkLocalKey(t *testing.T, a, b *parser.Event) {
	t.Helper()
	if ki, li := Key(a) == Key(b), LocalKey(a) == LocalKey(b); ki != li {
		t.Fatalf("equal keys %v, equal local keys %v:\n%+v\n%+v", ki, li, *a, *b)
	}
}

// Parsed Courier lines have their strings in one run (the in-place path);
// the same events with their strings copied apart take the built path and
// must get the same keys; and every pair of distinct records differs.
func TestLocalKeyInPlaceMatchesBuilt(t *testing.T) {
	lines, ref := benchLines(&testing.B{}, 5000)
	p, err := parser.New(parser.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	inPlace, n := 0, 0
	seen := map[ID]ID{} // LocalKey -> Identity
	for _, l := range lines {
		var ev parser.Event
		if res, err := p.ParseLine(l, ref, &ev); err != nil || res != parser.Traffic {
			continue
		}
		n++
		if _, ok := inPlaceSpan(&ev); ok {
			inPlace++
		}
		c := cloneStrings(ev)
		if _, ok := inPlaceSpan(&c); ok {
			t.Fatalf("copied strings found in one run: %+v", c)
		}
		k := LocalKey(&ev)
		if kc := LocalKey(&c); kc != k {
			t.Fatalf("in place %x, built %x for %q", k, kc, l)
		}
		id := Key(&ev)
		if prev, ok := seen[k]; ok && prev != id {
			t.Fatalf("two records with different identities share a local key: %q", l)
		}
		seen[k] = id
	}
	// Every era's layout is generated; those with a port (4.1.0 on) keep
	// their strings in one run.
	if n < 1000 || inPlace < n/4 {
		t.Errorf("%d of %d parsed events had their strings in one run: the test does not exercise the fast path", inPlace, n)
	}
}

// Each field alone changes the key, as it changes the identity
// (fieldChanges, and a few cases of LocalKey's own); equal events (strings
// in other memory) keep it.
func TestLocalKeyFields(t *testing.T) {
	base := imapEvent("alice", baseTime, 100)
	changes := append([]struct {
		name string
		mut  func(e *parser.Event)
	}{
		{"same", func(e *parser.Event) {}},
		{"empty port", func(e *parser.Event) { e.Port = "" }},
		{"separator in a string", func(e *parser.Event) { e.User, e.IP = "alice, ip=[::1", "x" }},
		{"within the precision", func(e *parser.Event) { e.Time = e.Time.Add(time.Millisecond) }},
		{"finer precision", func(e *parser.Event) { e.Time, e.Precision = e.Time.Add(time.Millisecond), time.Millisecond }},
		{"other zone", func(e *parser.Event) { e.Time = e.Time.In(time.FixedZone("x", 3600)) }},
	}, fieldChanges...)
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			ev := cloneStrings(base)
			c.mut(&ev)
			checkLocalKey(t, &base, &ev)
		})
	}
}

func TestLocalKeyRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	prev := randomEvent(r)
	for i := 0; i < 100000; i++ {
		ev := randomEvent(r)
		checkLocalKey(t, &prev, &ev)
		c := cloneStrings(ev)
		checkLocalKey(t, &ev, &c)
		prev = ev
	}
}

func TestLocalKeyAllocs(t *testing.T) {
	ev := imapEvent(strings.Repeat("u", 100), baseTime, 1)
	if n := testing.AllocsPerRun(100, func() { LocalKey(&ev) }); n != 0 {
		t.Errorf("LocalKey allocates %v times for an ordinary event", n)
	}
}

// FuzzLocalKey: two events from the same fuzzed strings, one with them
// cut from a single Courier-style run and one with them apart, and a
// third with one string changed: keys are equal exactly when identities
// are. The run may have one separator byte changed (mangle): the bytes
// between the strings must never change a key.
func FuzzLocalKey(f *testing.F) {
	f.Add("mx1", "imapd", "LOGOUT", "alice", "::ffff:192.0.2.7", "40112", int64(100), true, uint8(0), uint8(0))
	f.Add("h", "d", "k", "u, ip=[x", "], port=[", "p", int64(0), false, uint8(3), uint8(9))
	f.Add("a b", "c: d", "e, user=f", "g", "i", "", int64(-1), true, uint8(5), uint8(200))
	for m := 1; m <= 25; m++ {
		f.Add("mx", "imapd", "LOGOUT", "bob", "::1", "1", int64(7), false, uint8(m), uint8(m))
	}
	f.Fuzz(func(t *testing.T, host, daemon, keyword, user, ip, port string, rcvd int64, tls bool, which, mangle uint8) {
		seps := []string{sepDaemon, sepKeyword, sepUser, sepIP, sepPort}
		strs := []string{host, daemon, keyword, user, ip, port}
		var run []byte
		var offs [6]int
		sepBytes := 0
		for i, s := range strs {
			offs[i] = len(run)
			run = append(run, s...)
			if i < len(seps) {
				sep := []byte(seps[i])
				// mangle 1..25 picks one of the 25 separator bytes.
				if k := int(mangle) - 1 - sepBytes; k >= 0 && k < len(sep) {
					sep[k] ^= 0x20
				}
				sepBytes += len(sep)
				run = append(run, sep...)
			}
		}
		r := string(run)
		cut := func(i int) string { return r[offs[i] : offs[i]+len(strs[i])] }
		ev := parser.Event{Time: time.Unix(1783060607, 0), Precision: time.Second, Rcvd: rcvd, TLS: tls,
			Host: cut(0), Daemon: cut(1), Keyword: cut(2), User: cut(3), IP: cut(4), Port: cut(5)}
		apart := cloneStrings(ev)
		if LocalKey(&ev) != LocalKey(&apart) {
			t.Fatalf("in place and built keys differ (mangle %d) for %+v", mangle, ev)
		}
		other := apart
		fields := []*string{&other.Host, &other.Daemon, &other.Keyword, &other.User, &other.IP, &other.Port}
		*fields[int(which)%len(fields)] += "x"
		checkLocalKey(t, &ev, &other)
	})
}
