package parser

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestParser(t testing.TB, opts Options) *Parser {
	t.Helper()
	if opts.Location == nil {
		_, opts.Location = goldenRef(t)
	}
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return p
}

// lineCase is one explicit expectation for ParseLine.
type lineCase struct {
	name    string
	line    string
	want    Result
	wantEv  Event  // compared in full when want != Skip
	wantErr string // substring of the *SyntaxError message; "" = no error
}

func runLineCases(t *testing.T, p *Parser, ref time.Time, cases []lineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			got, err := p.ParseLine(tc.line, ref, &ev)
			checkInvariants(t, tc.line, got, err, &ev)
			if got != tc.want {
				t.Errorf("result = %v, want %v (err %v)", got, tc.want, err)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "":
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error = %v, want a *SyntaxError containing %q", err, tc.wantErr)
				}
				if !strings.Contains(se.Msg, tc.wantErr) {
					t.Errorf("error = %q, want it to contain %q", se.Msg, tc.wantErr)
				}
			}
			if tc.want != Skip {
				if diff := cmp.Diff(tc.wantEv, ev); diff != "" {
					t.Errorf("event (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func berlin(t testing.TB, y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
	t.Helper()
	_, loc := goldenRef(t)
	return time.Date(y, m, d, hh, mm, ss, ns, loc)
}

func TestParseLineHeaders(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	const msg = "LOGOUT, user=alice, ip=[::ffff:203.0.113.7], port=[51234], headers=1520, body=48211, rcvd=912, sent=53877, time=37, starttls=1"
	ev := func(tm time.Time, prec time.Duration, host, daemon string) Event {
		return Event{Time: tm, Precision: prec, Host: host, Daemon: daemon, Service: IMAP, Kind: Logout,
			Keyword: "LOGOUT", User: "alice", IP: "::ffff:203.0.113.7", Port: "51234",
			Rcvd: 912, Sent: 53877, Headers: 1520, Body: 48211, Duration: 37, TLS: true,
			Has: HasPort | HasBytes | HasTime | HasContent}
	}
	plus2 := time.FixedZone("", 2*3600)
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	runLineCases(t, p, ref, []lineCase{
		{name: "classic padded", line: "Jun  3 06:36:47 mx imapd: " + msg, want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 3, 6, 36, 47, 0), time.Second, "mx", "imapd")},
		{name: "classic unpadded", line: "Jun 3 06:36:47 mx imapd: " + msg, want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 3, 6, 36, 47, 0), time.Second, "mx", "imapd")},
		{name: "classic pid", line: "Jun 10 09:20:38 mx imapd-ssl[1234]: " + msg, want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 10, 9, 20, 38, 0), time.Second, "mx", "imapd-ssl")},
		{name: "rfc3339 micro colon offset", line: "2024-06-10T09:20:38.412907+02:00 mx imapd: " + msg, want: Traffic,
			wantEv: ev(time.Date(2024, 6, 10, 9, 20, 38, 412907000, plus2), time.Microsecond, "mx", "imapd")},
		{name: "short-iso-precise +0200", line: "2024-06-10T09:20:38.412907+0200 mx imapd[1]: " + msg, want: Traffic,
			wantEv: ev(time.Date(2024, 6, 10, 9, 20, 38, 412907000, plus2), time.Microsecond, "mx", "imapd")},
		{name: "short-iso", line: "2024-06-10T09:20:38+0200 mx imapd[1]: " + msg, want: Traffic,
			wantEv: ev(time.Date(2024, 6, 10, 9, 20, 38, 0, plus2), time.Second, "mx", "imapd")},
		{name: "Z millis", line: "2024-06-10T07:20:38.412Z mx imapd: " + msg, want: Traffic,
			wantEv: ev(utc("2024-06-10T07:20:38.412Z"), time.Millisecond, "mx", "imapd")},
		{name: "nanos", line: "2024-06-10T07:20:38.000000001Z mx imapd: " + msg, want: Traffic,
			wantEv: ev(utc("2024-06-10T07:20:38.000000001Z"), time.Nanosecond, "mx", "imapd")},
		{name: "trailing LF", line: "Jun 10 09:20:38 mx imapd: " + msg + "\n", want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 10, 9, 20, 38, 0), time.Second, "mx", "imapd")},
		{name: "trailing CRLF", line: "Jun 10 09:20:38 mx imapd: " + msg + "\r\n", want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 10, 9, 20, 38, 0), time.Second, "mx", "imapd")},
		{name: "no host", line: "Jun 10 09:20:38 imapd: " + msg, want: Traffic,
			wantEv: ev(berlin(t, 2024, 6, 10, 9, 20, 38, 0), time.Second, "", "imapd")},
		{name: "unknown identifier", line: "Jun 10 09:20:38 mx postfix/smtpd[1]: " + msg, want: Skip},
		{name: "identifier is exact", line: "Jun 10 09:20:38 mx Imapd: " + msg, want: Skip},
		{name: "UW-IMAP", line: "Jun 10 09:20:38 mx imapd[4321]: Login failed user=alice auth=alice host=[192.0.2.1]", want: Skip},
		{name: "no such day", line: "Feb 30 09:20:38 mx imapd: " + msg, want: Skip, wantErr: "no such date"},
		{name: "garbage", line: "not a syslog line", want: Skip, wantErr: "no syslog timestamp"},
		{name: "blank", line: "  \t ", want: Skip},
		{name: "empty", line: "", want: Skip},
	})
}

