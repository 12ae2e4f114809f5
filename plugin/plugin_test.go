package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// style turns a generated line into a Fluent Bit record, as one of the
// three inputs the plugin serves would produce it.
type style struct {
	name   string
	format loggen.Format
	record func(l loggen.Line) rec
}

var styles = []style{
	{
		// tail: the raw line under "log"; the record time is when tail read
		// it (a little after it was logged), the reference of year inference.
		name: "tail", format: loggen.Mixed,
		record: func(l loggen.Line) rec {
			return rec{TS: fbhost.EventTime(l.Time.Add(1500 * time.Millisecond)), KV: []string{"log", "s:" + l.Raw}}
		},
	},
	{
		// syslog input: header parsed into ident/host/pid/message; the record
		// time comes from the header (whole seconds for classic stamps).
		name: "syslog", format: loggen.Classic,
		record: func(l loggen.Line) rec {
			return rec{TS: fbhost.EventTime(l.Time), KV: []string{
				"pri", "s:22", "host", "s:" + l.Host, "ident", "s:" + l.Ident,
				"pid", "s:" + strconv.Itoa(l.PID), "message", "s:" + l.Message}}
		},
	},
	{
		// systemd input: journal fields, some as bin; the record time is the
		// journal's receive time, the source time is in microseconds.
		name: "systemd", format: loggen.RFC3339,
		record: func(l loggen.Line) rec {
			return rec{TS: fbhost.EventTime(l.Time.Add(2 * time.Millisecond)), KV: []string{
				"PRIORITY", "s:6", "_HOSTNAME", "s:" + l.Host, "SYSLOG_IDENTIFIER", "b:" + l.Ident,
				"_PID", "s:" + strconv.Itoa(l.PID), "MESSAGE", "b:" + l.Message,
				"_SOURCE_REALTIME_TIMESTAMP", "s:" + strconv.FormatInt(l.Time.UnixMicro(), 10)}}
		},
	},
}

var layouts = []string{"v1", "v2", "v2a32"}

// generate returns the records of a generated log in style st, cut into
// chunks of size records, and the expected per-day sums.
func generate(t *testing.T, st style, opts loggen.Options, size int) ([][]rec, map[influxtest.Key]influxtest.Sums) {
	t.Helper()
	opts.Format = st.format
	var all []rec
	truth, err := loggen.Generate(opts, func(l loggen.Line) error {
		all = append(all, st.record(l))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var chunks [][]rec
	for len(all) > 0 {
		n := min(size, len(all))
		chunks = append(chunks, all[:n])
		all = all[n:]
	}
	want := map[influxtest.Key]influxtest.Sums{}
	for k, s := range truth.Sessions {
		want[influxtest.Key(k)] = influxtest.Sums(s)
	}
	if len(want) == 0 {
		t.Fatal("generator produced no sessions")
	}
	return chunks, want
}

func instanceProps(srv *influxtest.Server, extra ...string) []string {
	p := []string{"influx_url", srv.URL, "influx_bucket", srv.Bucket, "stats_interval", "0"}
	if srv.Token != "" {
		p = append(p, "influx_token", srv.Token)
	}
	return append(p, extra...)
}

// TestSums: a multi-day log sent through the host in chunks gives exactly
// the generator's per-day, per-user sums, for tail, syslog and systemd
// records, with three instances of different settings side by side and
// every chunk layout. Every chunk is flushed twice: the second flush must
// change nothing (dedup + deterministic points).
func TestSums(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("time zone data: %v", err)
	}
	h := startHost(t)
	type job struct {
		st     style
		srv    *influxtest.Server
		chunks [][]rec
		want   map[influxtest.Key]influxtest.Sums
		loc    *time.Location
	}
	var jobs []job
	for i, st := range styles {
		srv := influxtest.Shared(t)
		loc := time.UTC
		props := instanceProps(srv, "time_zone", "UTC")
		if st.name == "tail" {
			// year-less classic stamps in a zone with DST, read through the
			// time_zone key (key names are case-insensitive in Fluent Bit)
			loc = berlin
			props = instanceProps(srv, "Time_Zone", "Europe/Berlin", "batch_size", "100")
		}
		opts := loggen.Options{Seed: int64(7 + i), Days: 3, SessionsPerDay: 250, Users: 20,
			Location: loc, Start: time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), Hosts: []string{"mx1", "mx2"}}
		chunks, want := generate(t, st, opts, 400)
		h.init(st.name, props...)
		jobs = append(jobs, job{st: st, srv: srv, chunks: chunks, want: want, loc: loc})
	}
	// interleave the instances chunk by chunk, as Fluent Bit's pipeline does
	for c := 0; ; c++ {
		more := false
		for _, j := range jobs {
			if c >= len(j.chunks) {
				continue
			}
			more = true
			f := h.records(j.chunks[c])
			layout := layouts[c%len(layouts)]
			for try := 0; try < 2; try++ {
				if got := h.one("flush %s %s %s", j.st.name, f, layout); got != "FLB_OK" {
					t.Fatalf("%s chunk %d (%s) flush %d: %s\n%s", j.st.name, c, layout, try, got, h.log())
				}
			}
		}
		if !more {
			break
		}
	}
	for _, j := range jobs {
		t.Run(j.st.name, func(t *testing.T) {
			got := j.srv.Sums(t, "", j.loc)
			if diff := cmp.Diff(j.want, got); diff != "" {
				t.Errorf("sums (-want +got):\n%s", diff)
			}
		})
	}
	for _, j := range jobs {
		if got := h.one("exit %s", j.st.name); got != "FLB_OK" {
			t.Errorf("exit %s: %s", j.st.name, got)
		}
	}
	if log := h.log(); strings.Contains(log, "[error]") {
		t.Errorf("plugin logged errors:\n%s", log)
	}
}

