package loggen

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file re-counts a generated log from its text alone, with regexps that
// share nothing with the generator, and compares the result with the Truth.

var (
	headerRE = regexp.MustCompile(`^(?:([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d)|(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)(\.\d{6})?([+-]\d\d:?\d\d)) (\S+) ([^\s\[\]:]+)(?:\[(\d+)\])?: (.*)$`)
	// RFC 5424 as rsyslog forwards it: no MSGID, no structured data.
	rfc5424RE = regexp.MustCompile(`^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) (\S+) (\S+) (-|\d+) - - (.*)$`)
	// RSYSLOG_ForwardFormat.
	forwardRE = regexp.MustCompile(`^<(\d+)>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) (\S+) ([^\s\[\]:]+)(?:\[(\d+)\])?: (.*)$`)
	// A session end that carries rcvd/sent, any era (user optional: pre-login).
	trafficRE = regexp.MustCompile(`^(?:\d+\.\d{6} )?(?:LOGOUT|DISCONNECTED|TIMEOUT|NOTICE: Disconnected during shutdown by signal|I/O error disconnect|disc), (?:user=(.*), )?ip=\[([^\]]*)\](?:, port=\[(\d+)\])?(?:, (headers|top)=\d+, (?:body|retr)=\d+)?(?:, time=\d+)?, rcvd=(\d+), sent=(\d+)(?:, time=\d+)?(?:, (?:starttls|stls)=1)?(?:, maildir=.*)?$`)
	// An Era30 session end: counters, time, no rcvd/sent.
	noBytesRE = regexp.MustCompile(`^(?:LOGOUT|DISCONNECTED|TIMEOUT|I/O error disconnect), user=.*, ip=\[[^\]]*\], (?:headers|top)=\d+, (?:body|retr)=\d+, time=\d+(?:, (?:starttls|stls)=1)?$`)
	markerRE  = regexp.MustCompile(`^(?:message repeated (\d+) times: \[ (.*)\]|last message repeated (\d+) times)$`)
	epochRE   = regexp.MustCompile(`^\d+\.\d{6} `)
)

