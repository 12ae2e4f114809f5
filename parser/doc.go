// Package parser turns Courier IMAP/POP3 log lines into traffic events.
//
// It is pure Go, uses the standard library only, and never panics on any
// input. There are two entry points, both methods of an immutable *Parser and
// therefore safe for concurrent use:
//
//   - (*Parser).ParseLine: one raw syslog line as written to a file
//     (classic "Jul  3 06:36:47 host tag: msg", RFC 3339 or journalctl
//     short-iso headers), for Fluent Bit's tail input and the CLI.
//   - (*Parser).ParseMessage: the parts of a structured record (identifier,
//     host, time, message), for Fluent Bit's syslog and systemd inputs.
//
// Each call answers one Result: Traffic (a session-end line with its counters,
// written into the caller's *Event), Skip (a line that is not Courier traffic:
// postfix, LOGIN, LOGIN FAILED, Connection, couriertls, ...), or Repeat (an
// rsyslog repeat marker, carrying its count). A line that claims to be Courier
// traffic but is broken returns a *SyntaxError that gives the byte position.
//
// Zero allocations: the strings of an Event (Host, Daemon, User, IP, Port,
// Keyword) are substrings of the input; they alias it and live as long as it.
// A caller that parsed an unsafe.String view of a reused buffer must copy the
// strings it keeps beyond the buffer's lifetime.
//
// The line formats, per Courier version and transport, are documented with
// their sources in shared/reference/courier-log-formats.md; the decisions on
// time zones and year inference in shared/DESIGN.md section 5.
package parser
