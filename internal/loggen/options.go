package loggen

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Format is the syslog transport form of the generated lines.
type Format int

const (
	// Classic is the traditional syslog file format without year and zone:
	// "Jul  3 06:36:47 host imapd: ..." (the day padded with a space).
	Classic Format = iota
	// RFC3339 is rsyslog's RSYSLOG_FileFormat (default on Debian 12+), with
	// microseconds and a "+hh:mm" offset:
	// "2024-06-10T09:20:38.412907+02:00 host imapd: ...".
	RFC3339
	// ShortISO is `journalctl -o short-iso`, whose tag always carries the
	// courierlogger PID: "2024-06-10T09:20:38+0200 host imapd[1234]: ...".
	ShortISO
	// Mixed picks, per line, one of Classic, Classic with "[pid]" (rsyslog
	// imjournal), RFC3339 and ShortISO.
	Mixed
	// RFC5424 is a syslog message as rsyslog forwards it with
	// RSYSLOG_SyslogProtocol23Format, newline-framed for Fluent Bit's
	// syslog input over TCP: "<22>1 2026-07-03T06:36:47.100001+02:00 host
	// imapd - - - LOGOUT, ...". PRI is facility*8+6 (info) with facility
	// mail (2), cron (9) for CRON and authpriv (10) for sshd; PROCID is "-"
	// for Courier's lines (courierlogger opens syslog without LOG_PID) and
	// the PID for programs that log their own; MSGID and STRUCTURED-DATA
	// are "-".
	RFC5424
	// Forward is rsyslog's RSYSLOG_ForwardFormat, newline-framed:
	// "<22>2026-07-03T06:36:47.100001+02:00 host imapd: LOGOUT, ..." (PRI
	// and tag as for RFC5424; "[pid]" only where the program logs it).
	Forward
	// Export is the journal export format (`journalctl -o export`, what
	// `systemd-journal-remote -` reads): one entry per Line, each field
	// "NAME=value\n" (or the length-prefixed binary form for a value with
	// a newline), MESSAGE last; WriteLog adds the blank line that ends an
	// entry. Fields: __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID
	// (one per host), _TRANSPORT=syslog, PRIORITY, SYSLOG_FACILITY,
	// SYSLOG_IDENTIFIER, SYSLOG_PID (programs that log their own PID only),
	// _PID, _COMM, _HOSTNAME, _SOURCE_REALTIME_TIMESTAMP (the logged time,
	// Line.Time), MESSAGE. __REALTIME_TIMESTAMP is the source time plus a
	// constant 20-219 µs (by Seed), so gaps between entries are equal in
	// both and neither ever goes back; the truth's days follow
	// _SOURCE_REALTIME_TIMESTAMP.
	// No __CURSOR: journal-remote does not need one.
	Export
)

var formatNames = [...]string{Classic: "classic", RFC3339: "rfc3339", ShortISO: "shortiso", Mixed: "mixed",
	RFC5424: "rfc5424", Forward: "forward", Export: "export"}

// Micro reports whether f prints microseconds on every line (RFC3339,
// RFC5424, Forward, Export): the formats that can carry reception stamps.
func (f Format) Micro() bool { return f == RFC3339 || f == RFC5424 || f == Forward || f == Export }

// String returns the name accepted by ParseFormat.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "classic", "rfc3339", "shortiso", "mixed", "rfc5424",
// "forward" or "export" (case-insensitive).
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("loggen: format %q: want one of classic, rfc3339, shortiso, mixed, rfc5424, forward, export", s)
}

// CopyStamps says which time the copies of a repeat burst carry.
type CopyStamps int

const (
	// CopyAuto, the zero value, is CopyOriginal for Classic, RFC3339,
	// ShortISO and Mixed (the output of earlier versions) and CopyReception
	// for RFC5424, Forward and Export (rsyslog forwarding and journald stamp
	// every message they receive).
	CopyAuto CopyStamps = iota
	// CopyOriginal: every copy is byte-identical to its original, timestamp
	// included, and trails it by up to three seconds of log.
	CopyOriginal
	// CopyReception: every copy has its own reception stamp, later than the
	// copy before it by 1-400 µs, sometimes a few ms, rarely up to 450 ms
	// (never 500 ms or more); about a fifth of the bursts whose original lies
	// within 450 ms of the next second are made to cross it. The message is
	// byte-identical (a Plesk epoch prefix keeps the original's time). The
	// whole log is then in time order. Needs a Micro format.
	CopyReception
)

var copyNames = [...]string{CopyAuto: "auto", CopyOriginal: "original", CopyReception: "reception"}

