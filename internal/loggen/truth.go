package loggen

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Service names used in Key.Service (the values of the `service` tag).
const (
	IMAP = "imap"
	POP3 = "pop3"
)

// Key identifies a truth bucket: one local day, one service, one user.
type Key struct {
	Day     string `json:"day"`     // "2006-01-02", the local day (in Options.Location) of the session-end line
	Service string `json:"service"` // IMAP or POP3
	User    string `json:"user"`    // as logged; "" in Truth.PreLogin
}

// HostKey is a Key per syslog host.
type HostKey struct {
	Host string `json:"host"`
	Key
}

// Sums are the totals of one bucket.
type Sums struct {
	Sessions int64 `json:"sessions"`
	Rcvd     int64 `json:"rcvd"`
	Sent     int64 `json:"sent"`
}

func (s *Sums) add(o Sums) {
	s.Sessions += o.Sessions
	s.Rcvd += o.Rcvd
	s.Sent += o.Sent
}

// Truth is what the generated log contains, counted while the lines were
// written (so a run cut short by MaxLines or an emit error is still exact).
//
// Line accounting: Lines = TrafficLines + RepeatLines + MarkerLines + NoiseLines.
type Truth struct {
	// Sessions: authenticated session ends that carry rcvd=/sent=, each
	// counted once (repeat copies and rsyslog markers excluded). Era30
	// session ends have no byte counters and are not here (see
	// NoBytesSessions).
	Sessions map[Key]Sums
	// PreLogin: pre-login IMAP sessions (User ""), kept apart.
	PreLogin map[Key]Sums
	// Hosts: Sessions split per syslog host.
	Hosts map[HostKey]Sums

	Lines        int64 // every line written
	TrafficLines int64 // distinct lines with rcvd=/sent= (authenticated + pre-login): sum of Sessions and PreLogin .Sessions
	RepeatLines  int64 // extra copies written by the repeat bug (byte-identical, or with their own reception stamp)
	MarkerLines  int64 // rsyslog markers that follow a traffic line
	NoiseLines   int64 // everything else, including Era30 session ends and markers after LOGIN FAILED lines

	MarkerRepeats   int64 // sum of N over the MarkerLines (copies the markers stand for)
	NoBytesSessions int64 // Era30 session-end lines (counted in NoiseLines)
	// SameSecond counts authenticated traffic lines that share host, daemon,
	// user and logged second with an earlier, distinct traffic line: the
	// case that needs deterministic sub-second point timestamps.
	SameSecond int64

	// First and Last are the earliest and latest timestamps of the lines
	// written, at generation precision (microseconds), in Options.Location.
	// Last is the reference time after which a consumer of year-less Classic
	// lines infers their year.
	First, Last time.Time
}

