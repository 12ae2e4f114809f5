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