// String returns the name accepted by ParseCopyStamps.
func (c CopyStamps) String() string {
	if c >= 0 && int(c) < len(copyNames) {
		return copyNames[c]
	}
	return fmt.Sprintf("CopyStamps(%d)", int(c))
}

// ParseCopyStamps parses "auto" (or ""), "original" or "reception" (case-insensitive).
func ParseCopyStamps(s string) (CopyStamps, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return CopyAuto, nil
	}
	for i, n := range copyNames {
		if strings.EqualFold(t, n) {
			return CopyStamps(i), nil
		}
	}
	return 0, fmt.Errorf("loggen: copy stamps %q: want one of auto, original, reception", s)
}

// Era is a courier-imap release range with its own session-end field layout
// (docs/courier-log-formats.md). The zero value is not an era.
type Era int

const (
	// Era30 is courier-imap 3.0.8-4.0.x: time= but no rcvd=/sent= and no port;
	// identifiers imaplogin and courierpop3login. Its session ends carry no
	// byte counters and are therefore not part of Truth.Sessions.
	Era30 Era = iota + 1
	// Era41 is 4.1.x: rcvd=/sent= appear, no port anywhere.
	Era41
	// Era42 is 4.2.0-5.0.8: port=[...] on LOGIN lines and POP3 session ends
	// only; IMAP session ends have no port.
	Era42
	// Era509 is 5.0.9-5.3.x: port=[...] everywhere, TLS flag also on LOGIN lines.
	Era509
	// Era60 is 6.0.x: as Era509, but POP3 session ends start with the literal
	// keyword "disc" (the pop3dserver.C bug).
	Era60
	// EraPlesk is the Plesk/qmail vendor variant: an epoch prefix before the
	// keyword, time= before rcvd=, a trailing maildir=, plain IPv4, no port.
	EraPlesk
)

var eraNames = [...]string{Era30: "30", Era41: "41", Era42: "42", Era509: "509", Era60: "60", EraPlesk: "plesk"}

// AllEras lists every era, in release order.
var AllEras = []Era{Era30, Era41, Era42, Era509, Era60, EraPlesk}

// String returns the name accepted by ParseEra ("30", "41", "42", "509", "60", "plesk").
func (e Era) String() string {
	if e > 0 && int(e) < len(eraNames) {
		return eraNames[e]
	}
	return fmt.Sprintf("Era(%d)", int(e))
}

func (e Era) valid() bool { return e >= Era30 && e <= EraPlesk }

// ParseEra parses an era name: "30", "41", "42", "509", "60" or "plesk",
// optionally prefixed with "era" (case-insensitive).
func ParseEra(s string) (Era, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "era")
	for i, n := range eraNames {
		if i > 0 && t == n {
			return Era(i), nil
		}
	}
	return 0, fmt.Errorf("loggen: era %q: want one of 30, 41, 42, 509, 60, plesk", s)
}

