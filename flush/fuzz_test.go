package flush

import (
	"strings"
	"testing"
	"time"
)

// FuzzEncoderRoundTrip: whatever strings a log carries, Append either
// rejects the point (dst unchanged) or writes exactly one line that decodes
// back to the same tags and string fields. Corpus: testdata/fuzz/.
func FuzzEncoderRoundTrip(f *testing.F) {
	f.Add("alice", "mx1", "::ffff:192.0.2.7", "40112", "imapd", false)
	f.Add(`a,b=c d"\x`, "mail host, one=1", `ip "quoted" \`, "N/A", "pop3d-ssl", true)
	f.Add(`trailing\`, "h", "1.2.3.4", "", "imapd", false)
	f.Add("new\nline", "tab\there", "", "1", "x", true)
	f.Add("bad\xffutf8", "ok", "ok", "ok", "ok", false)
	f.Add("Ünïcödé user", "høst", "fe80::1%eth0", "0", "courierpop3login", true)
	f.Fuzz(func(t *testing.T, user, host, ip, port, daemon string, lower bool) {
		ev := imapEvent(user, baseTime, 42)
		ev.Host, ev.IP, ev.Port, ev.Daemon = host, ip, port, daemon
		enc := NewEncoder("courier_session", lower)
		prefix := []byte("p\n")
		out, err := enc.Append(prefix, &ev, PointTime(&ev, Identity(&ev)))
		if err != nil {
			if string(out) != "p\n" {
				t.Fatalf("rejected point changed dst: %q", out)
			}
			return
		}
		pts := decodeLP(t, out[len(prefix):])
		if len(pts) != 1 {
			t.Fatalf("%d points decoded from %q", len(pts), out[len(prefix):])
		}
		p := pts[0]
		wantUser := user
		if user == "" {
			wantUser = unauthenticatedUserValue
		} else if lower {
			wantUser = strings.ToLower(user)
		}
		if p.Tags["user"] != wantUser {
			t.Errorf("user %q -> %q", wantUser, p.Tags["user"])
		}
		if host != "" && p.Tags["host"] != host {
			t.Errorf("host %q -> %q", host, p.Tags["host"])
		}
		for k, want := range map[string]string{"ip": ip, "port": port, "daemon": daemon} {
			got, ok := p.Fields[k]
			if want == "" {
				if ok {
					t.Errorf("empty %s written as %q", k, got)
				}
				continue
			}
			if got != want {
				t.Errorf("%s %q -> %q", k, want, got)
			}
		}
	})
}

// FuzzBatchPath: any line through AddLine and AppendBody never panics and
// gives a body that decodes, one point per traffic event at most.
func FuzzBatchPath(f *testing.F) {
	f.Add("Jul  3 06:36:47 mx1 imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.7], port=[40112], headers=10, body=20, rcvd=30, sent=40, time=5, starttls=1")
	f.Add("2026-07-03T06:36:47.123456+02:00 mx 1 pop3d-ssl: disc, user=a,b=c d\"\\, ip=[1.2.3.4], port=[1], top=0, retr=5, rcvd=1, sent=2, time=3, stls=1")
	f.Add("Jul  3 06:36:47 mx1 imapd: message repeated 3 times: [ LOGOUT, user=alice, ip=[::ffff:127.0.0.1], headers=0, body=0, rcvd=46, sent=336, time=0]")
	f.Add("Jul  3 06:36:47 mx1 imapd: last message repeated 2 times")
	f.Add("Jul  3 06:36:47 mx1 imapd: LOGOUT, user=\xff\xfe, ip=[x], headers=1, body=2")
	cfg, err := LoadConfig(MapGetter{KeyStatsInterval: "0", KeyTimeZone: "UTC", KeyDedup: "off", KeyCountUnauthenticated: "on"})
	if err != nil {
		f.Fatal(err)
	}
	fl, err := New(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(fl.Close)
	ref := time.Date(2026, 7, 4, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		b := fl.NewBatch()
		b.AddLine(line, ref)
		b.AddLine(line, ref)
		body := fl.AppendBody(nil, b)
		pts := decodeLP(t, body)
		max := 0
		for _, it := range b.items {
			max += it.n
		}
		if len(pts) > max {
			t.Errorf("%d points from %d events", len(pts), max)
		}
		fl.release(b)
	})
}
