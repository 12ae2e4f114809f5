// Package parser turns Courier IMAP/POP3 log lines into traffic events.
//
// It is pure Go, uses the standard library only, and never panics on any
// input. There are two entry points, both methods of an immutable *Parser and
// therefore safe for concurrent use:
//
//   - (*Parser).ParseLine: one raw syslog line as written to a file or
//     printed by journalctl (see Timestamps below), for Fluent Bit's tail
//     input and the CLI.
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
// Timestamps: a line starts with one of these, then one space, the host
// (optional) and the tag:
//
//	classic (BSD syslog)            Jul  3 06:36:47 (or Jul 3)
//	RFC 3339 (rsyslog's file format) 2026-07-03T06:36:47.123456+02:00 (Z, ±hh:mm, ±hhmm)
//	journalctl -o short             Jul 03 06:36:47
//	journalctl -o short-precise     Jul 03 06:36:47.123456
//	journalctl -o short-iso         2026-07-03T06:36:47+0200
//	journalctl -o short-iso-precise 2026-07-03T06:36:47.123456+0200
//	journalctl -o short-full        Fri 2026-07-03 06:36:47 CEST
//	journalctl -o short-unix        1783060607.123456
//
// short is a classic stamp with a zero-padded day, short-iso(-precise) an
// RFC 3339 one. Month and weekday names must be English (run journalctl
// with LC_ALL=C if its locale names the months otherwise). A fraction of a
// second has 1 to 9 digits and sets Event.Precision: time.Second without
// one, time.Millisecond for up to 3 digits, time.Microsecond for up to 6
// (journalctl's), time.Nanosecond beyond. journalctl's lines between
// entries ("-- Boot ... --", "-- No entries --") are Skip without an
// error. short-monotonic and short-delta ("[ 1234.567890] host ...") carry
// no wall time and are not supported: like any line without a timestamp
// above, they are Skip with a *SyntaxError (garbled), and so are cat and
// verbose. with-unit has short-full's stamp but tags lines with unit
// names, which match only when configured as identifiers. export and json
// are structured records (ParseMessage), not lines.
//
// Time: classic stamps (short and short-precise included) are read in
// Options.Location with the year from Options.Year or InferYear(ref). RFC
// 3339 stamps keep their written offset (shared, preallocated zones for
// multiples of 15 minutes; other offsets are returned in UTC, the same
// instant). short-unix stamps are Unix seconds (exactly ten digits, as
// journalctl prints every time from 2001 to 2286), the instant shown in
// Options.Location. short-full stamps: "UTC" and "GMT" mean UTC and a
// numeric zone ("+0530", "+05", "-03", printed for zones without an
// abbreviation) that offset, as RFC 3339 offsets; an abbreviation (3 to 8
// letters, "CEST") is not looked up, since abbreviations are ambiguous
// ("IST", "CST"): the wall time is read in Options.Location, and the
// abbreviation only picks the instant in the hour repeated when clocks go
// back (02:30 CEST, then 02:30 CET). An abbreviation that Options.Location
// does not use at that time (a journal written in another zone) does not
// drop the line: the wall time is still read in Options.Location, so that
// is the zone to configure. The weekday must be an English weekday name
// but is not checked against the date (journalctl always writes the
// matching one; the date decides). The zone is required: a short-full
// line without one has no recognisable timestamp. The vendor (Plesk) epoch
// prefix is skipped; Event.Time always comes from the syslog header.
//
// Zero allocations: the strings of an Event (Host, Daemon, User, IP, Port,
// Keyword) are substrings of the input; they alias it and live as long as it.
// A caller that parsed an unsafe.String view of a reused buffer must copy the
// strings it keeps beyond the buffer's lifetime.
//
// The line formats, per Courier version and transport, are documented with
// their sources in docs/courier-log-formats.md; the decisions on time zones
// and year inference in docs/design.md, Time.
package parser
