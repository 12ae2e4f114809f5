// Package flush turns Courier traffic events into InfluxDB points and writes
// them: configuration (LoadConfig), record identity and dedup (Dedup,
// Identity, PointTime), line-protocol encoding (Encoder), batching, blocking
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
// # Dedup and deterministic times (DESIGN.md section 3)
//
// A record's identity is a 128-bit MurmurHash3 of its host, daemon,
// service, event, user, ip, port, counters, TLS flag and time truncated to
// the logged precision. The point time is the logged time plus identity
// mod precision: distinct sessions in one second get distinct points, the
// same line written twice lands on the same point. With dedup on, a
// record whose identity was committed before or appears earlier in the
// same batch is dropped (Stats.Repeats), and rsyslog repeat markers are
// dropped as repeats. Identities are committed only for requests InfluxDB
// accepted, so a retried chunk is not mistaken for repeats. With dedup off
// nothing is dropped: the k-th occurrence of an identity (counting
// committed ones) is stamped from ID.Copy(k), and repeat markers expand to N
// copies ("last message repeated" uses the previous line of the batch, or
// for a marker that starts a batch the last session of the same host and
// daemon seen at the end of an earlier batch). Trade-off: with dedup off a
// replay of already delivered data is counted again.
//
// # Writes and outcomes (DESIGN.md section 2)
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