func TestParseLineIMAP(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	tm := berlin(t, 2024, 6, 10, 9, 20, 38, 0)
	runLineCases(t, p, ref, []lineCase{
		{name: "1.3.5 headers/body only",
			line: "Jun 10 09:20:38 new imaplogin: DISCONNECTED, user=u@h, ip=[::ffff:1.2.3.4], headers=1590, body=778",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "new", Daemon: "imaplogin",
				Service: IMAP, Kind: Disconnected, Keyword: "DISCONNECTED", User: "u@h", IP: "::ffff:1.2.3.4",
				Headers: 1590, Body: 778, Has: HasContent}},
		{name: "4.1 no port, starttls",
			line: "Jun 10 09:20:38 mx imapd-ssl: TIMEOUT, user=t, ip=[::ffff:71.163.32.200], headers=0, body=0, rcvd=108, sent=525, time=2029, starttls=1",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd-ssl",
				Service: IMAP, Kind: Timeout, Keyword: "TIMEOUT", User: "t", IP: "::ffff:71.163.32.200",
				Rcvd: 108, Sent: 525, Duration: 2029, TLS: true, Has: HasBytes | HasTime | HasContent}},
		{name: "shutdown notice",
			line: "Jun 10 09:20:38 mx imapd: NOTICE: Disconnected during shutdown by signal, user=dave, ip=[::1], port=[60100], headers=0, body=0, rcvd=20, sent=340, time=12",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd",
				Service: IMAP, Kind: Shutdown, Keyword: "NOTICE: Disconnected during shutdown by signal", User: "dave",
				IP: "::1", Port: "60100", Rcvd: 20, Sent: 340, Duration: 12, Has: HasPort | HasBytes | HasTime | HasContent}},
		{name: "pre-login with counters",
			line: "Jun 10 09:20:38 mx imapd: LOGOUT, ip=[::ffff:192.0.2.12], port=[60300], rcvd=56, sent=412",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd",
				Service: IMAP, Kind: Logout, Keyword: "LOGOUT", IP: "::ffff:192.0.2.12", Port: "60300",
				Rcvd: 56, Sent: 412, Has: HasPort | HasBytes}},
		{name: "INFO prefix kept by journald",
			line: "Jun 10 09:20:38 mx couriertcpd: INFO: LOGOUT, user=a, ip=[::1], port=[1], headers=1, body=2, rcvd=3, sent=4, time=5",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "couriertcpd",
				Service: IMAP, Kind: Logout, Keyword: "LOGOUT", User: "a", IP: "::1", Port: "1",
				Headers: 1, Body: 2, Rcvd: 3, Sent: 4, Duration: 5, Has: HasPort | HasBytes | HasTime | HasContent}},
		{name: "unknown keyword",
			line: "Jun 10 09:20:38 mx imapd: IDLE TIMEOUT, user=a, ip=[::1], headers=1, body=2",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd",
				Service: IMAP, Kind: Other, Keyword: "IDLE TIMEOUT", User: "a", IP: "::1",
				Headers: 1, Body: 2, Has: HasContent}},
		{name: "unknown keyword without suffix", line: "Jun 10 09:20:38 mx imapd: Something odd, happened", want: Skip},
		{name: "pre-auth Disconnected", line: "Jun 10 09:20:38 mx imapd: Disconnected, ip=[::1], port=[1], time=3", want: Skip},
		{name: "LOGIN", line: "Jun 10 09:20:38 mx imapd: LOGIN, user=a, ip=[::1], port=[1], protocol=IMAP, starttls=1", want: Skip},
		{name: "Connection", line: "Jun 10 09:20:38 mx imapd: Connection, ip=[::1], port=[1]", want: Skip},
		{name: "overflow", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=1, body=9223372036854775808", want: Skip, wantErr: "body: value overflows int64"},
		{name: "negative", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=-1, body=0", want: Skip, wantErr: "headers: negative"},
		{name: "non-numeric", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=1, body=0, time=12a", want: Skip, wantErr: "time: not a decimal"},
		{name: "empty counter", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=, body=0", want: Skip, wantErr: "headers: empty"},
		{name: "duplicate", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=1, body=0, body=0", want: Skip, wantErr: "duplicate field body"},
		{name: "rcvd without sent", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=1, body=0, rcvd=5", want: Skip, wantErr: "rcvd and sent"},
		{name: "cut in a name", line: "Jun 10 09:20:38 mx imapd: LOGOUT, user=a, ip=[::1], headers=1, bo", want: Skip, wantErr: "line cut short"},
	})
}

func TestParseLinePOP3(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	tm := berlin(t, 2024, 6, 21, 10, 0, 4, 0)
	full := HasPort | HasBytes | HasTime | HasContent
	runLineCases(t, p, ref, []lineCase{
		{name: "6.0 disc",
			line: "Jun 21 10:00:04 mx pop3d: disc, user=alice, ip=[::ffff:198.51.100.7], port=[50412], top=0, retr=48211, rcvd=61, sent=49213, time=3, stls=1",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d",
				Service: POP3, Kind: End, Keyword: "disc", User: "alice", IP: "::ffff:198.51.100.7", Port: "50412",
				Retr: 48211, Rcvd: 61, Sent: 49213, Duration: 3, TLS: true, Has: full}},
		{name: "I/O error",
			line: "Jun 21 10:00:04 mx pop3d: I/O error disconnect, user=carol, ip=[::1], port=[50600], top=7, retr=1024, rcvd=18, sent=1300, time=1",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d",
				Service: POP3, Kind: IOError, Keyword: "I/O error disconnect", User: "carol", IP: "::1", Port: "50600",
				Top: 7, Retr: 1024, Rcvd: 18, Sent: 1300, Duration: 1, Has: full}},
		{name: "courierpop3login 4.1",
			line: "Jun 21 10:00:04 u courierpop3login: LOGOUT, user=bspratt, ip=[::ffff:192.168.10.2], top=0, retr=0, rcvd=12, sent=39, time=0",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "u", Daemon: "courierpop3login",
				Service: POP3, Kind: Logout, Keyword: "LOGOUT", User: "bspratt", IP: "::ffff:192.168.10.2",
				Rcvd: 12, Sent: 39, Has: HasBytes | HasTime | HasContent}},
		{name: "pre-login with counters takes the service from the identifier",
			line: "Jun 21 10:00:04 mx pop3d-ssl: LOGOUT, ip=[::1], port=[5], rcvd=10, sent=20",
			want: Traffic, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d-ssl",
				Service: POP3, Kind: Logout, Keyword: "LOGOUT", IP: "::1", Port: "5",
				Rcvd: 10, Sent: 20, Has: HasPort | HasBytes}},
		{name: "pre-login QUIT without counters", line: "Jun 21 10:00:04 mx pop3d: LOGOUT, ip=[::ffff:198.51.100.10], port=[50700]", want: Skip},
		{name: "top without retr", line: "Jun 21 10:00:04 mx pop3d: LOGOUT, user=a, ip=[::1], top=1", want: Skip, wantErr: "top and retr"},
		{name: "IMAP and POP3 fields", line: "Jun 21 10:00:04 mx pop3d: LOGOUT, user=a, ip=[::1], top=1, retr=1, headers=1, body=1", want: Skip, wantErr: "both"},
	})
}

