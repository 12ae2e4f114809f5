// Package parser turns Courier IMAP/POP3 log lines into traffic events.
//
// It is pure Go, uses the standard library only, and never panics on any
// input. There are two entry points, both methods of an immutable *Parser and
// therefore safe for concurrent use:
//
//   - (*Parser).ParseLine: one raw syslog line as written to a file
//     (classic "Jul  3 06:36:47 host tag: msg", RFC 3339 or journalctl
//     short-iso headers), for Fluent Bit's tail input and the CLI.
//     ParseLineState is the same with a per-goroutine State: a memo of the
//     last converted timestamp (runs of lines share a second; a stamp of
//     the same date with another clock is converted from the date), an
//     optional time window that skips lines stamped outside it right after
//     the stamp, and an optional service filter that skips the other
//     service's lines unparsed; the CLI report's workers use all three,
//     the plugin's batches the memo.
//   - (*Parser).ParseMessage: the parts of a structured record (identifier,
//     host, time, message), for Fluent Bit's syslog and systemd inputs.
//
// Each call answers one Result: Traffic (a session-end line with its counters,
// written into the caller's *Event), Skip (a line that is not Courier traffic:
// postfix, LOGIN, LOGIN FAILED, Connection, couriertls, ...), or Repeat (an
// rsyslog repeat marker, carrying its count). A line that claims to be Courier
// traffic but is broken returns a *SyntaxError that gives the byte position.
//
// Errors and skips: a blank line is Skip. A non-blank line without a
// recognisable timestamp is Skip with a *SyntaxError (the caller counts it
// as garbled). A line of another identifier is Skip without looking at the
// message, so foreign lines cost little. A Courier line whose counters are
// not non-negative int64 decimals, that repeats a field, has rcvd without
// sent (or headers without body, top without retr), or whose length equals
// a logger limit (505, 511, 800, 1023 bytes) without the TLS flag last is
// Skip with a *SyntaxError: a possibly cut line never yields a wrong number.
// Lines without counters (POP3 pre-login QUIT, pre-auth Disconnected) are
// Skip without error.
//
// Users are logged unescaped: the user is everything between "user=" and
// the rightmost ", ip=[", kept byte for byte (spaces, commas, case).
//
// Time: classic stamps are read in Options.Location with the year from
// Options.Year or InferYear(ref). RFC 3339 stamps keep their written offset
// (shared, preallocated zones for multiples of 15 minutes; other offsets are
// returned in UTC, the same instant). The vendor (Plesk) epoch prefix is
// skipped; Event.Time always comes from the syslog header.
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
