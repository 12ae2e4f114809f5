package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// TestTail: the shipped configuration as it is (the tail input is the
// active one) over a file written before Fluent Bit starts.
func TestTail(t *testing.T) {
	bin, plugin := setup(t)
	cases := []struct {
		name string
		opts func(t *testing.T) loggen.Options
		zone string
	}{
		{"classic", func(t *testing.T) loggen.Options {
			// Year-less, zone-less stamps in a zone with DST, and rsyslog's
			// "message repeated N times" markers.
			o := logOptions(1301, loggen.Classic, mustZone(t, "Europe/Berlin"), recentStart(), true)
			o.RsyslogMarkers = 0.05
			return o
		}, "Europe/Berlin"},
		{"rfc3339-identical", func(t *testing.T) loggen.Options {
			// RFC 3339 with microseconds, repeat copies byte-identical to
			// their original (as a logger that stamps the sender's time).
			o := logOptions(1302, loggen.RFC3339, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, true)
			o.RsyslogMarkers = 0.05
			return o
		}, "Europe/Berlin"},
		{"rfc3339", func(t *testing.T) loggen.Options {
			// rsyslog's default file format on Debian 12+ (RSYSLOG_FileFormat):
			// every repeat copy carries its own reception time.
			o := logOptions(1307, loggen.RFC3339, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false)
			o.RsyslogMarkers = 0.05
			return o
		}, "Europe/Berlin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			g := generate(t, tc.opts(t))
			dir := workDir(t)
			if err := os.WriteFile(filepath.Join(dir, "mail.log"), g.raw(0, len(g.lines)), 0o644); err != nil {
				t.Fatal(err)
			}
			srv := startInflux(t)
			r := newRun(t, dir)
			fb := startFluentBit(t, bin, plugin, r, influxEnv(srv, tc.zone)...)
			c := fb.waitProcessed("tail", g.truth.Lines)
			fb.stop()
			compare(t, "tail/"+tc.name, srv, g, c.InRecords, began)
		})
	}
}

// syslogRun switches the shipped configuration to its syslog alternative
// (the tail input commented out) on a free port with the given parser.
func syslogRun(t *testing.T, dir, parser string) (*run, int) {
	t.Helper()
	r := newRun(t, dir)
	r.conf.disable(t, "input", "tail")
	r.conf.enable(t, "syslog")
	port := freePort(t)
	r.conf.set(t, "input", "syslog", "Port", fmt.Sprint(port))
	r.conf.set(t, "input", "syslog", "Parser", parser)
	return r, port
}

// sendTCP connects to the syslog input (retrying until it listens) and
// writes the newline-framed messages.
func sendTCP(t *testing.T, fb *fluentBit, port int, msgs []byte) {
	t.Helper()
	var conn net.Conn
	fb.waitUntil("the syslog input to listen", 30*time.Second, func() (bool, string) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false, err.Error()
		}
		conn = c
		return true, ""
	})
	defer conn.Close()
	if _, err := conn.Write(msgs); err != nil {
		t.Fatalf("send to the syslog input: %v", err)
	}
}

// TestSyslogTCP: the shipped syslog alternative (mode tcp), fed over a TCP
// connection like rsyslog's omfwd.
//   - rfc5424: RFC 5424 messages (RSYSLOG_SyslogProtocol23Format) parsed
//     by Fluent Bit's stock syslog-rfc5424 parser (host, ident, message
//     keys; the record time from the message, microseconds kept).
//   - forward: rsyslog's RSYSLOG_ForwardFormat ("<PRI>" + an RFC 3339
//     file line) through the shipped courier-syslog-line parser.
//
// Both carry a reception stamp on every repeat copy, as rsyslog forwards
// them.
func TestSyslogTCP(t *testing.T) {
	bin, plugin := setup(t)
	t.Run("rfc5424", func(t *testing.T) {
		began := time.Now()
		g := generate(t, logOptions(1303, loggen.RFC5424, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false))
		srv := startInflux(t)
		r, port := syslogRun(t, workDir(t), "syslog-rfc5424")
		r.writeParsers(t, stockRFC5424)
		fb := startFluentBit(t, bin, plugin, r, influxEnv(srv, "Europe/Berlin")...)
		sendTCP(t, fb, port, g.raw(0, len(g.lines)))
		c := fb.waitProcessed("syslog", g.truth.Lines)
		fb.stop()
		compare(t, "syslog/rfc5424", srv, g, c.InRecords, began)
	})
	t.Run("forward", func(t *testing.T) {
		began := time.Now()
		g := generate(t, logOptions(1304, loggen.Forward, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false))
		srv := startInflux(t)
		r, port := syslogRun(t, workDir(t), "courier-syslog-line")
		fb := startFluentBit(t, bin, plugin, r, influxEnv(srv, "Europe/Berlin")...)
		sendTCP(t, fb, port, g.raw(0, len(g.lines)))
		c := fb.waitProcessed("syslog", g.truth.Lines)
		fb.stop()
		compare(t, "syslog/forward", srv, g, c.InRecords, began)
	})
}