func TestParseLineVendor(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	runLineCases(t, p, ref, []lineCase{
		{name: "plesk",
			line: "Nov 10 16:46:59 sv1 pop3d: 1257871619.663804 DISCONNECTED, user=meg@my-domain.co.uk, ip=[43.123.84.246], top=0, retr=263787, time=485, rcvd=258, sent=269885, maildir=/var/qmail/mailnames/x/meg/Maildir",
			want: Traffic, wantEv: Event{Time: berlin(t, 2024, 11, 10, 16, 46, 59, 0), Precision: time.Second, Host: "sv1", Daemon: "pop3d",
				Service: POP3, Kind: Disconnected, Keyword: "DISCONNECTED", User: "meg@my-domain.co.uk", IP: "43.123.84.246",
				Retr: 263787, Duration: 485, Rcvd: 258, Sent: 269885, Has: HasBytes | HasTime | HasContent}},
		{name: "epoch then LOGIN", line: "Nov 10 16:46:59 sv1 pop3d: 1257871619.663804 LOGIN, user=meg, ip=[43.123.84.246]", want: Skip},
	})
}

func TestParseLineUsers(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	for _, user := range []string{
		"john doe, x", "a, ip=[1.2.3.4], b", "USER@EXAMPLE.org", "first.last+tag@sub.example.co.uk",
		" john ", "  ", "", "we[i]rd]user", "jörg", "a=b, headers=9", "\x00\xff", "ip=[", ", ip=[",
	} {
		t.Run(user, func(t *testing.T) {
			line := "Jun 10 09:20:38 mx imapd: LOGOUT, user=" + user + ", ip=[::ffff:192.0.2.11], port=[60200], headers=1, body=2, rcvd=3, sent=4, time=5"
			var ev Event
			res, err := p.ParseLine(line, ref, &ev)
			if res != Traffic || err != nil {
				t.Fatalf("ParseLine = %v, %v; want traffic", res, err)
			}
			if ev.User != user || ev.IP != "::ffff:192.0.2.11" || ev.Port != "60200" || ev.Sent != 4 {
				t.Errorf("user %q ip %q port %q sent %d; want %q ::ffff:192.0.2.11 60200 4", ev.User, ev.IP, ev.Port, ev.Sent, user)
			}
		})
	}
}

