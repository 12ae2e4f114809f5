package flush

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

type decodedPoint struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        int64
}

// decodeLP decodes a body with the same library, as the server would.
func decodeLP(t testing.TB, body []byte) []decodedPoint {
	t.Helper()
	var out []decodedPoint
	dec := lineprotocol.NewDecoderWithBytes(body)
	for dec.Next() {
		m, err := dec.Measurement()
		if err != nil {
			t.Fatalf("measurement: %v\nbody:\n%s", err, body)
		}
		p := decodedPoint{Measurement: string(m), Tags: map[string]string{}, Fields: map[string]any{}}
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				t.Fatalf("tag: %v\nbody:\n%s", err, body)
			}
			if k == nil {
				break
			}
			p.Tags[string(k)] = string(v)
		}
		for {
			k, v, err := dec.NextField()
			if err != nil {
				t.Fatalf("field: %v\nbody:\n%s", err, body)
			}
			if k == nil {
				break
			}
			p.Fields[string(k)] = v.Interface()
		}
		ts, err := dec.Time(lineprotocol.Nanosecond, time.Time{})
		if err != nil {
			t.Fatalf("time: %v", err)
		}
		p.Time = ts.UnixNano()
		out = append(out, p)
	}
	return out
}

func pop3Event(user string, at time.Time) parser.Event {
	return parser.Event{
		Time: at, Precision: time.Second, Host: "mx1", Daemon: "pop3d-ssl",
		Service: parser.POP3, Kind: parser.End, Keyword: "disc",
		User: user, IP: "::ffff:198.51.100.7", Port: "50412",
		Rcvd: 61, Sent: 49213, Top: 0, Retr: 48211, Duration: 3, TLS: true,
		Has: parser.HasPort | parser.HasBytes | parser.HasTime | parser.HasContent,
	}
}

func TestEncoderRoundTrip(t *testing.T) {
	at := time.Unix(1783060607, 123456789)
	hostile := `a,b=c d"\x`
	oldIMAP := imapEvent("bob", baseTime, 0)
	oldIMAP.Has = parser.HasContent // courier-imap < 3.0.8: headers/body only
	oldIMAP.Port = ""
	noUser := imapEvent("", baseTime, 56)
	noUser.Has = parser.HasPort | parser.HasBytes
	noHost := pop3Event("carol", baseTime)
	noHost.Host = ""
	spaced := imapEvent(hostile, baseTime, 7)
	spaced.Host = "mail host, one=1"
	cases := []struct {
		name  string
		ev    parser.Event
		lower bool
		want  decodedPoint
	}{
		{"imap full", imapEvent("Alice@Example.org", baseTime, 100), false, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"host": "mx1", "service": "imap", "user": "Alice@Example.org"},
			Fields: map[string]any{"rcvd": int64(100), "sent": int64(2000), "headers": int64(300), "body": int64(4000),
				"duration": int64(12), "tls": false, "ip": "::ffff:192.0.2.7", "port": "40112", "event": "LOGOUT", "daemon": "imapd"},
			Time: at.UnixNano(),
		}},
		{"user_case lower", imapEvent("Alice@Example.org", baseTime, 100), true, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"host": "mx1", "service": "imap", "user": "alice@example.org"},
			Fields: map[string]any{"rcvd": int64(100), "sent": int64(2000), "headers": int64(300), "body": int64(4000),
				"duration": int64(12), "tls": false, "ip": "::ffff:192.0.2.7", "port": "40112", "event": "LOGOUT", "daemon": "imapd"},
			Time: at.UnixNano(),
		}},
		{"pop3 no host", noHost, false, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"service": "pop3", "user": "carol"},
			Fields: map[string]any{"rcvd": int64(61), "sent": int64(49213), "top": int64(0), "retr": int64(48211),
				"duration": int64(3), "tls": true, "ip": "::ffff:198.51.100.7", "port": "50412", "event": "END", "daemon": "pop3d-ssl"},
			Time: at.UnixNano(),
		}},
		{"old imap without bytes", oldIMAP, false, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"host": "mx1", "service": "imap", "user": "bob"},
			Fields: map[string]any{"headers": int64(300), "body": int64(4000), "tls": false,
				"ip": "::ffff:192.0.2.7", "event": "LOGOUT", "daemon": "imapd"},
			Time: at.UnixNano(),
		}},
		{"unauthenticated", noUser, false, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"host": "mx1", "service": "imap", "user": "(none)"},
			Fields: map[string]any{"rcvd": int64(56), "sent": int64(2000), "tls": false,
				"ip": "::ffff:192.0.2.7", "port": "40112", "event": "LOGOUT", "daemon": "imapd"},
			Time: at.UnixNano(),
		}},
		{"hostile user and host", spaced, false, decodedPoint{
			Measurement: "courier_session",
			Tags:        map[string]string{"host": "mail host, one=1", "service": "imap", "user": hostile},
			Fields: map[string]any{"rcvd": int64(7), "sent": int64(2000), "headers": int64(300), "body": int64(4000),
				"duration": int64(12), "tls": false, "ip": "::ffff:192.0.2.7", "port": "40112", "event": "LOGOUT", "daemon": "imapd"},
			Time: at.UnixNano(),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := NewEncoder("courier_session", tc.lower)
			prefix := []byte("keep me\n")
			out, err := enc.Append(prefix, &tc.ev, at)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), "keep me\n") {
				t.Fatalf("Append lost dst: %q", out)
			}
			got := decodeLP(t, out[len(prefix):])
			if diff := cmp.Diff([]decodedPoint{tc.want}, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\nline: %s", diff, out[len(prefix):])
			}
		})
	}
}