// TestRetryAfterRestart: InfluxDB down -> FLB_RETRY; the same chunk after a
// restart -> FLB_OK, and the sums are exact (the failed attempt committed
// no identities, so the retry is not taken for repeats).
func TestRetryAfterRestart(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	h := startHost(t)
	h.init("a", instanceProps(srv, "time_zone", "UTC", "influx_timeout", "5s")...)
	chunks, want := generate(t, styles[1], loggen.Options{Seed: 3, Days: 2, SessionsPerDay: 150}, 300)
	files := make([]string, len(chunks))
	for i, c := range chunks {
		files[i] = h.records(c)
	}
	if got := h.one("flush a %s v2a32", files[0]); got != "FLB_OK" {
		t.Fatalf("first chunk: %s\n%s", got, h.log())
	}
	srv.Stop(t)
	for _, f := range files[1:3] {
		if got := h.one("flush a %s v2a32", f); got != "FLB_RETRY" {
			t.Fatalf("server stopped: %s, want FLB_RETRY\n%s", got, h.log())
		}
	}
	srv.Restart(t)
	for i, f := range files[1:] {
		if got := h.one("flush a %s v2a32", f); got != "FLB_OK" {
			t.Fatalf("after restart, chunk %d: %s\n%s", i+1, got, h.log())
		}
	}
	if diff := cmp.Diff(want, srv.Sums(t, "", time.UTC)); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	if log := h.log(); strings.Contains(log, strings.SplitN(srv.Token, ":", 2)[1]) {
		t.Errorf("the token's password appears in the plugin log:\n%s", log)
	}
}

// TestConcurrentFlushes: four threads flush different chunks into one
// instance at once, then four threads flush the same chunk at once; the
// sums are exact. Repeat bursts are frequent, so copies of one line land in
// chunks flushed concurrently: neither flush has committed its identities
// when the other filters, both write the point, and the deterministic point
// time makes the second write overwrite the first.
func TestConcurrentFlushes(t *testing.T) {
	srv := influxtest.Shared(t)
	h := startHost(t)
	h.init("w", instanceProps(srv, "time_zone", "UTC")...)
	chunks, want := generate(t, styles[2], loggen.Options{Seed: 11, Days: 2, SessionsPerDay: 200, RepeatBursts: 0.1}, 250)
	var files []string
	for _, c := range chunks {
		files = append(files, h.records(c))
	}
	for i := 0; i < len(files); i += 4 {
		group := files[i:min(i+4, len(files))]
		res := h.do("parflush w v2 %s", strings.Join(group, " "))
		if len(res) != len(group) {
			t.Fatalf("parflush: %d results for %d files", len(res), len(group))
		}
		for _, r := range res {
			if r.Name != "FLB_OK" {
				t.Fatalf("parflush thread %d: %s\n%s", r.Thread, r.Name, h.log())
			}
		}
	}
	res := h.do("parflush w v2a32 %s %s %s %s", files[0], files[0], files[0], files[0])
	for _, r := range res {
		if r.Name != "FLB_OK" {
			t.Fatalf("same chunk, thread %d: %s\n%s", r.Thread, r.Name, h.log())
		}
	}
	if diff := cmp.Diff(want, srv.Sums(t, "", time.UTC)); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
}

