// Package report is the engine of `courier-traffic report`: the classic
// per-user daily traffic report of the sed|uniq|awk script, computed right.
//
// Pieces, each usable alone:
//
//   - Open and EachLine read log inputs: plain or gzip files (detected by
//     their magic bytes, multi-member gzip included) or standard input, as
//     lines in a reused 1 MiB buffer. The slice passed to the callback is
//     valid only during the call. Lines over 4 MiB are cut (never Courier).
//   - Aggregator sums one local day's sessions per user with the plugin's
//     own parser and dedup identity (package flush), keeping only the
//     per-user sums and the bounded dedup seen-set: memory does not grow
//     with the input. Two entry points give the same sums and Stats:
//     AddLine, one line at a time (an unsafe.String view of the line, no
//     copy, no allocation per line; new user names are cloned), and
//     Read/ReadInput, a pipeline for whole inputs: a reader goroutine cuts
//     the input into 1 MiB blocks of whole lines (read straight into
//     reused blocks, or, for a plain file given to ReadInput, mapped into
//     memory: no copy), GOMAXPROCS workers parse blocks in parallel into
//     compact records (with dedup on only the lines holding "rcvd=" are
//     parsed, found with SIMD byte searches over the block; a line
//     identical to the one before it replays that line's outcome, a line
//     of another day is skipped after its timestamp, and for one service
//     the other service's lines are skipped unparsed), and the
//     calling goroutine applies what depends on order, the dedup seen-set,
//     in input order, then sums. At most 2*GOMAXPROCS+2 blocks exist, so
//     memory stays flat whatever the input's size. The seen-set is a
//     flush.RepeatSet, the plugin's own definition of a repeat (tolerance,
//     window, maximum; no clock: the report never retries), keyed by
//     flush.LocalKey of each record (equal when flush.Key is, and cheaper
//     to compute). The dedup window before the report's day is read too,
//     to seed it: a session counts on the day of its first copy.
//     An Aggregator belongs to one goroutine: Read starts and ends its
//     own goroutines before it returns.
//   - AddMessage accounts one structured record (identifier, host, time,
//     message) with the same filters and dedup as AddLine; ReadJournal runs
//     journalctl (`-o export`, streamed) and hands every Courier record of
//     a journal, a journal directory or journal files to a callback
//     (DecodeJournalExport decodes the stream; DecodeJournalJSON reads
//     `-o json` for saved output). The CLI's --journal uses both.
//   - QueryInflux computes the same per-user sums from the points the
//     plugin (or `courier-traffic backfill`) wrote, with a Flux query that
//     runs on InfluxDB 1.8.10 (Flux 0.65) and 2.x.
//   - NewTable ranks the sums and writes them as the classic text report
//     (byte for byte the script's format), JSON or CSV.
//
// Semantics, where the classic script is wrong (see the command's README):
// 64-bit sums, RFC 3339 and journald timestamps, repeats that are not
// adjacent or carry their own sub-second stamps (flush.RepeatSet, not uniq
// on the extracted tuple), user names
// with commas or blanks, distinct sessions that share user, bytes and
// second. Where it is right (classic syslog lines, user names without
// blanks or commas, sums under 2^31, only adjacent repeats) the text output
// is byte-identical to the script's; the tests run the script to check.
//
// Parse functions (ParseDate, ParseUnit, ParseThreshold, ParseService,
// ParseFormat) return errors that name the flag's value; nothing in the
// package panics on bad input.
package report
