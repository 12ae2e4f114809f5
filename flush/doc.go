// Package flush turns Courier traffic events into InfluxDB points and writes
// them: configuration (LoadConfig), record identity and dedup (RepeatSet,
// Dedup, Key, Identity, PointTime), line-protocol encoding (Encoder), batching, blocking
// writes and the outcome mapping (Classify). The plugin and the CLI share it.
//
// # Flow and ownership
//
// One Flusher per plugin instance or CLI run (New; Close at the end). For
// each flush: NewBatch, then AddLine (raw syslog lines) or AddMessage
// (structured records) per record, AddInvalid for unreadable records, then
// Write, which returns Delivered, Retry or Drop for the whole batch. The
// strings handed to a Batch are kept without copying until Write returns;
// the Batch is recycled by Write and must not be used afterwards.
//
// # Concurrency
//
// All Flusher methods are safe for concurrent use (Fluent Bit flushes on
// several workers); a Batch belongs to one goroutine. Dedup and
// RepeatTracker are safe for concurrent use; an Encoder is not.
//
// # What becomes a point
//
// Add* never fail. Non-traffic lines, syntax errors (logged at debug),
// unauthenticated sessions (unless count_unauthenticated), sessions from
// exclude_ips and repeats are counted in Stats and skipped. A session end
// without rcvd/sent (courier-imap < 4.1.0) still becomes a point with the
// fields it has. A point whose strings the line protocol cannot carry
// (invalid UTF-8, control characters, a tag value ending in a backslash,
// which no line-protocol escaping can represent) is counted as Rejected and
// skipped; the rest of the batch is written.
//
// # Repeats and deterministic times (docs/repeats.md)
//
// One definition of a repeat serves the plugin, backfill and the CLI
// report (RepeatSet): a record repeats an earlier one when every field but
// the time is equal (Key: host, daemon, service, event, user, ip, port,
// counters, TLS flag) and its time is less than dedup_tolerance (1s) from
// another copy of the same session, chained, so a burst collapses however
// long it runs. With second stamps this is "same fields, same second"; with
// a logger's microsecond reception stamps on each copy it is what makes
// the copies one session. rsyslog repeat markers are dropped as repeats.
//
// A session's point is anchored at the first copy this process saw: its
// time is that copy's second plus Identity mod 1s, where Identity hashes
// the fields and that second, and the K-th distinct session of equal
// fields in one second takes ID.Copy(K). So the copies of a session that
// fall in one second land on one point whichever of them comes first:
// a retried chunk, a restart that re-reads, a back-fill over live data and
// the same file read twice store no new point. What can still double: a
// process that starts reading inside a burst, past the second the earlier
// process anchored the session in (docs/repeats.md). Chains are committed
// to the seen-set only for requests InfluxDB accepted (so a retried chunk
// is not mistaken for repeats of itself); a repeat of an already committed
// chain is final at once. With dedup off nothing is dropped: every record
// is a session of its own, numbered by K within its second, and repeat
// markers expand to N copies ("last message repeated" uses the previous
// line of the batch, or for a marker that starts a batch the last session
// of the same host and daemon seen at the end of an earlier batch).
// Trade-off: with dedup off a replay of already delivered data counts
// again.
//
// # Writes and outcomes (docs/design.md)
//
// Bodies are encoded with line-protocol/v2 (an Encoder reuses the
// library's output for the parts of a point that repeat, such as the
// series prefix; see Encoder.Append) and sent with
// influxdb-client-go/v2's WriteAPIBlocking (never the async WriteAPI: its
// in-memory retry buffer loses data and hides backpressure), nanosecond
// precision, gzip per influx_gzip, in requests of batch_size points. 413
// splits a request in halves recursively. Every Retry and Drop is logged at
// error level with the status and the server's message; the token never
// appears in a log message or an error.
package flush