// courierLine is a Courier session end at t for user, in classic format.
func courierLine(t time.Time, user string, rcvd, sent int) string {
	return fmt.Sprintf("%s mx imapd: LOGOUT, user=%s, ip=[::ffff:192.0.2.9], port=[4711], headers=0, body=0, rcvd=%d, sent=%d, time=5",
		t.UTC().Format(time.Stamp), user, rcvd, sent)
}

// TestBadInput: corrupt and truncated chunks, a 1 MB line, invalid UTF-8,
// records without the configured keys, group markers: clean return codes,
// the host survives, and the good records are counted exactly.
func TestBadInput(t *testing.T) {
	srv := influxtest.Shared(t)
	h := startHost(t)
	h.init("b", instanceProps(srv, "time_zone", "UTC")...)
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	tail := func(i int, user string, rcvd int) rec {
		ts := t0.Add(time.Duration(i) * time.Second)
		return rec{TS: fbhost.EventTime(ts.Add(time.Second)), KV: []string{"log", "s:" + courierLine(ts, user, rcvd, 100)}}
	}
	good := h.records([]rec{tail(0, "alice", 10), tail(1, "bob", 20)})
	// the chunk bytes of good, for corrupting: flushed through a file of the
	// raw msgpack the C host would build (built here with the same layout)
	raw := packV2A32(t, []rec{tail(2, "carol", 30), tail(3, "carol", 40), tail(4, "dave", 50)})
	// the cut is inside dave's record: carol's two sessions come first
	truncated := h.file(raw[:len(raw)-20])
	garbage := h.file([]byte{0xc1, 0x00, 0xff, 0x92, 0x01})
	empty := h.file(nil)
	huge := strings.Repeat("x", 1<<20)

	cases := []struct {
		name string
		cmd  string
		want string
	}{
		{"good chunk", "flush b " + good + " v1", "FLB_OK"},
		{"truncated chunk", "flushraw b " + truncated, "FLB_ERROR"},
		{"garbage chunk", "flushraw b " + garbage, "FLB_ERROR"},
		{"empty chunk", "flushraw b " + empty, "FLB_OK"},
		{"1 MB line", "flush b " + h.records([]rec{
			{TS: fbhost.EventTime(t0), KV: []string{"log", "s:" + huge}},
			{TS: fbhost.EventTime(t0), KV: []string{"log", "s:" + t0.Format(time.Stamp) + " mx imapd: LOGOUT, user=" + huge}},
			tail(5, "erin", 60),
		}) + " v2a32", "FLB_OK"},
		{"invalid UTF-8", "flush b " + h.records([]rec{
			tail(6, "bad\xff\xfeuser", 70),
			{TS: fbhost.EventTime(t0), KV: []string{"log", "b:\xc3\x28\xa0\xa1 not utf-8 at all"}},
			tail(7, "frank", 80),
		}) + " v2", "FLB_OK"},
		{"records without known keys", "flush b " + h.records([]rec{
			{TS: fbhost.EventTime(t0), KV: []string{"other", "s:x"}},
			{TS: fbhost.EventTime(t0), KV: []string{"log", "i:5"}},
			{TS: fbhost.EventTime(t0)},
			tail(8, "gina", 90),
		}) + " v2", "FLB_OK"},
		{"group markers and int/float times", "flush b " + h.records([]rec{
			{TS: "g:start", KV: []string{"resource", "s:x"}},
			{TS: "i:" + strconv.FormatInt(t0.Unix()+20, 10), KV: []string{"log", "s:" + courierLine(t0.Add(9*time.Second), "hank", 100, 100)}},
			{TS: "f:" + strconv.FormatInt(t0.Unix()+20, 10) + ".25", KV: []string{"log", "s:" + courierLine(t0.Add(10*time.Second), "hank", 110, 100)}},
			{TS: "g:end"},
		}) + " v2", "FLB_OK"},
		{"good chunk again after the bad ones", "flush b " + good + " v2a32", "FLB_OK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := h.one("%s", c.cmd); got != c.want {
				t.Errorf("%s: %s, want %s\n%s", c.name, got, c.want, h.log())
			}
		})
	}
	day := "2026-05-04"
	key := func(u string) influxtest.Key { return influxtest.Key{Day: day, Service: "imap", User: u} }
	want := map[influxtest.Key]influxtest.Sums{
		key("alice"): {Sessions: 1, Rcvd: 10, Sent: 100},
		key("bob"):   {Sessions: 1, Rcvd: 20, Sent: 100},
		key("carol"): {Sessions: 2, Rcvd: 70, Sent: 200},
		key("erin"):  {Sessions: 1, Rcvd: 60, Sent: 100},
		key("frank"): {Sessions: 1, Rcvd: 80, Sent: 100},
		key("gina"):  {Sessions: 1, Rcvd: 90, Sent: 100},
		key("hank"):  {Sessions: 2, Rcvd: 210, Sent: 200},
	}
	got := srv.Sums(t, "", time.UTC)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	log := h.log()
	for _, want := range []string{"corrupt chunk", "byte ", "event 2", "2 record(s) before it were written"} {
		if !strings.Contains(log, want) {
			t.Errorf("plugin log lacks %q:\n%s", want, log)
		}
	}
}

