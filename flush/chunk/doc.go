// Package chunk decodes the msgpack chunks Fluent Bit hands to an output
// plugin's FLBPluginFlushCtx: a plain concatenation of log events with no
// count and no envelope.
//
// Accepted event layouts (any msgpack array header encoding: fixarray,
// array16 or array32, since Fluent Bit 4.2.8 writes "dd 00 00 00 02"):
//
//	[ts, {record}]                 Fluent Bit < 2.1 ("forward" / V1)
//	[[ts, {metadata}], {record}]   Fluent Bit >= 2.1 (V2); metadata is skipped
//
// The timestamp ts may be an EventTime (msgpack ext type 0 with 8 bytes,
// as fixext8 "d7 00" or ext8 "c7 08 00": big-endian uint32 seconds and uint32
// nanoseconds), a non-negative integer (seconds) or a float (seconds with a
// fraction, rounded to the microsecond because a float64 holds no more).
// Group markers (OpenTelemetry-style group start/end events, seconds
// 0xFFFFFFFF / 0xFFFFFFFE, or -1 / -2 as integers) are skipped and counted.
//
// # Errors
//
// A chunk is decoded strictly: anything that is not the grammar above
// (truncated data, an invalid msgpack prefix, an event that is not a
// 2-element array, a record that is not a map, a timestamp of another type)
// stops the decoder with an *Error that gives the byte offset and the index
// of the event. Decoder.Next returning false with Decoder.Err() == nil means a
// clean end of the buffer, so the caller can always tell "done" from "broken"
// (fluent-bit-go's GetRecord cannot: it returns -1 for both).
//
// # Ownership and concurrency
//
// Nothing is copied. Every []byte a Value returns is a view into the chunk
// passed to NewDecoder (or Reset): it is valid as long as that memory is, and
// the caller must not modify the chunk while views are in use. An Event's
// Record is additionally valid only until the next call of Next, because the
// decoder reuses its entry table; the Values looked up from it stay valid
// with the chunk. A Decoder is used by one goroutine; separate Decoders may
// read the same chunk concurrently. After warm-up, decoding allocates nothing.
package chunk