func TestParseLineRepeats(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	tm := berlin(t, 2024, 6, 10, 9, 24, 12, 0)
	runLineCases(t, p, ref, []lineCase{
		{name: "message repeated traffic",
			line: "Jun 10 09:24:12 mx imapd: message repeated 3 times: [ LOGOUT, user=alice, ip=[::1], headers=0, body=0, rcvd=46, sent=336, time=0]",
			want: Repeat, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd",
				Service: IMAP, Kind: Logout, Keyword: "LOGOUT", User: "alice", IP: "::1",
				Rcvd: 46, Sent: 336, Has: HasBytes | HasTime | HasContent, Repeats: 3}},
		{name: "message repeated not traffic",
			line: "Jun 10 09:24:12 mx imapd: message repeated 3 times: [ LOGIN FAILED, user=admin, ip=[::ffff:192.0.2.50], port=[41234]]",
			want: Skip},
		{name: "last message repeated",
			line: "Jun 10 09:24:12 mx pop3d: last message repeated 6 times",
			want: Repeat, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d", Repeats: 6}},
		{name: "tag-less sysklogd",
			line: "Jun 10 09:24:12 dynamicweb last message repeated 6 times",
			want: Repeat, wantEv: Event{Time: tm, Precision: time.Second, Host: "dynamicweb", Repeats: 6}},
		{name: "unclosed", line: "Jun 10 09:24:12 mx imapd: message repeated 3 times: [ LOGOUT, user=alice, ip=[::1], headers=0, body=0",
			want: Skip, wantErr: "possibly truncated"},
	})
}