// ParseEras parses a comma-separated list of eras ("509,42,plesk"); "all"
// means AllEras. Duplicates are kept: they weight the random choice.
func ParseEras(s string) ([]Era, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return append([]Era(nil), AllEras...), nil
	}
	var out []Era
	for _, p := range strings.Split(s, ",") {
		e, err := ParseEra(p)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Options configure Generate. The zero value is valid: every zero field
// takes the default named in its comment. For the rate fields a negative
// value means "none" (zero would mean the default).
type Options struct {
	// Seed seeds the PCG generator: equal Options give byte-identical output.
	Seed int64
	// Start's calendar date, as Start.Date() reports it, is the first day;
	// its clock and zone are ignored. Default 2026-07-28. Years 1970-9999.
	Start time.Time
	// Days is the number of local days (default 1). Ignored when MaxLines > 0.
	Days int
	// Location is the zone of the local days and of the printed times
	// (default time.UTC, so that output does not depend on the machine).
	Location *time.Location
	// Host is the syslog host (default "mx"); Hosts, when not empty, replaces
	// it with several hosts, each session picking one at random.
	Host  string
	Hosts []string
	// Users is the number of distinct user names (default 50). Names include
	// "@domain", dots, '+', mixed case, spaces and a few with ", " inside.
	Users int
	// SessionsPerDay is the number of authenticated sessions that start on
	// each local day (exact; default 1000). A session ends, and is counted
	// in the truth, on the day of its end line.
	SessionsPerDay int
	// Format is the transport form (default Classic).
	Format Format
	// Eras are the courier-imap eras sessions pick from, uniformly per
	// session (default {Era509}). Repeat an era to weight it.
	Eras []Era
	// POP3Share is the share of POP3 sessions (default 0.3; negative: none).
	POP3Share float64
	// NoiseRatio is the mean number of non-traffic lines per authenticated
	// session (default 2; negative: none): its LOGIN and Connection lines,
	// LOGIN FAILED, pre-auth Disconnected, couriertls, connection limits,
	// postfix, cron, sshd and UW-IMAP lines.
	NoiseRatio float64
	// PreLogin is the probability, per authenticated session, of an extra
	// pre-login IMAP session "LOGOUT, ip=[..], port=[..], rcvd=, sent="
	// (default 0.05; negative: none).
	PreLogin float64
	// RepeatBursts is the probability per traffic line of the Courier
	// repeated-line bug: the byte-identical line is written k more times
	// (k uniform in 1..20), either adjacent or interleaved with the lines of
	// the next three seconds (default 0.02; negative: none).
	RepeatBursts float64
	// RsyslogMarkers is the probability, per traffic line without a repeat
	// burst, of an rsyslog "message repeated N times: [ line]" or "last
	// message repeated N times" marker right after it (N in 1..20); also
	// applied to LOGIN FAILED lines (default 0).
	RsyslogMarkers float64
	// BigUsers is the number of users with huge transfers (600 MB-like
	// uploads: rcvd up to ~1e9) (default 2; negative: none).
	BigUsers int
	// MaxLines, when > 0, makes generation run day after day (Days is then
	// ignored) and stop after exactly MaxLines lines.
	MaxLines int64
	// CopyStamps is the time the repeat copies carry (default CopyAuto:
	// by Format). CopyReception needs a Micro format; Export needs it.
	CopyStamps CopyStamps
	// BoundaryBursts adds, on every local day, two authenticated sessions
	// whose session end lies 1-10 ms before a boundary, each followed by
	// a burst of 100-299 reception-stamped copies that crosses it: one
	// before the local midnight that ends the day (so the burst crosses
	// minute, hour and day), one before a random minute boundary of the
	// day. They come on top of SessionsPerDay (and of
	// EstimatedLinesPerSession) and have no LOGIN line; an Era30 pick
	// becomes Era41 (a session end without counters has nothing to repeat).
	// Needs CopyReception.
	BoundaryBursts bool
	// Twins is the probability, per authenticated session end, of a twin:
	// a later, distinct session whose line equals it in every field but the
	// time (host, daemon, keyword, user, ip, port, every counter, TLS flag),
	// 1-4 s after the original's last copy, as when a webmail page view or a
	// port-less era repeats the same dialogue a few seconds apart. A twin
	// is counted as a session of its own (default 0: none). Should a twin
	// meet a third equal line within a second, its sent is re-drawn like
	// any other colliding session.
	Twins float64
}

// Defaults used for zero fields.
const (
	DefaultHost           = "mx"
	DefaultDays           = 1
	DefaultUsers          = 50
	DefaultSessionsPerDay = 1000
	DefaultPOP3Share      = 0.3
	DefaultNoiseRatio     = 2
	DefaultPreLogin       = 0.05
	DefaultRepeatBursts   = 0.02
	DefaultBigUsers       = 2
)

// DefaultStart is the first day when Options.Start is zero.
var DefaultStart = time.Date(2026, 7, 28, 0, 0, 0, 0, time.UTC)

// Resolved returns o with defaults filled in, or an error naming the first
// invalid field. Resolved is idempotent: negative rates stay negative.
func (o Options) Resolved() (Options, error) {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if y := o.Start.Year(); y < 1970 || y > 9999 {
		return o, fmt.Errorf("loggen: Options.Start %s: year must be 1970-9999", o.Start.Format("2006-01-02"))
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Days < 0 || o.Days > 100000 {
		return o, fmt.Errorf("loggen: Options.Days = %d: must be 1-100000", o.Days)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if len(o.Hosts) == 0 {
		if o.Host == "" {
			o.Host = DefaultHost
		}
		o.Hosts = []string{o.Host}
	} else {
		o.Hosts = append([]string(nil), o.Hosts...)
	}
	if len(o.Hosts) > 1000 {
		return o, fmt.Errorf("loggen: Options.Hosts: %d hosts, at most 1000", len(o.Hosts))
	}
	for i, h := range o.Hosts {
		if h == "" || strings.ContainsAny(h, " \t\r\n:[]") {
			return o, fmt.Errorf("loggen: Options.Hosts[%d] = %q: must be a non-empty syslog host name without spaces, ':' or brackets", i, h)
		}
	}
	if o.Host == "" {
		o.Host = o.Hosts[0]
	}
	if o.Users == 0 {
		o.Users = DefaultUsers
	}
	if o.Users < 1 || o.Users > 1_000_000 {
		return o, fmt.Errorf("loggen: Options.Users = %d: must be 1-1000000", o.Users)
	}
	if o.SessionsPerDay == 0 {
		o.SessionsPerDay = DefaultSessionsPerDay
	}
	if o.SessionsPerDay < 1 || o.SessionsPerDay > 100_000_000 {
		return o, fmt.Errorf("loggen: Options.SessionsPerDay = %d: must be 1-100000000", o.SessionsPerDay)
	}
	if o.Format < Classic || o.Format > Export {
		return o, fmt.Errorf("loggen: Options.Format = %d: unknown format", int(o.Format))
	}
	switch {
	case o.CopyStamps < CopyAuto || o.CopyStamps > CopyReception:
		return o, fmt.Errorf("loggen: Options.CopyStamps = %d: unknown", int(o.CopyStamps))
	case o.CopyStamps == CopyAuto && (o.Format == RFC5424 || o.Format == Forward || o.Format == Export):
		o.CopyStamps = CopyReception
	case o.CopyStamps == CopyAuto:
		o.CopyStamps = CopyOriginal
	case o.CopyStamps == CopyReception && !o.Format.Micro():
		return o, fmt.Errorf("loggen: Options.CopyStamps = reception: format %v prints no microseconds (want rfc3339, rfc5424, forward or export)", o.Format)
	case o.CopyStamps == CopyOriginal && o.Format == Export:
		return o, errors.New("loggen: Options.CopyStamps = original: the journal stamps every entry with its reception time (export needs reception)")
	}
	if o.BoundaryBursts && o.CopyStamps != CopyReception {
		return o, fmt.Errorf("loggen: Options.BoundaryBursts: needs CopyStamps reception (have %v with format %v)", o.CopyStamps, o.Format)
	}
	if len(o.Eras) == 0 {
		o.Eras = []Era{Era509}
	} else {
		o.Eras = append([]Era(nil), o.Eras...)
	}
	for i, e := range o.Eras {
		if !e.valid() {
			return o, fmt.Errorf("loggen: Options.Eras[%d] = %d: unknown era", i, int(e))
		}
	}
	rates := []struct {
		name string
		p    *float64
		def  float64
		max  float64
	}{
		{"POP3Share", &o.POP3Share, DefaultPOP3Share, 1},
		{"NoiseRatio", &o.NoiseRatio, DefaultNoiseRatio, 100},
		{"PreLogin", &o.PreLogin, DefaultPreLogin, 1},
		{"RepeatBursts", &o.RepeatBursts, DefaultRepeatBursts, 1},
		{"RsyslogMarkers", &o.RsyslogMarkers, 0, 1},
		{"Twins", &o.Twins, 0, 1},
	}
	for _, r := range rates {
		if math.IsNaN(*r.p) || math.IsInf(*r.p, 0) {
			return o, fmt.Errorf("loggen: Options.%s = %v: must be a finite number", r.name, *r.p)
		}
		if *r.p == 0 {
			*r.p = r.def
		}
		if *r.p > r.max {
			return o, fmt.Errorf("loggen: Options.%s = %v: must be at most %v", r.name, *r.p, r.max)
		}
	}
	if o.Format == Export && o.RsyslogMarkers > 0 {
		return o, errors.New("loggen: Options.RsyslogMarkers: the journal has no rsyslog repeat markers (format export)")
	}
	if o.BigUsers == 0 {
		o.BigUsers = DefaultBigUsers
	}
	if o.BigUsers > o.Users {
		o.BigUsers = o.Users
	}
	if o.MaxLines < 0 {
		return o, fmt.Errorf("loggen: Options.MaxLines = %d: must not be negative", o.MaxLines)
	}
	return o, nil
}

// rate returns a resolved rate with "negative means none" applied.
func rate(p float64) float64 {
	if p < 0 {
		return 0
	}
	return p
}

// EstimatedLinesPerSession is the expected number of lines one
// authenticated session produces with these (resolved) options: its end
// line, noise, pre-login sessions, repeat copies and markers. The CLI uses it
// to size SessionsPerDay for a wanted line count.
func (o Options) EstimatedLinesPerSession() float64 {
	rb := rate(o.RepeatBursts)
	tw := rate(o.Twins)
	return 1 + rate(o.NoiseRatio) + rate(o.PreLogin)*(1+rb*10.5) + (1+tw)*rb*10.5 + tw + (1-rb)*rate(o.RsyslogMarkers)
}
