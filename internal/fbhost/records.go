package fbhost

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record is one record of the host's record-file format, which the host
// packs into a Fluent Bit chunk (flush INST FILE LAYOUT).
type Record struct {
	// TS is the record time: e:SEC.NSEC (EventTime, see EventTime),
	// i:SEC (integer), f:FLOAT, or the group markers g:start and g:end.
	TS string
	// KV holds keys and values in turn. Keys are plain text; values carry
	// their msgpack type as a prefix: "s:text" (str), "b:text" (bin),
	// "i:-5" (int), "u:7" (uint). Any byte may appear after the prefix.
	KV []string
}

// maxPairs is what host.c reads of one record line (512 tokens: the time
// and 255 pairs); it silently drops the rest, so AppendRecord refuses more.
const maxPairs = 255

// EventTime formats t as an EventTime record time, e:SEC.NSEC. The host
// reads SEC and NSEC as unsigned integers (NSEC is not zero-padded: e:5.7
// is 5 s + 7 ns), so t must lie in [1970, 2106).
func EventTime(t time.Time) string { return string(AppendEventTime(nil, t)) }

// AppendEventTime appends EventTime(t) to b without allocating.
func AppendEventTime(b []byte, t time.Time) []byte {
	b = append(b, "e:"...)
	b = strconv.AppendInt(b, t.Unix(), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(t.Nanosecond()), 10)
}

// needsEscape reports whether the host's record reader needs c escaped:
// space separates tokens, '\n' ends the line, '%' starts an escape; the
// other control and non-ASCII bytes are escaped so that a record file is
// printable.
func needsEscape(c byte) bool { return c <= ' ' || c >= 0x7f || c == '%' }

// Escape percent-encodes (%XX, upper-case hex) every byte of s but
// printable ASCII other than '%'.
func Escape(s string) string { return string(AppendEscaped(nil, s)) }

// AppendEscaped appends Escape(s) to b without allocating beyond b's
// growth.
func AppendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

// AppendRecord appends r as one line (newline included) of the host's
// record-file format. It returns b unchanged and an error naming the
// problem when TS is not one of the host's forms or needs escaping, KV has
// an odd length or more than 255 pairs, or a value lacks its type prefix.
func AppendRecord(b []byte, r Record) ([]byte, error) {
	if err := checkTS(r.TS); err != nil {
		return b, err
	}
	if len(r.KV)%2 != 0 {
		return b, fmt.Errorf("fbhost: record at %s: %d keys and values, want pairs", r.TS, len(r.KV))
	}
	if len(r.KV)/2 > maxPairs {
		return b, fmt.Errorf("fbhost: record at %s: %d pairs, the host reads at most %d", r.TS, len(r.KV)/2, maxPairs)
	}
	for i := 1; i < len(r.KV); i += 2 {
		if v := r.KV[i]; len(v) < 2 || v[1] != ':' || !strings.ContainsRune("sbiu", rune(v[0])) {
			return b, fmt.Errorf("fbhost: record at %s: value of key %q has no type prefix (s:, b:, i:, u:)", r.TS, r.KV[i-1])
		}
	}
	out := append(b, r.TS...)
	for i, x := range r.KV {
		out = append(out, ' ')
		if i%2 == 1 {
			out = append(out, x[:2]...)
			x = x[2:]
		}
		out = AppendEscaped(out, x)
	}
	return append(out, '\n'), nil
}

// checkTS accepts the record-time forms host.c's pack_ts reads.
func checkTS(ts string) error {
	for i := 0; i < len(ts); i++ {
		if needsEscape(ts[i]) {
			return fmt.Errorf("fbhost: record time %q: byte %#x is not allowed (the host does not unescape times)", ts, ts[i])
		}
	}
	switch {
	case ts == "g:start", ts == "g:end":
		return nil
	case len(ts) > 2 && ts[1] == ':' && strings.ContainsRune("eif", rune(ts[0])):
		return nil
	}
	return fmt.Errorf("fbhost: record time %q: want e:SEC.NSEC, i:SEC, f:FLOAT, g:start or g:end", ts)
}