func TestParseLineTruncation(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	// msgOfLen pads the user so that the message is exactly n bytes.
	msgOfLen := func(n int, kw, suffix string) string {
		pad := n - len(kw) - len(", user=") - len(suffix)
		return kw + ", user=" + strings.Repeat("u", pad) + suffix
	}
	const imapSuffix = ", ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=34"
	for _, tc := range []struct {
		name   string
		n      int
		kw     string
		suffix string
		want   Result
	}{
		{"505 INFO stripped", 505, "LOGOUT", imapSuffix, Skip},
		{"511 NOTICE", 511, shutdownKw, imapSuffix, Skip},
		{"511 disc", 511, "disc", ", ip=[::1], port=[1], top=0, retr=0, rcvd=1, sent=2, time=34", Skip},
		{"800", 800, "LOGOUT", imapSuffix, Skip},
		{"1023", 1023, "LOGOUT", imapSuffix, Skip},
		{"504 is fine", 504, "LOGOUT", imapSuffix, Traffic},
		{"510 is fine", 510, "LOGOUT", imapSuffix, Traffic},
		{"511 with TLS last", 511, "LOGOUT", imapSuffix + ", starttls=1", Traffic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := msgOfLen(tc.n, tc.kw, tc.suffix)
			if len(msg) != tc.n {
				t.Fatalf("test bug: message is %d bytes, want %d", len(msg), tc.n)
			}
			var ev Event
			res, err := p.ParseLine("Jun 10 09:24:12 mx imapd: "+msg, ref, &ev)
			if res != tc.want {
				t.Errorf("result %v (err %v), want %v", res, err, tc.want)
			}
			if tc.want == Skip && (err == nil || !strings.Contains(err.Error(), "possibly truncated")) {
				t.Errorf("error %v, want possibly truncated", err)
			}
			// The same through a repeat marker, where rsyslog's own cut is 800
			// bytes including the leading space.
			rline := "Jun 10 09:24:12 mx imapd: message repeated 2 times: [ " + msg + "]"
			res, err = p.ParseLine(rline, ref, &ev)
			wantR := Repeat
			if tc.want == Skip {
				wantR = Skip
			}
			if res != wantR {
				t.Errorf("in repeat marker: result %v (err %v), want %v", res, err, wantR)
			}
		})
	}
	t.Run("799 inside a repeat marker", func(t *testing.T) {
		msg := msgOfLen(799, "LOGOUT", imapSuffix)
		var ev Event
		res, err := p.ParseLine("Jun 10 09:24:12 mx imapd: message repeated 2 times: [ "+msg+"]", ref, &ev)
		if res != Skip || err == nil {
			t.Errorf("got %v, %v; want skip with possibly truncated", res, err)
		}
		if res, err := p.ParseLine("Jun 10 09:24:12 mx imapd: "+msg, ref, &ev); res != Traffic {
			t.Errorf("799 outside a marker: %v, %v; want traffic", res, err)
		}
	})
}