// packV2A32 packs recs as Fluent Bit 4.2.8 does (array32 headers, EventTime,
// empty metadata) for tests that need the raw bytes; only "s:" values.
func packV2A32(t *testing.T, recs []rec) []byte {
	t.Helper()
	var b []byte
	for _, r := range recs {
		var sec, nsec uint32
		if _, err := fmt.Sscanf(r.TS, "e:%d.%d", &sec, &nsec); err != nil {
			t.Fatalf("packV2A32: ts %q: %v", r.TS, err)
		}
		b = append(b, 0xdd, 0, 0, 0, 2, 0xdd, 0, 0, 0, 2, 0xd7, 0,
			byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec),
			byte(nsec>>24), byte(nsec>>16), byte(nsec>>8), byte(nsec), 0x80)
		b = append(b, 0x80|byte(len(r.KV)/2))
		for i, x := range r.KV {
			if i%2 == 1 {
				if !strings.HasPrefix(x, "s:") {
					t.Fatalf("packV2A32: value %q: only s: supported", x)
				}
				x = x[2:]
			}
			b = append(b, 0xdb, byte(len(x)>>24), byte(len(x)>>16), byte(len(x)>>8), byte(len(x)))
			b = append(b, x...)
		}
	}
	return b
}

// logLine is Fluent Bit's log format (flb_log.c: "[%s] [%5s] ").
var logLine = regexp.MustCompile(`^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] \[(error| warn| info|debug)\] \[output:courier_influxdb:courier_influxdb\.\d+\] \S`)

// TestInitAndLifecycle: invalid configurations fail Init with a log line
// naming the key (never the token); two valid instances start side by
// side; exit is safe with unknown contexts and twice; a flush after exit is
// FLB_ERROR; the fallback FLBPluginExit and Unregister work; the host exits 0.
func TestInitAndLifecycle(t *testing.T) {
	h := startHost(t)
	const secret = "s3cr3t-t0ken-value"
	bad := []struct {
		inst  string
		props []string
		key   string
	}{
		{"bad_batch", []string{"influx_token", secret, "batch_size", "0"}, "batch_size"},
		{"bad_url", []string{"influx_token", secret, "influx_url", "ftp://127.0.0.1:1"}, "influx_url"},
		{"bad_bool", []string{"influx_token", secret, "DEDUP", "perhaps"}, "dedup"},
		{"bad_zone", []string{"influx_token", secret, "time_zone", "Mars/Olympus"}, "time_zone"},
		{"bad_duration", []string{"influx_token", secret, "dedup_window", "ten minutes"}, "dedup_window"},
		{"token_twice", []string{"influx_token", secret, "influx_token_file", "/nonexistent"}, "influx_token"},
	}
	for _, c := range bad {
		t.Run(c.inst, func(t *testing.T) {
			before := len(h.log())
			h.configure(c.inst, c.props...)
			if got := h.one("init %s", c.inst); got != "FLB_ERROR" {
				t.Fatalf("init: %s, want FLB_ERROR", got)
			}
			log := h.log()[before:]
			if !strings.Contains(log, c.key) || !strings.Contains(log, "[error]") {
				t.Errorf("log does not name %q at error level:\n%s", c.key, log)
			}
			if strings.Contains(log, secret) {
				t.Errorf("log contains the token:\n%s", log)
			}
		})
	}
	for _, inst := range []string{"one", "two"} {
		h.init(inst, "influx_url", "http://127.0.0.1:9", "influx_token", secret, "measurement", "m_"+inst, "stats_interval", "0")
	}
	res := h.do("exitunknown")
	if diff := cmp.Diff([]result{
		{Op: "exitctx-null", Inst: "-", RC: 1, Name: "FLB_OK"},
		{Op: "exitctx-unknown", Inst: "-", RC: 1, Name: "FLB_OK"},
	}, res); diff != "" {
		t.Errorf("exit with unknown contexts (-want +got):\n%s", diff)
	}
	empty := h.file(nil)
	if got := h.one("flushraw one %s", empty); got != "FLB_OK" {
		t.Errorf("empty chunk: %s", got)
	}
	for i := 0; i < 2; i++ {
		if got := h.one("exit one"); got != "FLB_OK" {
			t.Errorf("exit one (#%d): %s", i+1, got)
		}
	}
	if got := h.one("flushraw one %s", empty); got != "FLB_ERROR" {
		t.Errorf("flush after exit: %s, want FLB_ERROR", got)
	}
	if got := h.one("exitall"); got != "FLB_OK" {
		t.Errorf("exitall: %s", got)
	}
	if got := h.one("flushraw two %s", empty); got != "FLB_ERROR" {
		t.Errorf("flush after FLBPluginExit: %s, want FLB_ERROR", got)
	}
	if got := h.one("unregister"); got != "FLB_OK" {
		t.Errorf("unregister: %s", got)
	}
	h.close()

	log := h.log()
	if strings.Contains(log, secret) {
		t.Errorf("log contains the token:\n%s", log)
	}
	for _, want := range []string{"courier_influxdb.6] started", "courier_influxdb.7] started", "influx_token=****", "measurement=m_two"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if !logLine.MatchString(l) {
			t.Errorf("not in Fluent Bit's log format: %q", l)
		}
	}
}

