// Package loggen generates deterministic, realistic Courier IMAP/POP3 syslog
// files together with their exact truth: per local day, service and user,
// the number of sessions and the rcvd/sent byte sums that a correct
// consumer must find.
//
// Tests and benchmarks of the parser, flush, plugin and CLI use it instead
// of hand-made totals. Its truth is independent of them: the package
// imports neither parser nor flush, and is pure Go with the standard
// library only.
//
// # Contract
//
//   - Deterministic: equal Options give byte-identical output and equal
//     Truth (math/rand/v2 PCG seeded from Options.Seed; no clock, no map
//     iteration order, no process-dependent hashing in the output path).
//     The heavy-tailed counters use math.Exp/Log, whose last bit may differ
//     between GOARCHes, so byte-identity (and the golden file) is promised
//     per architecture; the truth always matches the text. Options added
//     later (CopyStamps reception, BoundaryBursts, Twins, the formats
//     RFC5424, Forward and Export) leave the output of options without them
//     as it was.
//   - Streaming: Generate and WriteLog hold only the sessions still open
//     (a min-heap of scheduled lines) and the identities of the last few
//     seconds, so memory does not grow with Days or MaxLines; the Truth
//     maps grow with days x users.
//   - Time order: lines appear in order of their logged time, except the
//     interleaved copies of the repeat bug with CopyOriginal, which carry
//     their original's timestamp and trail it by at most three seconds of
//     log. With CopyReception every copy has its own reception stamp, later
//     than the copy before it by less than 500 ms (mostly 1-400 µs), and the
//     whole log is in time order; some bursts cross a second, and with
//     BoundaryBursts every day has bursts across a minute boundary and
//     across local midnight.
//   - Truth counts a line when it is written, so a run stopped by MaxLines
//     or by an emit error is still exact. Sessions holds authenticated
//     session ends with rcvd=/sent= (Era30 lines have none: they are
//     counted in NoBytesSessions and NoiseLines only); PreLogin holds the
//     pre-login IMAP "LOGOUT, ip=[..], port=[..], rcvd=, sent=" sessions.
//   - Repeats, and a 1 s window that is exact: a traffic line repeats an
//     earlier one when every field but the time is equal (host, daemon,
//     message; a Plesk epoch prefix counts as time) and its logged time is
//     less than 1 s from the previous such line (chained). The only such
//     lines are the deliberate copies of the Courier repeat bug
//     (RepeatLines; the truth counts their session once) and rsyslog
//     markers. Two distinct sessions never have every field but the time
//     equal while their logged times (at the format's precision) are less
//     than 1 s apart, nor while a copy of the earlier one is still to come:
//     when a port-less era or a webmail page view would make that happen,
//     sent is re-drawn. So a consumer with any repeat tolerance from 500 ms
//     (no step inside a burst is that long) up to 1 s finds the exact
//     truth; at second precision that is "same printed second". An
//     identical noise line in the same second is left out. Distinct
//     sessions of one user in the same second with different ports do
//     occur (webmail bursts; counted in Truth.SameSecond), and Twins makes
//     distinct sessions with every field but the time equal 1-4 s apart.
//   - Year-less Classic lines: the consumer infers the year from a
//     reference time after the last line (Truth.Last), which makes a run
//     from Dec 30 over New Year come out right.
//
// # Formats
//
// Classic, RFC3339 (RSYSLOG_FileFormat), ShortISO and Mixed are log files;
// RFC5424 and Forward (RSYSLOG_ForwardFormat) are syslog messages as rsyslog
// forwards them, one per line, for Fluent Bit's syslog input over TCP;
// Export is a journal export stream, one entry per Line, that
// `systemd-journal-remote --output=FILE.journal -` turns into a journal
// file for `journalctl --file` and Fluent Bit's systemd input. The
// microsecond formats (Format.Micro) can carry reception stamps; the
// forwarded and journal formats do by default.
//
// Generate and WriteLog are safe to call concurrently (no shared state);
// a Truth is a plain value whose maps the caller owns.
//
// The line formats, per courier-imap era and transport, follow
// docs/courier-log-formats.md.
package loggen
