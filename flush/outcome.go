package flush

import "strconv"

// Level is the severity of a log message.
type Level int

const (
	LevelError Level = iota
	LevelWarn
	LevelInfo
	LevelDebug
)

func (l Level) String() string {
	switch l {
	case LevelError:
		return "error"
	case LevelWarn:
		return "warn"
	case LevelInfo:
		return "info"
	case LevelDebug:
		return "debug"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// Logger receives the Flusher's log messages. The plugin formats them
// Fluent-Bit style. Messages never contain the token. A Logger may be
// called from several goroutines at once.
type Logger func(level Level, msg string)

// Outcome is the result of a Write for the whole batch.
type Outcome int

const (
	// Delivered: every point was accepted (or there was nothing to write).
	Delivered Outcome = iota
	// Retry: a transient or operator-fixable failure; the caller (Fluent Bit)
	// should retry the same records later. Rewriting them is harmless:
	// points are deterministic, so a repeat overwrites itself.
	Retry
	// Drop: the server rejected the points for good (bad data, type
	// conflict, outside retention); retrying cannot help.
	Drop
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Drop:
		return "drop"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Classify is the one outcome mapping (docs/design.md, Delivery and
// retries). status is the
// HTTP status (0 when no response arrived); err is the transport or
// client error (nil for a 2xx answer).
//
//   - 2xx with err == nil: Delivered.
//   - no status (network error, timeout, context deadline or
//     cancellation), 1xx, 3xx, 408, 429, 5xx: Retry.
//   - 401, 403 (bad token), 404 (missing bucket/database): Retry, because an
//     operator can fix the cause without losing the data.
//   - 413: Retry. The writer splits a too-large batch in halves itself and
//     only reports 413 for a single point, which is a configuration problem
//     (a proxy limit) the operator can fix.
//   - 400, 422 and other 4xx: Drop (bad points, field type conflict, points
//     outside the retention policy).
func Classify(status int, err error) Outcome {
	switch {
	case status >= 200 && status < 300:
		if err != nil {
			// Answered but the response could not be read: the outcome is
			// unknown; rewriting is idempotent, so retry.
			return Retry
		}
		return Delivered
	case status == 0, status < 200, status < 400:
		return Retry
	case status == 401, status == 403, status == 404, status == 408, status == 413, status == 429:
		return Retry
	case status >= 500:
		return Retry
	}
	return Drop
}
