package flush

import (
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/courier-traffic/courier-traffic/parser"
)

// plainAppend encodes ev with a fresh Encoder through the call-by-call
// path only: the reference Append's caches must reproduce.
func plainAppend(measurement string, lower bool, dst []byte, ev *parser.Event, t time.Time) ([]byte, error) {
	e := NewEncoder(measurement, lower)
	if e.badMeasurement != nil {
		return dst, e.badMeasurement
	}
	return e.appendPlain(dst, ev, t)
}

// checkSame appends ev with enc (caches warm from earlier points) and with
// plainAppend, after the same dst prefix, and compares bytes and errors.
func checkSame(t *testing.T, enc *Encoder, lower bool, ev *parser.Event, at time.Time) {
	t.Helper()
	dst := []byte("prev line\n")
	want, wantErr := plainAppend("courier_session", lower, append([]byte(nil), dst...), ev, at)
	got, gotErr := enc.Append(append([]byte(nil), dst...), ev, at)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("event %+v: bytes differ from the plain path (-want +got):\n%s", *ev, diff)
	}
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Errorf("event %+v: error %v, plain path %v", *ev, gotErr, wantErr)
	}
}

// hostileStrings are values for every string of an event: escapes of each
// line-protocol section, quotes, backslashes (inside and trailing), control
// characters, invalid UTF-8, non-ASCII, empty.
var hostileStrings = []string{
	"", "alice", "Alice@Example.ORG", `a,b=c d"\x`, "mail host, one=1", `tr\`, `\`, `"`, `""`, "x=y",
	"new\nline", "tab\there", "cr\rx", "bad\xffutf8", "\xc3", "Ünïcödé", "(none)", " ", ",", "=", "a\\ b",
	"N/A", "::ffff:192.0.2.7", "fe80::1%eth0",
}