var monthNum = map[string]int{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// fataler is the part of testing.TB the re-count needs; the checker's own
// test passes a recorder to prove the checks can fail.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

type parsedLine struct {
	day    string // local day, "2006-01-02"
	second string // day + "T" + hh:mm:ss: the logged second
	minute string // day + "T" + hh:mm
	us     int64  // the logged time, µs since the epoch (whole seconds where the format has no fraction)
	style  string // classic, classic-pid, rfc3339, shortiso, rfc5424, forward, export
	micro  bool
	pid    bool // the transport shows a PID of the program ([pid], PROCID, SYSLOG_PID)
	host   string
	ident  string
	msg    string
	// export only
	realtime, monotonic int64
	boot                string
}

// facilityOf is the syslog facility a line of this identifier must carry.
func facilityOf(ident string) int {
	switch ident {
	case "CRON":
		return 9
	case "sshd":
		return 10
	}
	return 2
}

// parseHeader splits a raw line; Classic lines get the year of start, or the
// next one for months before start's month (runs are shorter than a year),
// and their wall clock is read in loc.
func parseHeader(t fataler, raw string, start time.Time, loc *time.Location) parsedLine {
	t.Helper()
	if strings.HasPrefix(raw, "__REALTIME_TIMESTAMP=") {
		return parseExport(t, raw, loc)
	}
	var p parsedLine
	stamp := func(s string) {
		ts, err := time.Parse("2006-01-02T15:04:05.000000-07:00", s)
		if err != nil {
			t.Fatalf("time %q in %q: %v", s, raw, err)
		}
		p.us, p.micro = ts.UnixMicro(), true
		p.day, p.second, p.minute = s[:10], s[:19], s[:16]
	}
	pri := func(s string) {
		if want := strconv.Itoa(facilityOf(p.ident)*8 + 6); s != want {
			t.Fatalf("PRI <%s> in %q, want <%s>", s, raw, want)
		}
	}
	if m := rfc5424RE.FindStringSubmatch(raw); m != nil {
		p.style, p.host, p.ident, p.pid, p.msg = "rfc5424", m[3], m[4], m[5] != "-", m[6]
		stamp(m[2])
		pri(m[1])
		return p
	}
	if m := forwardRE.FindStringSubmatch(raw); m != nil {
		p.style, p.host, p.ident, p.pid, p.msg = "forward", m[3], m[4], m[5] != "", m[6]
		stamp(m[2])
		pri(m[1])
		return p
	}
	m := headerRE.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("line does not parse: %q", raw)
	}
	p.host, p.ident, p.pid, p.msg = m[10], m[11], m[12] != "", m[13]
	if m[1] != "" {
		mo := monthNum[m[1]]
		d, _ := strconv.Atoi(strings.TrimSpace(m[2]))
		y := start.Year()
		if mo < int(start.Month()) {
			y++
		}
		p.day = fmt.Sprintf("%04d-%02d-%02d", y, mo, d)
		p.second = p.day + "T" + m[3]
		p.minute = p.second[:16]
		hh, _ := strconv.Atoi(m[3][:2])
		mi, _ := strconv.Atoi(m[3][3:5])
		ss, _ := strconv.Atoi(m[3][6:])
		p.us = time.Date(y, time.Month(mo), d, hh, mi, ss, 0, loc).UnixMicro()
		p.style = "classic"
		if p.pid {
			p.style = "classic-pid"
		}
		return p
	}
	p.day = m[4] + "-" + m[5] + "-" + m[6]
	p.second = p.day + "T" + m[7]
	p.minute = p.second[:16]
	if m[8] != "" {
		stamp(raw[:32])
		p.style = "rfc3339"
		return p
	}
	ts, err := time.Parse("2006-01-02T15:04:05-0700", raw[:24])
	if err != nil {
		t.Fatalf("time in %q: %v", raw, err)
	}
	p.us, p.style = ts.UnixMicro(), "shortiso"
	return p
}

// exportFields splits one journal export entry into its fields, in order:
// "NAME=value\n", or "NAME\n" + 64-bit little-endian length + value + "\n".
func exportFields(t fataler, raw string) [][2]string {
	t.Helper()
	var out [][2]string
	for s := raw; s != ""; {
		nl := strings.IndexByte(s, '\n')
		if nl < 0 {
			t.Fatalf("export entry does not end in a newline: %q", raw)
		}
		if eq := strings.IndexByte(s[:nl], '='); eq >= 0 {
			out = append(out, [2]string{s[:eq], s[eq+1 : nl]})
			s = s[nl+1:]
			continue
		}
		name, rest := s[:nl], s[nl+1:]
		if len(rest) < 8 {
			t.Fatalf("export field %q: no length: %q", name, raw)
		}
		n := binary.LittleEndian.Uint64([]byte(rest[:8]))
		if uint64(len(rest)-8) < n+1 || rest[8+n] != '\n' {
			t.Fatalf("export field %q: length %d does not fit: %q", name, n, raw)
		}
		out = append(out, [2]string{name, rest[8 : 8+n]})
		s = rest[9+n:]
	}
	return out
}

func parseExport(t fataler, raw string, loc *time.Location) parsedLine {
	t.Helper()
	f := map[string]string{}
	for _, kv := range exportFields(t, raw) {
		if _, dup := f[kv[0]]; dup {
			t.Fatalf("export field %s twice: %q", kv[0], raw)
		}
		f[kv[0]] = kv[1]
	}
	return fromJournal(t, f, loc, raw)
}

