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
//     per architecture; the truth always matches the text.
//   - Streaming: Generate and WriteLog hold only the sessions still open
//     (a min-heap of scheduled lines), so memory does not grow with Days or
//     MaxLines; the Truth maps grow with days x users.
//   - Time order: lines appear in order of their logged time, except the
//     interleaved copies of the repeat bug, which carry their original's
//     timestamp and trail it by at most three seconds of log.
//   - Truth counts a line when it is written, so a run stopped by MaxLines
//     or by an emit error is still exact. Sessions holds authenticated
//     session ends with rcvd=/sent= (Era30 lines have none: they are
//     counted in NoBytesSessions and NoiseLines only); PreLogin holds the
//     pre-login IMAP "LOGOUT, ip=[..], port=[..], rcvd=, sent=" sessions.
//   - Repeats: the only byte-identical lines are the deliberate copies of
//     the Courier repeat bug (RepeatLines) and rsyslog markers; the truth
//     counts their session once. Distinct lines never share host, daemon,
//     logged second and message: when a port-less era makes two sessions
//     print the same identity (user, ip, port when printed, rcvd, sent) in
//     one second, sent is re-drawn, and an identical noise line is left
//     out. Distinct sessions of one user in the same second with different
//     ports do occur (webmail bursts; counted in Truth.SameSecond).
//   - Year-less Classic lines: the consumer infers the year from a
//     reference time after the last line (Truth.Last), which makes a run
//     from Dec 30 over New Year come out right.
//
// Generate and WriteLog are safe to call concurrently (no shared state);
// a Truth is a plain value whose maps the caller owns.
//
// The line formats, per courier-imap era and transport, follow
// shared/reference/courier-log-formats.md (sections 2, 4, 6, 7); what counts
// as a repeat follows shared/DESIGN.md section 3.
package loggen
