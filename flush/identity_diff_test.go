package flush

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// The tests below hold Identity to identityRef, the original
// implementation, bit for bit: stored point times derive from it.

func checkIdentity(t *testing.T, ev *parser.Event) {
	t.Helper()
	if got, want := Identity(ev), identityRef(ev); got != want {
		t.Fatalf("Identity = %016x%016x, reference %016x%016x for %+v", got.Hi, got.Lo, want.Hi, want.Lo, *ev)
	}
	if got, want := Key(ev), keyRef(ev); got != want {
		t.Fatalf("Key = %016x%016x, reference %016x%016x for %+v", got.Hi, got.Lo, want.Hi, want.Lo, *ev)
	}
}

// stringFields set each string field of an event, in hash order.
var stringFields = []func(e *parser.Event, s string){
	func(e *parser.Event, s string) { e.Host = s },
	func(e *parser.Event, s string) { e.Daemon = s },
	func(e *parser.Event, s string) { e.Keyword = s },
	func(e *parser.Event, s string) { e.User = s },
	func(e *parser.Event, s string) { e.IP = s },
	func(e *parser.Event, s string) { e.Port = s },
}

// Every length 0..300 of every string field, alone and with the other
// fields at other lengths: the input crosses every 16-byte block offset
// and the end of the no-allocation buffer.
func TestIdentityMatchesReferenceLengths(t *testing.T) {
	long := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789\xff\x00", 10)
	base := imapEvent("alice", baseTime, 100)
	for _, set := range stringFields {
		for n := 0; n <= 300; n++ {
			ev := base
			set(&ev, long[:n])
			checkIdentity(t, &ev)
			for j, set2 := range stringFields {
				set2(&ev, long[len(long)-(n+j)%50:])
			}
			set(&ev, long[n%7:n])
			checkIdentity(t, &ev)
		}
	}
}

func TestIdentityMatchesReferenceRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		ev := randomEvent(r)
		checkIdentity(t, &ev)
	}
}

// Times around 1970 and every kind of precision, including none and
// multi-second ones, with sub-second parts.
func TestIdentityMatchesReferenceTimes(t *testing.T) {
	precs := []time.Duration{-time.Second, 0, time.Nanosecond, 7 * time.Nanosecond, time.Microsecond,
		time.Millisecond, time.Second, 2 * time.Second, time.Minute, 24 * time.Hour}
	times := []time.Time{
		time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 999999999), time.Unix(-86401, 123456789),
		time.Unix(1<<40, 5), time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), baseTime.Add(123456789),
		time.Date(2026, 7, 3, 6, 36, 47, 999999999, time.FixedZone("x", -3600)),
	}
	for _, p := range precs {
		for _, at := range times {
			ev := imapEvent("alice", at, 100)
			ev.Precision = p
			checkIdentity(t, &ev)
		}
	}
}

func TestMurmur3MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for n := 0; n <= len(data); n++ {
		h1, h2 := murmur3x64(data[:n])
		w1, w2 := murmur3x64Ref(data[:n])
		if h1 != w1 || h2 != w2 {
			t.Fatalf("murmur3x64 of %d bytes = %016x%016x, reference %016x%016x", n, h1, h2, w1, w2)
		}
	}
}

func TestIdentityAllocs(t *testing.T) {
	ev := imapEvent(strings.Repeat("u", 100), baseTime, 1)
	if n := testing.AllocsPerRun(100, func() { Identity(&ev) }); n != 0 {
		t.Errorf("Identity allocates %v times for an ordinary event", n)
	}
}

// FuzzIdentity: Identity equals the reference for any strings, counters,
// flags, time and precision.
func FuzzIdentity(f *testing.F) {
	f.Add("mx1", "imapd", "LOGOUT", "alice", "::ffff:192.0.2.7", "40112",
		int64(100), int64(-1), int64(1)<<62, uint8(3), uint8(7), uint8(15), true, int64(1783060607), int64(5), int64(time.Second))
	f.Add("", "", "", "", "", "", int64(0), int64(0), int64(0), uint8(0), uint8(0), uint8(0), false, int64(-1), int64(999999999), int64(0))
	f.Add(strings.Repeat("h", 17), strings.Repeat("d", 31), "k", strings.Repeat("\xff", 200), "1.2.3.4", "N/A",
		int64(-5), int64(7), int64(-1)<<63, uint8(255), uint8(255), uint8(255), true, int64(-86400), int64(1), int64(time.Microsecond))
	f.Fuzz(func(t *testing.T, host, daemon, keyword, user, ip, port string,
		a, b, c int64, svc, kind, has uint8, tls bool, sec, nsec, prec int64) {
		ev := parser.Event{
			Time: time.Unix(sec, nsec), Precision: time.Duration(prec),
			Host: host, Daemon: daemon, Keyword: keyword, User: user, IP: ip, Port: port,
			Service: parser.Service(svc), Kind: parser.Kind(kind), Has: has, TLS: tls,
			Rcvd: a, Sent: b, Headers: c, Body: a ^ b, Top: b - c, Retr: c * 3, Duration: -a,
		}
		checkIdentity(t, &ev)
	})
}

func randomEvent(r *rand.Rand) parser.Event {
	str := func() string {
		var n int
		switch r.IntN(4) {
		case 0:
			n = r.IntN(8)
		case 1:
			n = r.IntN(40)
		default:
			n = r.IntN(130)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	counter := func() int64 {
		switch r.IntN(4) {
		case 0:
			return -r.Int64()
		case 1:
			return r.Int64N(10000)
		}
		return int64(r.Uint64())
	}
	precs := []time.Duration{0, -1, time.Nanosecond, 10 * time.Nanosecond, time.Microsecond,
		time.Millisecond, 999 * time.Millisecond, time.Second, 3 * time.Second, time.Hour}
	return parser.Event{
		Time:      time.Unix(r.Int64N(8e9)-4e9, r.Int64N(1e9)),
		Precision: precs[r.IntN(len(precs))],
		Host:      str(), Daemon: str(), Keyword: str(), User: str(), IP: str(), Port: str(),
		Service: parser.Service(r.Uint32()), Kind: parser.Kind(r.Uint32()),
		Rcvd: counter(), Sent: counter(), Headers: counter(), Body: counter(),
		Top: counter(), Retr: counter(), Duration: counter(),
		TLS: r.IntN(2) == 0, Has: uint8(r.Uint32()),
	}
}