// TestEncoderCacheMatchesPlain: Append (series, key, tail and timestamp
// caches) writes exactly what the plain Encoder calls write, for realistic
// events and for hostile values in every string, with the caches warm,
// cold and reset at their bounds.
func TestEncoderCacheMatchesPlain(t *testing.T) {
	var events []parser.Event
	p, err := parser.New(parser.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := loggen.Generate(loggen.Options{Seed: 3, MaxLines: 3000, Eras: loggen.AllEras, Format: loggen.Mixed, RsyslogMarkers: 0.05},
		func(l loggen.Line) error {
			var ev parser.Event
			if res, err := p.ParseLine(l.Raw, time.Date(2026, 8, 30, 0, 0, 0, 0, time.UTC), &ev); err == nil && res != parser.Skip {
				events = append(events, ev)
			}
			return nil
		})
	if err != nil || truth.Sessions == nil || len(events) < 100 {
		t.Fatalf("generated %d events: %v", len(events), err)
	}
	base := imapEvent("alice", baseTime, 100)
	pop := pop3Event("bob", baseTime)
	for i, s := range hostileStrings {
		for _, mut := range []func(e *parser.Event){
			func(e *parser.Event) { e.Host = s },
			func(e *parser.Event) { e.User = s },
			func(e *parser.Event) { e.Daemon = s },
			func(e *parser.Event) { e.IP = s },
			func(e *parser.Event) { e.Port = s },
			func(e *parser.Event) { e.Host, e.User, e.IP = s, hostileStrings[(i+1)%len(hostileStrings)], s },
		} {
			for _, ev := range []parser.Event{base, pop} {
				mut(&ev)
				events = append(events, ev)
			}
		}
	}
	for k := parser.KindUnknown; k <= parser.Other+1; k++ {
		for has := uint8(0); has < 16; has++ {
			for _, svc := range []parser.Service{parser.ServiceUnknown, parser.IMAP, parser.POP3} {
				ev := base
				ev.Kind, ev.Has, ev.Service, ev.TLS = k, has, svc, has&1 == 0
				events = append(events, ev)
			}
		}
	}
	times := []time.Time{
		{}, baseTime, baseTime.Add(123456789), time.Unix(0, -1<<63), time.Unix(0, 1<<63-1),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, lower := range []bool{false, true} {
		t.Run("lower="+strconv.FormatBool(lower), func(t *testing.T) {
			enc := NewEncoder("courier_session", lower)
			// Twice: the second round runs on warm caches.
			for round := 0; round < 2; round++ {
				for i := range events {
					ev := &events[i]
					at := PointTime(ev, Identity(ev))
					if i%97 == 0 {
						at = times[i/97%len(times)]
					}
					checkSame(t, enc, lower, ev, at)
				}
			}
		})
	}
	t.Run("measurement", func(t *testing.T) {
		for _, m := range []string{"courier_session", "with space", "comma,x", `q"uote`, "ünï", "", `ends\`, "a\nb"} {
			ev := imapEvent("alice", baseTime, 1)
			want, wantErr := plainAppend(m, false, nil, &ev, baseTime)
			got, gotErr := NewEncoder(m, false).Append(nil, &ev, baseTime)
			if string(want) != string(got) || (wantErr == nil) != (gotErr == nil) {
				t.Errorf("measurement %q: got %q, %v; plain path %q, %v", m, got, gotErr, want, wantErr)
			}
		}
	})
	t.Run("cache bounds", func(t *testing.T) {
		enc := NewEncoder("courier_session", false)
		for i := 0; i < maxSeries+maxTails+10; i++ {
			ev := imapEvent("user"+strconv.Itoa(i), baseTime, int64(i))
			ev.Daemon = "d" + strconv.Itoa(i%(maxTails+5))
			checkSame(t, enc, false, &ev, baseTime.Add(time.Duration(i)))
			if len(enc.series) > maxSeries || len(enc.tails) > maxTails {
				t.Fatalf("caches hold %d series and %d tails, bounds %d and %d", len(enc.series), len(enc.tails), maxSeries, maxTails)
			}
		}
	})
}

// TestEncoderCacheOwnsKeys: cached keys must not alias the caller's
// strings, which live in a reused chunk buffer.
func TestEncoderCacheOwnsKeys(t *testing.T) {
	// The plugin hands the encoder strings that alias Fluent Bit's chunk
	// (unsafe.String, no copy), which is freed or reused after the flush. buf
	// plays that chunk: its strings are views, and rewriting buf in place
	// changes them, as a reused chunk would.
	buf := []byte("mx1 alice imapd")
	view := func(i, j int) string { return unsafe.String(&buf[i], j-i) }
	ev := imapEvent("", baseTime, 1)
	ev.Host, ev.User, ev.Daemon = view(0, 3), view(4, 9), view(10, 15)
	enc := NewEncoder("courier_session", false)
	first, err := enc.Append(nil, &ev, baseTime)
	if err != nil {
		t.Fatal(err)
	}
	first = append([]byte(nil), first...)
	// Another series and tail, then the first one again from the cache (a
	// map hit remembers its key as the "last used" entry).
	other := imapEvent("", baseTime, 1)
	other.Host, other.User, other.Daemon = "mx2", "bobby", "pop3d"
	if _, err := enc.Append(nil, &other, baseTime); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Append(nil, &ev, baseTime); err != nil {
		t.Fatal(err)
	}
	// The chunk is reused: the old views now read "mx2 bobby pop3d". A cache
	// that kept them would answer the next mx2/bobby/pop3d point with the
	// entries made for mx1/alice/imapd.
	copy(buf, "mx2 bobby pop3d")
	want, err := NewEncoder("courier_session", false).Append(nil, &other, baseTime)
	if err != nil {
		t.Fatal(err)
	}
	got, err := enc.Append(nil, &other, baseTime)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("cached encoding after the input buffer was reused (-fresh encoder +cached):\n%s", diff)
	}
	copy(buf, "mx1 alice imapd")
	again, err := enc.Append(nil, &ev, baseTime)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(first), string(again)); diff != "" {
		t.Errorf("second encoding differs (-first +again):\n%s", diff)
	}
}

// FuzzEncoderCache: for any strings, kinds, field sets and times, Append
// equals the plain Encoder path, on a long-lived Encoder whose caches hold
// earlier inputs. Corpus: testdata/fuzz/FuzzEncoderCache.
func FuzzEncoderCache(f *testing.F) {
	f.Add("alice", "mx1", "::ffff:192.0.2.7", "40112", "imapd", uint8(1), uint8(15), uint8(1), false, int64(100), int64(1783060607123456789))
	f.Add(`a,b=c d"\x`, "mail host, one=1", `ip "quoted" \`, "N/A", "pop3d-ssl", uint8(6), uint8(7), uint8(2), true, int64(-5), int64(0))
	f.Add(`trailing\`, "", "", "", "", uint8(0), uint8(0), uint8(0), false, int64(0), int64(-1<<63))
	f.Add("bad\xffutf8", "h\xc3", "\n", "\t", "\"", uint8(7), uint8(2), uint8(3), true, int64(1<<62), int64(1<<63-1))
	lowerEnc := NewEncoder("courier_session", true)
	plainEnc := NewEncoder("courier_session", false)
	f.Fuzz(func(t *testing.T, user, host, ip, port, daemon string, kind, has, svc uint8, tls bool, n, ns int64) {
		ev := parser.Event{
			Time: time.Unix(0, ns), Precision: time.Second, Host: host, Daemon: daemon,
			Service: parser.Service(svc % 4), Kind: parser.Kind(kind % 9), User: user, IP: ip, Port: port,
			Rcvd: n, Sent: n / 3, Headers: -n, Body: n ^ 0x5555, Top: n >> 7, Retr: n % 1000, Duration: n / 11,
			TLS: tls, Has: has & 15,
		}
		at := time.Unix(0, ns)
		checkSame(t, plainEnc, false, &ev, at)
		checkSame(t, lowerEnc, true, &ev, at)
	})
}
