// Command courier-loggen writes a deterministic Courier IMAP/POP3 syslog file
// and, with -truth, the exact totals a correct consumer must find in it.
//
// It is the command-line face of internal/loggen: every Options field has a
// flag, the flag defaults are the library defaults, and an explicit 0 for a
// rate or -big means "none". Equal flags give byte-identical files.
//
//	courier-loggen -seed 1 -start 2026-07-28 -days 7 -format mixed -eras 509,42,60 \
//	    -tz Europe/Berlin -repeats 0.02 -markers 0.01 -o mail.log -truth mail.truth.json
//	courier-loggen -lines 10000000 -days 30 -q -o /tmp/10m.log     # benchmark input
//
//	courier-loggen -format rfc3339 -copy-stamps reception -boundary-bursts -twins 0.05 -o mail.log
//	courier-loggen -format rfc5424 -tz Europe/Berlin -o syslog.tcp          # for Fluent Bit's syslog input (TCP)
//	courier-loggen -format export -days 2 | /lib/systemd/systemd-journal-remote --output=/tmp/x.journal -
//
// Formats (-format): classic ("Jul  3 06:36:47 host imapd: ..."), rfc3339
// (rsyslog's RSYSLOG_FileFormat, microseconds), shortiso (journalctl -o
// short-iso), mixed (one of the first three per line, some classic lines
// with [pid]), rfc5424 ("<22>1 2026-07-03T06:36:47.100001+02:00 host imapd
// - - - LOGOUT, ..."), forward (RSYSLOG_ForwardFormat: "<22>2026-07-03T06:36:47.100001+02:00
// host imapd: LOGOUT, ...") and export (journalctl -o export entries, each
// ended by an empty line, as systemd-journal-remote reads them).
//
// Repeat bursts (-repeats): -copy-stamps original writes byte-identical
// copies carrying the original's time; reception gives every copy its own
// microsecond stamp, 1-400 µs (sometimes a few ms, never 500 ms or more)
// after the copy before it, some bursts crossing a second; auto (the
// default) is reception for rfc5424, forward and export, original
// otherwise. reception needs a microsecond format (rfc3339, rfc5424,
// forward, export); export needs reception. -boundary-bursts adds, per
// day, a session ending just before local midnight and one just before a
// minute boundary, each with 100-299 reception-stamped copies across it.
// -twins P gives a session, with probability P, a twin: a distinct later
// session whose line has every field but the time equal, 1-4 s after the
// original's last copy. Distinct sessions with every field but the time
// equal are never less than 1 s apart, so a repeat tolerance of 1 s is
// exact on the generated logs. -markers needs a format other than export.
//
// -lines N writes exactly N lines; unless -sessions is given, the sessions
// per day are sized so that N lines span about -days days. The log streams
// through a fixed buffer: memory stays flat whatever N is.
//
// The truth JSON holds the line counts, first/last timestamps, and arrays
// "sessions", "prelogin" and "hosts" of {day, service, user, sessions,
// rcvd, sent} rows sorted by day, host, service and user (see
// loggen.Truth.MarshalJSON); loggen.Truth.UnmarshalJSON reads it back.
//
// Exit status: 0 on success, 2 for bad flags, 1 when writing failed.
package main