func TestParseLineHostile(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	big := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name string
		line string
	}{
		{"1MB user", "Jun 10 09:24:12 mx imapd: LOGOUT, user=" + big + ", ip=[::1], headers=1, body=2"},
		{"1MB no comma", "Jun 10 09:24:12 mx imapd: LOGOUT" + big},
		{"1MB commas", "Jun 10 09:24:12 mx imapd: " + strings.Repeat(", ", 1<<19)},
		{"1MB ip brackets", "Jun 10 09:24:12 mx imapd: LOGOUT, user=a" + strings.Repeat(", ip=[", 1<<17)},
		{"1MB fields", "Jun 10 09:24:12 mx imapd: LOGOUT, user=a, ip=[::1]" + strings.Repeat(", x=1", 1<<18)},
		{"1MB digits", "Jun 10 09:24:12 mx imapd: LOGOUT, user=a, ip=[::1], headers=" + strings.Repeat("9", 1<<20)},
		{"1MB garbage", big},
		{"1MB NUL", strings.Repeat("\x00", 1<<20)},
		{"1MB host", "Jun 10 09:24:12 " + big},
		{"1MB tag", "Jun 10 09:24:12 mx " + big + ": x"},
		{"1MB pid", "Jun 10 09:24:12 mx imapd[" + strings.Repeat("1", 1<<20) + "]: x"},
		{"1MB repeat count", "Jun 10 09:24:12 mx imapd: message repeated " + strings.Repeat("1", 1<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			res, err := p.ParseLine(tc.line, ref, &ev)
			checkInvariants(t, tc.line, res, err, &ev)
		})
	}
	t.Run("1MB user is kept exactly", func(t *testing.T) {
		var ev Event
		res, err := p.ParseLine("Jun 10 09:24:12 mx imapd: LOGOUT, user="+big+", ip=[::1], headers=1, body=2", ref, &ev)
		if res != Traffic || err != nil || ev.User != big || ev.Body != 2 {
			t.Errorf("got %v, %v, user of %d bytes, body %d", res, err, len(ev.User), ev.Body)
		}
	})
}