// fromJournal reads a journal entry's fields (from an export entry or
// journalctl's JSON) as a parsed line.
func fromJournal(t fataler, f map[string]string, loc *time.Location, raw string) parsedLine {
	t.Helper()
	num := func(name string) int64 {
		v, err := strconv.ParseInt(f[name], 10, 64)
		if err != nil {
			t.Fatalf("journal field %s=%q: %v in %q", name, f[name], err, raw)
		}
		return v
	}
	for _, name := range []string{"_TRANSPORT", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "_PID", "_COMM", "_HOSTNAME", "MESSAGE"} {
		if _, ok := f[name]; !ok {
			t.Fatalf("journal entry without %s: %q", name, raw)
		}
	}
	p := parsedLine{style: "export", micro: true, host: f["_HOSTNAME"], ident: f["SYSLOG_IDENTIFIER"], msg: f["MESSAGE"],
		us: num("_SOURCE_REALTIME_TIMESTAMP"), realtime: num("__REALTIME_TIMESTAMP"), monotonic: num("__MONOTONIC_TIMESTAMP"),
		boot: f["_BOOT_ID"]}
	_, p.pid = f["SYSLOG_PID"]
	if f["_TRANSPORT"] != "syslog" || f["PRIORITY"] != "6" || f["SYSLOG_FACILITY"] != strconv.Itoa(facilityOf(p.ident)) {
		t.Fatalf("journal entry: transport %q, priority %q, facility %q: %q", f["_TRANSPORT"], f["PRIORITY"], f["SYSLOG_FACILITY"], raw)
	}
	if p.realtime < p.us || p.realtime > p.us+usPerSec || len(p.boot) != 32 {
		t.Fatalf("journal entry: __REALTIME_TIMESTAMP %d vs source %d, boot %q: %q", p.realtime, p.us, p.boot, raw)
	}
	lt := time.UnixMicro(p.us).In(loc)
	p.day, p.second, p.minute = lt.Format("2006-01-02"), lt.Format("2006-01-02T15:04:05"), lt.Format("2006-01-02T15:04")
	return p
}

type recount struct {
	truth        Truth
	styles       map[string]int // classic, classic-pid, rfc3339, shortiso, rfc5424, forward, export
	sameSecPorts int            // authenticated same-second pairs of one user with different ports
	// Repeat bursts as the text shows them: copies whose time differs from
	// the copy before them, and the bursts that cross a second, a minute or
	// a local day between two copies.
	stamped                      int
	crossSec, crossMin, crossDay int
	maxStep                      int64 // largest time step between consecutive copies, µs
	backwards                    int   // lines (copies included) earlier than a line before them
	twins                        int   // distinct traffic lines with every field but the time equal to an earlier one
	minTwinGap                   int64 // smallest time between such lines, µs
}

func serviceOf(ident, field string) string {
	if field == "top" || strings.HasPrefix(ident, "pop3") || ident == "courierpop3login" {
		return POP3
	}
	return IMAP
}

// repeatWindow is the repeat definition the generator promises to be exact
// for: a traffic line repeats the previous line with every field but the
// time equal (same host, identifier and message) when their logged times
// are less than this apart.
const repeatWindow = int64(time.Second / time.Microsecond)