func TestEncoderRejects(t *testing.T) {
	cases := []struct {
		name string
		mut  func(e *parser.Event)
	}{
		{"invalid UTF-8 user", func(e *parser.Event) { e.User = "bad\xffuser" }},
		{"invalid UTF-8 host", func(e *parser.Event) { e.Host = "h\xc3" }},
		{"invalid UTF-8 ip field", func(e *parser.Event) { e.IP = "1.2.3.4\xff" }},
		{"invalid UTF-8 daemon field", func(e *parser.Event) { e.Daemon = "\xfe" }},
		{"control character in user", func(e *parser.Event) { e.User = "a\tb" }},
		// `\` before the separating space would read as an escaped space:
		// line protocol cannot represent a tag value ending in a backslash.
		{"user ending in backslash", func(e *parser.Event) { e.User = `a,b=c d"\` }},
		{"time out of range", func(e *parser.Event) { e.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := NewEncoder("courier_session", false)
			good := imapEvent("alice", baseTime, 1)
			bad := good
			tc.mut(&bad)
			dst, err := enc.Append(nil, &good, PointTime(&good, Identity(&good)))
			if err != nil {
				t.Fatal(err)
			}
			n := len(dst)
			dst, err = enc.Append(dst, &bad, bad.Time)
			if err == nil {
				t.Fatalf("no error; line %q", dst[n:])
			}
			if len(dst) != n {
				t.Errorf("rejected point left %q in the buffer", dst[n:])
			}
			// The encoder recovers for the next point.
			dst, err = enc.Append(dst, &good, good.Time)
			if err != nil {
				t.Fatalf("after a rejection: %v", err)
			}
			if got := len(decodeLP(t, dst)); got != 2 {
				t.Errorf("%d points decoded, want 2", got)
			}
		})
	}
}

// TestEncoderGolden pins the exact bytes of a few points
// (go test ./flush -run Golden -update rewrites testdata/encode.golden).
func TestEncoderGolden(t *testing.T) {
	events := []parser.Event{
		imapEvent("alice", baseTime, 100),
		pop3Event("bob@example.org", baseTime.Add(time.Second)),
	}
	spaced := imapEvent(`a,b=c d"\x`, baseTime, 7)
	spaced.Host = "mail host"
	events = append(events, spaced)
	enc := NewEncoder("courier_session", false)
	var body []byte
	for i := range events {
		var err error
		body, err = enc.Append(body, &events[i], PointTime(&events[i], Identity(&events[i])))
		if err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", "encode.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(body)); diff != "" {
		t.Errorf("encoded body (-want +got):\n%s", diff)
	}
}

func TestEncoderNoAllocs(t *testing.T) {
	enc := NewEncoder("courier_session", true)
	ev := imapEvent("alice@example.org", baseTime, 100)
	id := Identity(&ev)
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = enc.Append(buf[:0], &ev, PointTime(&ev, id))
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Append allocates %.1f times per point, want 0", allocs)
	}
}

func TestEncoderBadMeasurement(t *testing.T) {
	for _, m := range []string{"", `ends\`, "a\nb", "bad\xff"} {
		t.Run(m, func(t *testing.T) {
			ev := imapEvent("alice", baseTime, 1)
			out, err := NewEncoder(m, false).Append([]byte("x"), &ev, ev.Time)
			if err == nil || string(out) != "x" {
				t.Errorf("Append = %q, %v; want dst unchanged and an error", out, err)
			}
		})
	}
}
