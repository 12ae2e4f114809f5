package main

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tinylib/msgp/msgp"

	"github.com/courier-traffic/courier-traffic/flush"
)

// Pure-Go tests of the chunk walk (no host, no server): which records become
// AddLine, AddMessage or AddInvalid, with which time, as seen in the body
// flush would send.

func newTestFlusher(t testing.TB, kv ...string) (*flush.Flusher, keyTable) {
	t.Helper()
	m := flush.MapGetter{"influx_url": "http://127.0.0.1:9", "stats_interval": "0", "time_zone": "UTC"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	cfg, err := flush.LoadConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flush.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, newKeyTable(cfg)
}

// appendEvent appends [[EventTime, {}], {kv...}]; values: string -> str,
// []byte -> bin, int64 -> int.
func appendEvent(b []byte, ts time.Time, kv ...any) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendArrayHeader(b, 2)
	b = append(b, 0xd7, 0)
	sec, nsec := uint32(ts.Unix()), uint32(ts.Nanosecond())
	b = append(b, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec), byte(nsec>>24), byte(nsec>>16), byte(nsec>>8), byte(nsec))
	b = msgp.AppendMapHeader(b, 0)
	b = msgp.AppendMapHeader(b, uint32(len(kv)/2))
	for i, x := range kv {
		switch v := x.(type) {
		case string:
			b = msgp.AppendString(b, v)
		case []byte:
			b = msgp.AppendBytes(b, v)
		case int64:
			b = msgp.AppendInt64(b, v)
		default:
			panic(i)
		}
	}
	return b
}

func TestAddChunk(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 10, 0, 7, 0, time.UTC)
	msg := "LOGOUT, user=alice, ip=[::ffff:192.0.2.9], port=[4711], headers=0, body=0, rcvd=10, sent=20, time=5"
	line := t0.Format(time.Stamp) + " mx imapd: " + msg
	us := t0.Add(123456 * time.Microsecond).UnixMicro()
	cases := []struct {
		name     string
		data     []byte
		records  int
		traffic  int
		wantTime []int64 // point times (ns) must lie in want's second (points are anchored per second)
		prec     time.Duration
		errAt    int // -1: no error; else the event index of the error
	}{
		{name: "tail line", data: appendEvent(nil, t0.Add(time.Second), "log", line),
			records: 1, traffic: 1, wantTime: []int64{t0.UnixNano()}, prec: time.Second, errAt: -1},
		{name: "syslog message, second precision", data: appendEvent(nil, t0, "ident", "imapd", "host", "mx", "message", msg),
			records: 1, traffic: 1, wantTime: []int64{t0.UnixNano()}, prec: time.Second, errAt: -1},
		{name: "systemd with source time as string", data: appendEvent(nil, t0.Add(time.Second),
			"SYSLOG_IDENTIFIER", []byte("imapd"), "_HOSTNAME", "mx", "MESSAGE", []byte(msg), "_SOURCE_REALTIME_TIMESTAMP", strconv.FormatInt(us, 10)),
			records: 1, traffic: 1, wantTime: []int64{us * 1000}, prec: time.Microsecond, errAt: -1},
		{name: "systemd with source time as int", data: appendEvent(nil, t0.Add(time.Second),
			"SYSLOG_IDENTIFIER", "imapd", "_HOSTNAME", "mx", "MESSAGE", msg, "_SOURCE_REALTIME_TIMESTAMP", us),
			records: 1, traffic: 1, wantTime: []int64{us * 1000}, prec: time.Microsecond, errAt: -1},
		{name: "record time with milliseconds", data: appendEvent(nil, t0.Add(2250*time.Millisecond), "ident", "imapd", "message", msg),
			records: 1, traffic: 1, wantTime: []int64{t0.Add(2250 * time.Millisecond).UnixNano()}, prec: time.Millisecond, errAt: -1},
		{name: "no usable key", data: appendEvent(appendEvent(nil, t0, "other", "x"), t0, "log", int64(5)),
			records: 2, errAt: -1},
		{name: "corrupt after one good record", data: append(appendEvent(nil, t0.Add(time.Second), "log", line), 0x92, 0xc1),
			records: 1, traffic: 1, wantTime: []int64{t0.UnixNano()}, prec: time.Second, errAt: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, keys := newTestFlusher(t)
			b := f.NewBatch()
			res := addChunk(b, &keys, c.data)
			if res.records != c.records || b.Len() != c.traffic {
				t.Errorf("records %d, traffic %d; want %d, %d", res.records, b.Len(), c.records, c.traffic)
			}
			if (res.err != nil) != (c.errAt >= 0) {
				t.Fatalf("err = %v, want error at event %d", res.err, c.errAt)
			}
			body := f.AppendBody(nil, b)
			var got []int64
			for _, l := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
				if len(l) == 0 {
					continue
				}
				ns, err := strconv.ParseInt(string(l[bytes.LastIndexByte(l, ' ')+1:]), 10, 64)
				if err != nil {
					t.Fatalf("point %q: %v", l, err)
				}
				got = append(got, ns)
			}
			if len(got) != len(c.wantTime) {
				t.Fatalf("points %d, want %d:\n%s", len(got), len(c.wantTime), body)
			}
			for i, w := range c.wantTime {
				lo := w - w%int64(time.Second)
				if got[i] < lo || got[i] >= lo+int64(time.Second) {
					t.Errorf("point %d at %d, want in [%d, %d): the second of %d (logged with precision %v)",
						i, got[i], lo, lo+int64(time.Second), w, c.prec)
				}
			}
		})
	}
}

// TestKeyTable: the configured key lists, in the order of the groups.
func TestKeyTable(t *testing.T) {
	_, kt := newTestFlusher(t, "log_key", "log,raw", "ident_key", "ident", "host_key", "", "message_key", "msg,MESSAGE", "time_key", "ts")
	want := []string{"log", "raw", "ident", "host", "_HOSTNAME", "msg", "MESSAGE", "ts"}
	if diff := cmp.Diff(want, kt.keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// courierRaw is a realistic session-end line, varied by i.
func courierRaw(i int, t time.Time) string {
	users := []string{"alice", "bob@example.org", "carol", "dave.smith", "erin", "frank", "gina", "hank"}
	return t.Format(time.Stamp) + " mail imapd-ssl: LOGOUT, user=" + users[i%len(users)] +
		", ip=[::ffff:192.0.2." + strconv.Itoa(i%250+1) + "], port=[" + strconv.Itoa(40000+i%20000) +
		"], headers=" + strconv.Itoa(i%5000) + ", body=" + strconv.Itoa(i*37%900000) +
		", rcvd=" + strconv.Itoa(100+i%4000) + ", sent=" + strconv.Itoa(300+i*13%100000) +
		", time=" + strconv.Itoa(i%3600) + ", starttls=1"
}

func benchChunk(n int) []byte {
	t0 := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	var data []byte
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * 3 * time.Second)
		data = appendEvent(data, ts.Add(time.Second), "log", courierRaw(i, ts))
	}
	return data
}