// recountLines checks the stream invariants and re-counts the truth.
func recountLines(t fataler, lines []Line, start time.Time) recount {
	t.Helper()
	loc := time.UTC
	if len(lines) > 0 {
		loc = lines[0].Time.Location()
	}
	ps := make([]parsedLine, len(lines))
	for i, l := range lines {
		p := parseHeader(t, l.Raw, start, loc)
		if l.Host != p.host || l.Ident != p.ident || l.Message != p.msg ||
			p.style != "export" && !strings.HasSuffix(l.Raw, ": "+l.Message) && !strings.HasSuffix(l.Raw, " - - "+l.Message) {
			t.Fatalf("line %d: Line fields %q %q %q disagree with Raw %q", i, l.Host, l.Ident, l.Message, l.Raw)
		}
		micro := l.Time.Format("2006-01-02T15:04:05.000000-07:00")
		var want string
		prefix := true
		switch p.style {
		case "classic", "classic-pid":
			want = l.Time.Format("Jan _2 15:04:05") + " "
			// The text was checked to render Line.Time: read the wall clock
			// as Line.Time says (a DST fall-back hour is ambiguous).
			p.us = l.Time.UnixMicro()
		case "rfc3339":
			want = micro + " "
		case "shortiso":
			want = l.Time.Format("2006-01-02T15:04:05-0700") + " "
		case "rfc5424":
			want, prefix = ">1 "+micro+" ", false
		case "forward":
			want, prefix = ">"+micro+" ", false
		case "export":
			want, prefix = "\n_SOURCE_REALTIME_TIMESTAMP="+strconv.FormatInt(l.Time.UnixMicro(), 10)+"\n", false
		}
		if prefix && !strings.HasPrefix(l.Raw, want) || !strings.Contains(l.Raw, want) {
			t.Fatalf("line %d: Line.Time %v renders as %q, Raw is %q", i, l.Time, want, l.Raw)
		}
		switch p.style {
		case "rfc5424", "forward", "export":
			if p.pid != isOwnPID(l) {
				t.Fatalf("line %d: PID shown %v, want %v: %q", i, p.pid, !p.pid, l.Raw)
			}
		}
		if p.style == "export" && !strings.Contains(l.Raw, "\n_PID="+strconv.Itoa(l.PID)+"\n") {
			t.Fatalf("line %d: _PID is not %d: %q", i, l.PID, l.Raw)
		}
		if p.style == "classic-pid" || p.style == "classic" {
			if !strings.HasPrefix(l.Ident, "imap") && !strings.HasPrefix(l.Ident, "pop3") && !strings.HasPrefix(l.Ident, "courier") {
				p.style = "" // only Courier's lines tell the styles apart
			}
		}
		ps[i] = p
	}
	return recountParsed(t, ps)
}

// isOwnPID: the programs that log their own PID (postfix, cron, sshd and
// UW-IMAP, which shares the identifier imapd but logs "Login failed").
func isOwnPID(l Line) bool {
	return strings.HasPrefix(l.Ident, "postfix/") || l.Ident == "CRON" || l.Ident == "sshd" || strings.HasPrefix(l.Message, "Login failed user=")
}