// journalRemote finds systemd-journal-remote (Debian package
// systemd-journal-remote; it is not on PATH there).
func journalRemote(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("systemd-journal-remote"); err == nil {
		return p
	}
	t.Fatal("systemd-journal-remote not found: the systemd scenario writes its journal file with it " +
		"(Debian/Ubuntu: apt-get install systemd-journal-remote)")
	return ""
}

// writeJournal turns an export stream into dir/courier.journal.
func writeJournal(t *testing.T, dir string, stream []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(journalRemote(t), "--output="+filepath.Join(dir, "courier.journal"), "-")
	cmd.Stdin = bytes.NewReader(stream)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

// TestSystemd: the shipped systemd alternative (the tail input commented
// out) reading a journal directory, with the shipped Systemd_Filter list,
// Strip_Underscores and Lowercase; only the journal's Path, the cursor
// DB and Read_From_Tail off (read what the journal already holds) differ.
func TestSystemd(t *testing.T) {
	bin, plugin := setup(t)
	began := time.Now()
	g := generate(t, logOptions(1305, loggen.Export, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false))
	dir := workDir(t)
	r := newRun(t, dir)
	r.conf.disable(t, "input", "tail")
	r.conf.enable(t, "systemd")
	r.conf.set(t, "input", "systemd", "Path", filepath.Join(dir, "journal"))
	r.conf.set(t, "input", "systemd", "DB", filepath.Join(dir, "courier-journal.db"))
	r.conf.set(t, "input", "systemd", "Read_From_Tail", "off")
	// The records Fluent Bit reads are the entries of the filter's identifiers.
	keep := map[string]bool{}
	for _, id := range r.conf.filterValues(t, "input", "systemd", "Systemd_Filter", "SYSLOG_IDENTIFIER") {
		keep[id] = true
	}
	if len(keep) == 0 {
		t.Fatal("the shipped systemd input has no Systemd_Filter SYSLOG_IDENTIFIER=... lines")
	}
	var want int64
	for _, l := range g.lines {
		if keep[l.Ident] {
			want++
		}
	}
	writeJournal(t, filepath.Join(dir, "journal"), g.raw(0, len(g.lines)))
	srv := startInflux(t)
	fb := startFluentBit(t, bin, plugin, r, influxEnv(srv, "Europe/Berlin")...)
	c := fb.waitProcessed("systemd", want)
	if c.InRecords != want {
		t.Errorf("the systemd input read %d records, want %d (the Courier entries of %d)", c.InRecords, want, len(g.lines))
	}
	fb.stop()
	compare(t, "systemd/journal", srv, g, c.InRecords, began)
}

// appendFile appends b to path in one write.
func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartReplay: the shipped tail input with its offset DB and
// storage.type filesystem, the log growing while Fluent Bit runs, in five
// parts:
//
//  1. part 1 is in the file when Fluent Bit starts; all of it delivered;
//  2. part 2 is appended and Fluent Bit SIGKILLed as soon as the tail
//     input has read it (delivered or not, a race like a real crash), then
//     started again (same DB and storage);
//  3. InfluxDB is SIGKILLed; part 3 is appended; once Fluent Bit has
//     failed to deliver it (a retry is scheduled, the chunk is on disk),
//     Fluent Bit is SIGKILLed too;
//  4. part 4 is appended and Fluent Bit started while InfluxDB is still
//     down: it replays the chunks left on disk and reads on from its
//     offset, retrying;
//  5. InfluxDB is started again; part 5 is appended; everything is
//     delivered, Fluent Bit stops with SIGINT.
//
// Records delivered twice (a chunk flushed just before a kill and
// replayed after it, lines read again from an offset not yet saved) must
// land on the same points: the stored numbers are exact.
func TestRestartReplay(t *testing.T) {
	bin, plugin := setup(t)
	began := time.Now()
	g := generate(t, logOptions(1306, loggen.RFC3339, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false))
	n := len(g.lines)
	cut := []int{0, n / 5, 2 * n / 5, 3 * n / 5, 4 * n / 5, n}
	dir := workDir(t)
	logPath := filepath.Join(dir, "mail.log")
	storage := filepath.Join(dir, "storage")
	appendFile(t, logPath, g.raw(cut[0], cut[1]))
	srv := startInflux(t)
	r := newRun(t, dir)
	env := influxEnv(srv, "Europe/Berlin")
	// records: what the inputs of all runs produced (the last figure seen
	// before a kill; backlog replays and re-read lines included).
	var records int64
	tailRead := func(fb *fluentBit, want int64) counters {
		var c counters
		fb.waitUntil(fmt.Sprintf("%d records read by the tail input", want), doneTimeout, func() (bool, string) {
			var err error
			if c, err = fb.metricsOf("tail"); err != nil {
				return false, err.Error()
			}
			return c.InRecords >= want, c.String()
		})
		return c
	}
	retrying := func(fb *fluentBit) counters {
		var c counters
		fb.waitUntil("a failed flush (retry scheduled) while InfluxDB is down", doneTimeout, func() (bool, string) {
			var err error
			if c, err = fb.metrics(); err != nil {
				return false, err.Error()
			}
			return c.Retries > 0, c.String()
		})
		return c
	}

	// 1. Part 1, delivered.
	fb := startFluentBit(t, bin, plugin, r, env...)
	fb.waitProcessed("tail", int64(cut[1]))

	// 2. Part 2 read, SIGKILL at once; restart.
	appendFile(t, logPath, g.raw(cut[1], cut[2]))
	c := tailRead(fb, int64(cut[2]))
	fb.kill()
	records += c.AllInRecords
	t.Logf("step 2: Fluent Bit SIGKILLed after reading part 2: %s; %d chunk files left on disk", c, chunkFiles(t, storage))
	fb = startFluentBit(t, bin, plugin, r, env...)
	// The restarted Fluent Bit replays what the kill left (chunks on disk,
	// lines after the last offset saved): how much is not known, so wait
	// until it is all delivered and the tail input has been quiet for 3 s.
	c = quiet(fb, 0, 3*time.Second, true)
	base := c.InRecords
	t.Logf("step 2: Fluent Bit restarted and caught up: %s", c)

	// 3. InfluxDB down; part 3 read but not delivered; SIGKILL.
	srv.Kill(t)
	appendFile(t, logPath, g.raw(cut[2], cut[3]))
	quiet(fb, base+int64(cut[3]-cut[2]), 2*time.Second, false)
	c = retrying(fb)
	fb.kill()
	records += c.AllInRecords
	left := chunkFiles(t, storage)
	t.Logf("step 3: InfluxDB SIGKILLed, part 3 read, Fluent Bit SIGKILLed while retrying: %s; %d chunk files left on disk", c, left)
	if left == 0 {
		t.Errorf("step 3: no chunk file left on disk after the kill: the replay of buffered chunks is not exercised")
	}

	// 4. Part 4; Fluent Bit restarted while InfluxDB is still down.
	appendFile(t, logPath, g.raw(cut[3], cut[4]))
	fb = startFluentBit(t, bin, plugin, r, env...)
	tailRead(fb, int64(cut[4]-cut[3]))
	c = retrying(fb)
	t.Logf("step 4: Fluent Bit restarted with InfluxDB down: %s", c)

	// 5. InfluxDB back; part 5; everything delivered.
	srv.Restart(t)
	appendFile(t, logPath, g.raw(cut[4], cut[5]))
	c = fb.waitProcessed("tail", int64(cut[5]-cut[3]))
	records += c.AllInRecords
	t.Logf("step 5: InfluxDB restarted, part 5 appended, all delivered: %s (storage_backlog replayed %d records)", c, c.AllInRecords-c.InRecords)
	if c.AllInRecords == c.InRecords {
		t.Errorf("step 5: the storage_backlog input replayed no record: the chunks left by the kill were not replayed")
	}
	fb.stop()
	compare(t, "restart/replay", srv, g, records, began)
}

// quiet waits until the tail input has read at least want records and its
// count (and that of every input) has not changed for d, and, when
// delivered is set, the output has delivered the records of every input
// and no chunk is held. It returns the counters then.
func quiet(fb *fluentBit, want int64, d time.Duration, delivered bool) counters {
	fb.t.Helper()
	var last counters
	since := time.Now()
	what := fmt.Sprintf("the tail input to read %d records and stay quiet for %s", want, d)
	if delivered {
		what += ", everything delivered"
	}
	fb.waitUntil(what, doneTimeout, func() (bool, string) {
		c, err := fb.metricsOf("tail")
		if err != nil {
			return false, err.Error()
		}
		if c.InRecords != last.InRecords || c.AllInRecords != last.AllInRecords {
			since = time.Now()
		}
		last = c
		n, err := fb.chunks()
		if err != nil {
			return false, err.Error()
		}
		ok := c.InRecords >= want && time.Since(since) >= d
		if delivered {
			ok = ok && c.ProcRecords+c.Dropped >= c.AllInRecords && n == 0
		}
		return ok, fmt.Sprintf("%s; chunks held %d; unchanged for %s", c, n, time.Since(since).Round(time.Millisecond))
	})
	return last
}

// chunkFiles counts Fluent Bit's chunk files (*.flb) under dir.
func chunkFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".flb") {
			n++
		}
		return nil
	})
	return n
}

