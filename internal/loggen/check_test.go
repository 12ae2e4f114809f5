package loggen

import (
	"fmt"
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
	iso    bool
	micro  bool
	pid    bool
	host   string
	ident  string
	msg    string
}

// parseHeader splits a raw line; Classic lines get the year of start, or the
// next one for months before start's month (runs are shorter than a year).
func parseHeader(t fataler, raw string, start time.Time) parsedLine {
	t.Helper()
	m := headerRE.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("line does not parse: %q", raw)
	}
	p := parsedLine{host: m[10], ident: m[11], pid: m[12] != "", msg: m[13]}
	if m[1] != "" {
		mo := monthNum[m[1]]
		d, _ := strconv.Atoi(strings.TrimSpace(m[2]))
		y := start.Year()
		if mo < int(start.Month()) {
			y++
		}
		p.day = fmt.Sprintf("%04d-%02d-%02d", y, mo, d)
		p.second = p.day + "T" + m[3]
	} else {
		p.iso = true
		p.micro = m[8] != ""
		p.day = m[4] + "-" + m[5] + "-" + m[6]
		p.second = p.day + "T" + m[7]
	}
	return p
}

type recount struct {
	truth        Truth
	styles       map[string]int // classic, classic-pid, rfc3339, shortiso
	sameSecPorts int            // authenticated same-second pairs of one user with different ports
}

func serviceOf(ident, field string) string {
	if field == "top" || strings.HasPrefix(ident, "pop3") || ident == "courierpop3login" {
		return POP3
	}
	return IMAP
}

// recountLines checks the stream invariants and re-counts the truth.
func recountLines(t fataler, lines []Line, start time.Time) recount {
	t.Helper()
	rc := recount{styles: map[string]int{}}
	tr := &rc.truth
	tr.Sessions, tr.PreLogin, tr.Hosts = map[Key]Sums{}, map[Key]Sums{}, map[HostKey]Sums{}
	seen := map[string]bool{}       // traffic lines already counted
	identity := map[string]string{} // host|ident|second|message -> raw
	type prev struct {
		traffic bool
		msg     string
	}
	last := map[string]prev{} // previous non-marker line per host
	type uk struct{ host, ident, second, user string }
	bySecond := map[uk][]string{} // ports of distinct traffic lines
	var maxSec int64
	for i, l := range lines {
		p := parseHeader(t, l.Raw, start)
		if l.Host != p.host || l.Ident != p.ident || l.Message != p.msg || !strings.HasSuffix(l.Raw, ": "+l.Message) {
			t.Fatalf("line %d: Line fields %q %q %q disagree with Raw %q", i, l.Host, l.Ident, l.Message, l.Raw)
		}
		var want string
		switch {
		case !p.iso:
			want = l.Time.Format("Jan _2 15:04:05")
			if strings.HasPrefix(l.Ident, "imap") || strings.HasPrefix(l.Ident, "pop3") || strings.HasPrefix(l.Ident, "courier") {
				if p.pid {
					rc.styles["classic-pid"]++
				} else {
					rc.styles["classic"]++
				}
			}
		case p.micro:
			want = l.Time.Format("2006-01-02T15:04:05.000000-07:00")
			rc.styles["rfc3339"]++
		default:
			want = l.Time.Format("2006-01-02T15:04:05-0700")
			rc.styles["shortiso"]++
		}
		if !strings.HasPrefix(l.Raw, want+" ") {
			t.Fatalf("line %d: Line.Time %v renders as %q, Raw is %q", i, l.Time, want, l.Raw)
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
		id := p.host + "|" + p.ident + "|" + p.second + "|" + epochRE.ReplaceAllString(p.msg, "")
		if r, ok := identity[id]; ok && r != l.Raw {
			t.Fatalf("line %d: distinct lines share host, daemon, second and message:\n%s\n%s", i, r, l.Raw)
		}
		identity[id] = l.Raw
		m := trafficRE.FindStringSubmatch(p.msg)
		if m == nil {
			if seen[l.Raw] {
				t.Fatalf("line %d: a non-traffic line is repeated byte for byte: %q", i, l.Raw)
			}
			seen[l.Raw] = true
			if sec := l.Time.Unix(); sec < maxSec {
				t.Fatalf("line %d: out of time order (after %s): %q", i, time.Unix(maxSec, 0), l.Raw)
			} else {
				maxSec = sec
			}
			tr.NoiseLines++
			if noBytesRE.MatchString(p.msg) {
				tr.NoBytesSessions++
			}
			last[p.host] = prev{false, p.msg}
			continue
		}
		last[p.host] = prev{true, p.msg}
		if seen[l.Raw] { // a repeat-bug copy: counted once
			tr.RepeatLines++
			continue
		}
		seen[l.Raw] = true
		if sec := l.Time.Unix(); sec < maxSec {
			t.Fatalf("line %d: out of time order (after %s): %q", i, time.Unix(maxSec, 0), l.Raw)
		} else {
			maxSec = sec
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