// recountParsed re-counts the truth of parsed lines, in log order.
func recountParsed(t fataler, ps []parsedLine) recount {
	t.Helper()
	rc := recount{styles: map[string]int{}, minTwinGap: math.MaxInt64}
	tr := &rc.truth
	tr.Sessions, tr.PreLogin, tr.Hosts = map[Key]Sums{}, map[Key]Sums{}, map[HostKey]Sums{}
	seen := map[string]bool{}       // non-traffic lines
	identity := map[string]string{} // host|ident|second|message -> style|us of a distinct line
	type chain struct {
		p      parsedLine
		copies int
	}
	chains := map[string]*chain{} // host|ident|message -> the last traffic line of that text
	type prev struct {
		traffic bool
		msg     string
	}
	last := map[string]prev{} // previous non-marker line per host
	type uk struct{ host, ident, second, user string }
	bySecond := map[uk][]string{} // ports of distinct traffic lines
	var maxSec, maxAll int64 = math.MinInt64, math.MinInt64
	var lastRT int64
	for i, p := range ps {
		if p.us < maxAll {
			rc.backwards++
		}
		maxAll = max(maxAll, p.us)
		if p.style == "export" {
			// journalctl's --since/--until bisect on it: it must not go back.
			if p.realtime < lastRT {
				t.Fatalf("line %d: __REALTIME_TIMESTAMP %d goes back (after %d)", i, p.realtime, lastRT)
			}
			lastRT = p.realtime
		}
		if p.style != "" {
			rc.styles[p.style]++
		}
		tr.Lines++
		if mm := markerRE.FindStringSubmatch(p.msg); mm != nil {
			pv := last[p.host]
			n, _ := strconv.ParseInt(mm[1]+mm[3], 10, 64)
			if mm[2] != "" && mm[2] != pv.msg {
				t.Fatalf("line %d: marker %q does not repeat the previous line %q", i, p.msg, pv.msg)
			}
			if pv.traffic {
				tr.MarkerLines++
				tr.MarkerRepeats += n
			} else {
				tr.NoiseLines++
			}
			continue
		}
		m := trafficRE.FindStringSubmatch(p.msg)
		bare := epochRE.ReplaceAllString(p.msg, "") // a Plesk epoch prefix is a time
		ck := p.host + "|" + p.ident + "|" + bare
		if m != nil && p.style == "export" {
			// The journal's own __REALTIME_TIMESTAMP must tell repeats
			// from distinct sessions the same way.
			c := chains[ck]
			if c != nil && (abs(p.us-c.p.us) < repeatWindow) != (abs(p.realtime-c.p.realtime) < repeatWindow) {
				t.Fatalf("line %d: source times %d, %d and realtimes %d, %d disagree on a repeat: %q", i, c.p.us, p.us, c.p.realtime, p.realtime, p.msg)
			}
		}
		if m != nil {
			last[p.host] = prev{true, p.msg}
			if c := chains[ck]; c != nil && abs(p.us-c.p.us) < repeatWindow {
				// A repeat: counted once.
				tr.RepeatLines++
				if step := p.us - c.p.us; step != 0 {
					rc.stamped++
					rc.maxStep = max(rc.maxStep, abs(step))
				}
				if c.p.second != p.second {
					rc.crossSec++
				}
				if c.p.minute != p.minute {
					rc.crossMin++
				}
				if c.p.day != p.day {
					rc.crossDay++
				}
				c.p = p
				continue
			} else if c != nil {
				rc.twins++
				rc.minTwinGap = min(rc.minTwinGap, abs(p.us-c.p.us))
			}
			chains[ck] = &chain{p: p}
		}
		id := p.host + "|" + p.ident + "|" + p.second + "|" + bare
		full := fmt.Sprintf("%s|%s|%s|%d|%v|%s", p.host, p.ident, p.style, p.us, p.pid, p.msg)
		if r, ok := identity[id]; ok && r != full {
			t.Fatalf("line %d: distinct lines share host, daemon, second and message:\n%s\n%s", i, r, full)
		}
		identity[id] = full
		if sec := floorDiv(p.us, usPerSec); sec < maxSec {
			t.Fatalf("line %d: out of time order (after %s): %s %q", i, time.Unix(maxSec, 0), time.UnixMicro(p.us), p.msg)
		} else {
			maxSec = sec
		}
		if m == nil {
			if seen[full] {
				t.Fatalf("line %d: a non-traffic line is repeated byte for byte: %q", i, p.msg)
			}
			seen[full] = true
			tr.NoiseLines++
			if noBytesRE.MatchString(p.msg) {
				tr.NoBytesSessions++
			}
			last[p.host] = prev{false, p.msg}
			continue
		}
		tr.TrafficLines++
		rcvd, _ := strconv.ParseInt(m[5], 10, 64)
		sent, _ := strconv.ParseInt(m[6], 10, 64)
		k := Key{Day: p.day, Service: serviceOf(p.ident, m[4]), User: m[1]}
		s := Sums{Sessions: 1, Rcvd: rcvd, Sent: sent}
		if m[4] == "" { // no headers/top: pre-login
			v := tr.PreLogin[k]
			v.add(s)
			tr.PreLogin[k] = v
			continue
		}
		v := tr.Sessions[k]
		v.add(s)
		tr.Sessions[k] = v
		hk := HostKey{Host: p.host, Key: k}
		hv := tr.Hosts[hk]
		hv.add(s)
		tr.Hosts[hk] = hv
		u := uk{p.host, p.ident, p.second, m[1]}
		for _, port := range bySecond[u] {
			if port != "" && m[3] != "" && port != m[3] {
				rc.sameSecPorts++
				break
			}
		}
		if len(bySecond[u]) > 0 {
			tr.SameSecond++
		}
		bySecond[u] = append(bySecond[u], m[3])
	}
	return rc
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// collect runs Generate and returns its lines and truth.
func collect(t testing.TB, o Options) ([]Line, Truth) {
	t.Helper()
	var lines []Line
	tr, err := Generate(o, func(l Line) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return lines, tr
}