// Days returns the local days that have sessions (authenticated or
// pre-login), sorted.
func (t Truth) Days() []string {
	set := map[string]bool{}
	for k := range t.Sessions {
		set[k.Day] = true
	}
	for k := range t.PreLogin {
		set[k.Day] = true
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Users returns the users with authenticated sessions, sorted.
func (t Truth) Users() []string {
	set := map[string]bool{}
	for k := range t.Sessions {
		set[k.User] = true
	}
	out := make([]string, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Total returns the authenticated sums per user of one day; service ""
// adds IMAP and POP3. The map is new and owned by the caller.
func (t Truth) Total(day, service string) map[string]Sums {
	out := map[string]Sums{}
	for k, s := range t.Sessions {
		if k.Day != day || (service != "" && k.Service != service) {
			continue
		}
		v := out[k.User]
		v.add(s)
		out[k.User] = v
	}
	return out
}

// DayTotal returns the sum over all users of one day (the "-- total --"
// row); service "" adds IMAP and POP3.
func (t Truth) DayTotal(day, service string) Sums {
	var sum Sums
	for _, s := range t.Total(day, service) {
		sum.add(s)
	}
	return sum
}

type jsonRow struct {
	Host string `json:"host,omitempty"`
	Key
	Sums
}

type jsonTruth struct {
	Lines           int64     `json:"lines"`
	TrafficLines    int64     `json:"traffic_lines"`
	RepeatLines     int64     `json:"repeat_lines"`
	MarkerLines     int64     `json:"marker_lines"`
	NoiseLines      int64     `json:"noise_lines"`
	MarkerRepeats   int64     `json:"marker_repeats"`
	NoBytesSessions int64     `json:"no_bytes_sessions"`
	SameSecond      int64     `json:"same_second"`
	First           time.Time `json:"first"`
	Last            time.Time `json:"last"`
	Sessions        []jsonRow `json:"sessions"`
	PreLogin        []jsonRow `json:"prelogin"`
	Hosts           []jsonRow `json:"hosts"`
}

func rowLess(a, b jsonRow) bool {
	if a.Day != b.Day {
		return a.Day < b.Day
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if a.Service != b.Service {
		return a.Service < b.Service
	}
	return a.User < b.User
}

func rows(m map[Key]Sums) []jsonRow {
	out := make([]jsonRow, 0, len(m))
	for k, s := range m {
		out = append(out, jsonRow{Key: k, Sums: s})
	}
	sort.Slice(out, func(i, j int) bool { return rowLess(out[i], out[j]) })
	return out
}

// MarshalJSON writes the truth with its maps as arrays sorted by day, host,
// service and user, so that equal truths give identical bytes.
func (t Truth) MarshalJSON() ([]byte, error) {
	j := jsonTruth{
		Lines: t.Lines, TrafficLines: t.TrafficLines, RepeatLines: t.RepeatLines,
		MarkerLines: t.MarkerLines, NoiseLines: t.NoiseLines, MarkerRepeats: t.MarkerRepeats,
		NoBytesSessions: t.NoBytesSessions, SameSecond: t.SameSecond,
		First: t.First, Last: t.Last,
		Sessions: rows(t.Sessions), PreLogin: rows(t.PreLogin),
		Hosts: make([]jsonRow, 0, len(t.Hosts)),
	}
	for k, s := range t.Hosts {
		j.Hosts = append(j.Hosts, jsonRow{Host: k.Host, Key: k.Key, Sums: s})
	}
	sort.Slice(j.Hosts, func(a, b int) bool { return rowLess(j.Hosts[a], j.Hosts[b]) })
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote. A bucket listed twice is an
// error naming it.
func (t *Truth) UnmarshalJSON(b []byte) error {
	var j jsonTruth
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("loggen: truth: %w", err)
	}
	*t = Truth{
		Lines: j.Lines, TrafficLines: j.TrafficLines, RepeatLines: j.RepeatLines,
		MarkerLines: j.MarkerLines, NoiseLines: j.NoiseLines, MarkerRepeats: j.MarkerRepeats,
		NoBytesSessions: j.NoBytesSessions, SameSecond: j.SameSecond,
		First: j.First, Last: j.Last,
		Sessions: make(map[Key]Sums, len(j.Sessions)),
		PreLogin: make(map[Key]Sums, len(j.PreLogin)),
		Hosts:    make(map[HostKey]Sums, len(j.Hosts)),
	}
	for _, part := range []struct {
		name string
		rows []jsonRow
		m    map[Key]Sums
	}{{"sessions", j.Sessions, t.Sessions}, {"prelogin", j.PreLogin, t.PreLogin}} {
		for _, r := range part.rows {
			if _, dup := part.m[r.Key]; dup {
				return fmt.Errorf("loggen: truth: %s: duplicate bucket %+v", part.name, r.Key)
			}
			part.m[r.Key] = r.Sums
		}
	}
	for _, r := range j.Hosts {
		k := HostKey{Host: r.Host, Key: r.Key}
		if _, dup := t.Hosts[k]; dup {
			return fmt.Errorf("loggen: truth: hosts: duplicate bucket %+v", k)
		}
		t.Hosts[k] = r.Sums
	}
	return nil
}