// TestControlToleranceZero is the negative control of the scenarios with
// reception-stamped copies: the tail/rfc3339 log again, with the plugin's
// dedup_tolerance set to 0 in the [OUTPUT] (only equal times repeat). The
// stored sessions and byte sums must then exceed the truth: proof that the
// copies reach the plugin with stamps of their own through Fluent Bit, so
// the exact results of the other scenarios come from the plugin's repeat
// tolerance and not from copies that were identical anyway.
func TestControlToleranceZero(t *testing.T) {
	bin, plugin := setup(t)
	began := time.Now()
	o := logOptions(1307, loggen.RFC3339, mustZone(t, "Europe/Berlin"), loggen.DefaultStart, false)
	o.RsyslogMarkers = 0.05 // the same log as TestTail/rfc3339
	g := generate(t, o)
	dir := workDir(t)
	if err := os.WriteFile(filepath.Join(dir, "mail.log"), g.raw(0, len(g.lines)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startInflux(t)
	r := newRun(t, dir)
	r.conf.set(t, "output", "courier_influxdb", "dedup_tolerance", "0")
	fb := startFluentBit(t, bin, plugin, r, influxEnv(srv, "Europe/Berlin")...)
	c := fb.waitProcessed("tail", g.truth.Lines)
	fb.stop()
	res, _, _ := measure(t, "control/tolerance-0 (must exceed)", srv, g, c.InRecords, began)
	res.pass = res.gotSess > res.wantSess && res.gotRcvd > res.wantRcvd && res.gotSent > res.wantSent
	if !res.pass {
		t.Errorf("with dedup_tolerance 0 the stored sums do not exceed the truth (sessions %d / %d, rcvd %d / %d, sent %d / %d): "+
			"the repeat copies did not reach the plugin with stamps of their own, and the other scenarios prove less than they claim",
			res.gotSess, res.wantSess, res.gotRcvd, res.wantRcvd, res.gotSent, res.wantSent)
	}
	addRow(res)
}
