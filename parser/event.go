package parser

import (
	"strconv"
	"time"
)

// Result says what a parse call found.
type Result uint8

const (
	// Skip: not a Courier traffic line (another daemon, LOGIN, LOGIN FAILED,
	// Connection, Disconnected, couriertls, connection-limit alerts, a POP3
	// pre-login LOGOUT without counters, ...). The Event is not meaningful.
	Skip Result = iota
	// Traffic: a session end with counters; the Event is filled.
	Traffic
	// Repeat: an rsyslog repeat marker. Event.Repeats holds N, the number of
	// suppressed copies (the original line plus N copies were logged).
	// For "message repeated N times: [ msg ]" whose msg is a traffic line,
	// Event also holds that line's parsed fields (Event.Service != 0). For
	// "last message repeated N times" (no msg), Event.Service is 0: the
	// marker stands for the previous line of the same Host (and Daemon, if
	// the marker carried one), which the caller must remember.
	// A "message repeated" marker whose msg is not traffic returns Skip.
	Repeat
)

func (r Result) String() string {
	switch r {
	case Skip:
		return "skip"
	case Traffic:
		return "traffic"
	case Repeat:
		return "repeat"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Service is the protocol of a session.
type Service uint8

const (
	ServiceUnknown Service = iota
	IMAP
	POP3
)

// String returns "imap", "pop3" or "" (unknown): the values of the `service` tag.
func (s Service) String() string {
	switch s {
	case IMAP:
		return "imap"
	case POP3:
		return "pop3"
	}
	return ""
}

// Kind is how a session ended.
type Kind uint8

const (
	KindUnknown  Kind = iota
	Logout            // "LOGOUT"
	Disconnected      // "DISCONNECTED"
	Timeout           // "TIMEOUT"
	Shutdown          // "NOTICE: Disconnected during shutdown by signal"
	IOError           // POP3 "I/O error disconnect"
	End               // courier-imap 6.0 POP3 "disc" (the end reason is lost)
	Other             // an unknown leading keyword with a valid field suffix; see Event.Keyword
)

// String returns the value of the `event` field: LOGOUT, DISCONNECTED,
// TIMEOUT, SHUTDOWN, IOERROR, END, OTHER ("" for KindUnknown).
func (k Kind) String() string {
	switch k {
	case Logout:
		return "LOGOUT"
	case Disconnected:
		return "DISCONNECTED"
	case Timeout:
		return "TIMEOUT"
	case Shutdown:
		return "SHUTDOWN"
	case IOError:
		return "IOERROR"
	case End:
		return "END"
	case Other:
		return "OTHER"
	}
	return ""
}

// Field bits in Event.Has: which optional fields the line carried.
const (
	HasPort    uint8 = 1 << iota // port=[...] (IMAP session ends since 5.0.9, POP3 since 4.2.0)
	HasBytes                     // rcvd= and sent= (since courier-imap 4.1.0)
	HasTime                      // time= (since 3.0.8)
	HasContent                   // headers=/body= (IMAP) or top=/retr= (POP3); absent on pre-login lines
)

// Event is one Courier session end.
//
// All strings alias the parsed input (see the package doc). The zero value
// is an empty event; parse calls overwrite every field.
type Event struct {
	Time      time.Time     // when the line was logged, in the parser's zone for year-less stamps
	Precision time.Duration // precision of Time as logged: time.Second, time.Millisecond, time.Microsecond or time.Nanosecond
	Host      string        // syslog host ("" when the transport gave none)
	Daemon    string        // syslog identifier (imapd, pop3d-ssl, ...), without [pid]
	Service   Service
	Kind      Kind
	Keyword   string // the leading keyword as logged ("LOGOUT", "disc", "I/O error disconnect", ...)
	User      string // as logged, unescaped; "" for pre-login sessions
	IP        string // inside ip=[...], e.g. "::ffff:192.0.2.7"
	Port      string // inside port=[...], "" when not logged (a string: Courier logs "N/A" too)

	Rcvd, Sent    int64 // bytes read from / written to the client (HasBytes)
	Headers, Body int64 // IMAP message header/body bytes sent
	Top, Retr     int64 // POP3 message bytes sent for TOP/RETR
	Duration      int64 // session length in seconds from time= (HasTime)
	TLS           bool  // starttls=1 (IMAP) or stls=1 (POP3): the session used TLS
	Has           uint8 // HasPort | HasBytes | HasTime | HasContent

	Repeats int // for Result Repeat: N, the number of suppressed copies
}

// SyntaxError reports a line that claims to be Courier traffic but is broken:
// a counter that is not a non-negative int64, a missing field, a line cut
// short by courierlogger's 511-byte limit, ...
type SyntaxError struct {
	Pos int    // byte offset in the input where the problem was found
	Msg string // what is wrong, naming the field
}

func (e *SyntaxError) Error() string {
	return "courier line: byte " + strconv.Itoa(e.Pos) + ": " + e.Msg
}

// DefaultIdentifiers are the syslog identifiers Courier's IMAP and POP3
// servers log under (see docs/courier-log-formats.md, From the daemon to
// syslog).
var DefaultIdentifiers = []string{
	"imapd", "imapd-ssl", "pop3d", "pop3d-ssl",
	"imaplogin", "courierpop3login", "couriertcpd",
}

// Options configure a Parser. The zero value means: DefaultIdentifiers and
// the local time zone (time.Local).
type Options struct {
	// Identifiers are the syslog identifiers accepted as Courier. Matching is
	// exact (case-sensitive); a [pid] suffix is always allowed.
	Identifiers []string
	// Location is the zone of year-less, zone-less (classic syslog)
	// timestamps. RFC 3339 stamps carry their own offset.
	Location *time.Location
	// Year, when non-zero, is used for every year-less timestamp instead of
	// inferring it from the reference time (the CLI's --year).
	Year int
}