func TestParseMessage(t *testing.T) {
	p := newTestParser(t, Options{})
	tm := time.Date(2024, 6, 10, 7, 20, 38, 412907000, time.UTC)
	const msg = "LOGOUT, user=alice, ip=[::1], port=[5], headers=1, body=2, rcvd=3, sent=4, time=5, starttls=1"
	full := HasPort | HasBytes | HasTime | HasContent
	for _, tc := range []struct {
		name        string
		ident, host string
		prec        time.Duration
		msg         string
		want        Result
		wantEv      Event
		wantErr     bool
	}{
		{name: "systemd", ident: "imapd", host: "mx", prec: time.Microsecond, msg: msg, want: Traffic,
			wantEv: Event{Time: tm, Precision: time.Microsecond, Host: "mx", Daemon: "imapd", Service: IMAP, Kind: Logout,
				Keyword: "LOGOUT", User: "alice", IP: "::1", Port: "5", Headers: 1, Body: 2, Rcvd: 3, Sent: 4, Duration: 5, TLS: true, Has: full}},
		{name: "pid stripped, precision defaults to second", ident: "imapd[1234]", host: "", msg: msg, want: Traffic,
			wantEv: Event{Time: tm, Precision: time.Second, Daemon: "imapd", Service: IMAP, Kind: Logout,
				Keyword: "LOGOUT", User: "alice", IP: "::1", Port: "5", Headers: 1, Body: 2, Rcvd: 3, Sent: 4, Duration: 5, TLS: true, Has: full}},
		{name: "trailing newline", ident: "imapd", host: "mx", prec: time.Second, msg: msg + "\n", want: Traffic,
			wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "imapd", Service: IMAP, Kind: Logout,
				Keyword: "LOGOUT", User: "alice", IP: "::1", Port: "5", Headers: 1, Body: 2, Rcvd: 3, Sent: 4, Duration: 5, TLS: true, Has: full}},
		{name: "unknown identifier", ident: "dovecot", host: "mx", msg: msg, want: Skip},
		{name: "repeat", ident: "pop3d", host: "mx", msg: "message repeated 2 times: [ disc, user=a, ip=[::1], port=[1], top=0, retr=5, rcvd=1, sent=9, time=0, stls=1]",
			want: Repeat, wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d", Service: POP3, Kind: End,
				Keyword: "disc", User: "a", IP: "::1", Port: "1", Retr: 5, Rcvd: 1, Sent: 9, TLS: true, Has: full, Repeats: 2}},
		{name: "last message repeated", ident: "pop3d", host: "mx", msg: "last message repeated 4 times", want: Repeat,
			wantEv: Event{Time: tm, Precision: time.Second, Host: "mx", Daemon: "pop3d", Repeats: 4}},
		{name: "LOGIN", ident: "imapd", host: "mx", msg: "LOGIN, user=a, ip=[::1], port=[1], protocol=IMAP", want: Skip},
		{name: "broken", ident: "imapd", host: "mx", msg: "LOGOUT, user=a, ip=[::1], headers=1, body=x", want: Skip, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			got, err := p.ParseMessage(tc.ident, tc.host, tm, tc.prec, tc.msg, &ev)
			checkInvariants(t, tc.msg, got, err, &ev)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("ParseMessage = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
			if got != Skip {
				if diff := cmp.Diff(tc.wantEv, ev); diff != "" {
					t.Errorf("event (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "zero value", opts: Options{}},
		{name: "custom", opts: Options{Identifiers: []string{"imap4", "pop3"}, Year: 2020}},
		{name: "empty identifier", opts: Options{Identifiers: []string{"imapd", ""}}, wantErr: "identifiers"},
		{name: "space", opts: Options{Identifiers: []string{"imap d"}}, wantErr: "identifiers"},
		{name: "colon", opts: Options{Identifiers: []string{"imapd:"}}, wantErr: "identifiers"},
		{name: "bracket", opts: Options{Identifiers: []string{"imapd[1]"}}, wantErr: "identifiers"},
		{name: "negative year", opts: Options{Year: -1}, wantErr: "year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.opts)
			if tc.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		p, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.loc != time.Local {
			t.Errorf("Location = %v, want time.Local", p.loc)
		}
		if diff := cmp.Diff(DefaultIdentifiers, p.idents); diff != "" {
			t.Errorf("identifiers (-want +got):\n%s", diff)
		}
	})
	t.Run("identifiers are copied", func(t *testing.T) {
		ids := []string{"imapd"}
		p, err := New(Options{Identifiers: ids})
		if err != nil {
			t.Fatal(err)
		}
		ids[0] = "pop3d"
		var ev Event
		if res, _ := p.ParseMessage("imapd", "", time.Unix(0, 0), 0, "LOGOUT, ip=[::1], rcvd=1, sent=2", &ev); res != Traffic {
			t.Errorf("identifier lost after the caller changed its slice: %v", res)
		}
	})
	t.Run("custom identifiers only", func(t *testing.T) {
		p, err := New(Options{Identifiers: []string{"imap4"}})
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		for ident, want := range map[string]Result{"imap4": Traffic, "imapd": Skip} {
			if res, _ := p.ParseMessage(ident, "", time.Unix(0, 0), 0, "LOGOUT, ip=[::1], rcvd=1, sent=2", &ev); res != want {
				t.Errorf("%s: %v, want %v", ident, res, want)
			}
		}
	})
}

func TestOptionsYear(t *testing.T) {
	_, loc := goldenRef(t)
	p := newTestParser(t, Options{Year: 2019})
	ref := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // ignored when Year is set
	var ev Event
	res, err := p.ParseLine("Dec 31 23:59:59 mx imapd: LOGOUT, ip=[::1], rcvd=1, sent=2", ref, &ev)
	if res != Traffic || err != nil {
		t.Fatalf("ParseLine = %v, %v", res, err)
	}
	if want := time.Date(2019, 12, 31, 23, 59, 59, 0, loc); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
	if res, err := p.ParseLine("Feb 29 00:00:00 mx imapd: LOGOUT, ip=[::1], rcvd=1, sent=2", ref, &ev); res != Skip || err == nil {
		t.Errorf("Feb 29 in 2019: %v, %v; want a syntax error", res, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	lines := benchLines(300)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			var ev Event
			for _, l := range lines {
				res, err := p.ParseLine(l, ref, &ev)
				if err != nil || (res == Traffic && ev.Service == ServiceUnknown) {
					t.Errorf("%q: %v %v", l, res, err)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