// receptionStyles are the three inputs as they carry Courier's repeated
// lines when the logger stamps each copy at its reception (microseconds):
// tail over rsyslog's RFC 3339 file format, the syslog input with Fluent
// Bit's syslog-rfc5424 parser (record time from the message, fraction
// kept), and the systemd input (_SOURCE_REALTIME_TIMESTAMP per copy).
var receptionStyles = []style{
	{name: "tail-rfc3339", format: loggen.RFC3339, record: styles[0].record},
	{
		name: "syslog-rfc5424", format: loggen.RFC5424,
		record: func(l loggen.Line) rec {
			return rec{TS: fbhost.EventTime(l.Time), KV: []string{
				"pri", "s:22", "host", "s:" + l.Host, "ident", "s:" + l.Ident,
				"pid", "s:-", "msgid", "s:-", "message", "s:" + l.Message}}
		},
	},
	{name: "systemd", format: loggen.Export, record: styles[2].record},
}

// TestReceptionStampedSums: a log whose repeat copies each carry their own
// microsecond stamp (bursts across seconds, minutes and midnight; distinct
// sessions equal in every field but the time a few seconds apart) gives
// exactly the generator's sums through each input's records; and a second
// instance that reads everything again from an empty seen-set (a restart,
// a back-fill) stores nothing new. (Retried chunks: flush's
// TestRepeatsLongChunks; a chunk is flushed again only after a retry.)
func TestReceptionStampedSums(t *testing.T) {
	h := startHost(t)
	for i, st := range receptionStyles {
		t.Run(st.name, func(t *testing.T) {
			srv := influxtest.Shared(t)
			opts := loggen.Options{Seed: int64(40 + i), Days: 2, SessionsPerDay: 250, Users: 20, RepeatBursts: 0.3,
				CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1}
			chunks, want := generate(t, st, opts, 300)
			for _, inst := range []string{st.name, st.name + "-again"} {
				h.init(inst, instanceProps(srv, "time_zone", "UTC")...)
				for c, ch := range chunks {
					f := h.records(ch)
					if got := h.one("flush %s %s %s", inst, f, layouts[c%len(layouts)]); got != "FLB_OK" {
						t.Fatalf("%s chunk %d: %s\n%s", inst, c, got, h.log())
					}
				}
				if diff := cmp.Diff(want, srv.Sums(t, "", time.UTC)); diff != "" {
					t.Fatalf("%s: sums (-want +got):\n%s", inst, diff)
				}
				if got := h.one("exit %s", inst); got != "FLB_OK" {
					t.Errorf("exit %s: %s", inst, got)
				}
			}
		})
	}
}
