package flush

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/parser"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Tag and field keys of the session schema (DESIGN.md section 4).
const (
	tagHost      = "host"
	tagService   = "service"
	tagUser      = "user"
	fieldRcvd    = "rcvd"
	fieldSent    = "sent"
	fieldHeaders = "headers"
	fieldBody    = "body"
	fieldTop     = "top"
	fieldRetr    = "retr"
	fieldDur     = "duration"
	fieldTLS     = "tls"
	fieldIP      = "ip"
	fieldPort    = "port"
	fieldEvent   = "event"
	fieldDaemon  = "daemon"
)

// Encoder appends session points in line protocol, through the
// line-protocol/v2 encoder (never string building). The zero value is not
// usable: use NewEncoder. An Encoder is used by one goroutine at a time.
type Encoder struct {
	enc         lineprotocol.Encoder
	measurement string
	lowerUser   bool
	err         error // first error of the current point not seen by enc

	badMeasurement error // set by NewEncoder: every Append fails with it
}

var errInvalidUTF8 = errors.New("invalid UTF-8")

// NewEncoder returns an Encoder for measurement; lowerUser lower-cases the
// user tag (user_case lower).
func NewEncoder(measurement string, lowerUser bool) *Encoder {
	e := &Encoder{measurement: measurement, lowerUser: lowerUser}
	e.enc.SetPrecision(lineprotocol.Nanosecond)
	// Lax mode skips the encoder's validation of the measurement, the keys
	// and the tag values: the first two are checked once here (the keys are
	// constants), the tag values by validTagValue on every point. Profiles
	// showed the repeated key checks at ~20% of the encoding time.
	e.enc.SetLax(true)
	if !validTagValue(measurement) {
		e.badMeasurement = fmt.Errorf("invalid measurement %q", measurement)
	}
	return e
}

// validTagValue is the encoder's own check (validMeasurementOrKey), which
// lax mode skips: non-empty, valid UTF-8, no control characters, and no
// trailing backslash (it would escape the separator after it).
func validTagValue(s string) bool {
	if s == "" || s[len(s)-1] == '\\' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// addTag adds a tag after validating its value (lax mode).
func (e *Encoder) addTag(key, value string) {
	if !validTagValue(value) {
		if e.err == nil {
			e.err = fmt.Errorf("invalid tag value %s=%q", key, value)
		}
		return
	}
	e.enc.AddTag(key, value)
}

// Append appends to dst one point for ev stamped t (normally PointTime) and
// returns the extended slice. Schema: tags host (omitted when ev.Host is
// ""), service, user ("(none)" when ev.User is ""); integer fields rcvd and
// sent (only when the line carried them, parser.HasBytes), headers and body
// (IMAP) or top and retr (POP3) when parser.HasContent, duration when
// parser.HasTime; tls (bool); ip, port, event, daemon (strings, omitted when
// empty). An event without byte counters is still a point, with the fields
// it has: the session happened and its duration and content counters are
// real.
//
// A value the line protocol cannot carry (invalid UTF-8, control
// characters, a tag value ending in a backslash) makes Append return dst
// unchanged and the error; the caller counts the point as rejected.
// Append does not retain dst or any string of ev.
func (e *Encoder) Append(dst []byte, ev *parser.Event, t time.Time) ([]byte, error) {
	if e.badMeasurement != nil {
		return dst, e.badMeasurement
	}
	enc := &e.enc
	enc.SetBuffer(dst)
	enc.StartLine(e.measurement)
	if ev.Host != "" {
		e.addTag(tagHost, ev.Host)
	}
	e.addTag(tagService, ev.Service.String())
	user := ev.User
	switch {
	case user == "":
		user = unauthenticatedUserValue
	case e.lowerUser:
		// ToLower returns its argument unchanged (no allocation) when there
		// is nothing to lower, which is the common case.
		user = strings.ToLower(user)
	}
	e.addTag(tagUser, user)
	if ev.Has&parser.HasBytes != 0 {
		enc.AddField(fieldRcvd, lineprotocol.IntValue(ev.Rcvd))
		enc.AddField(fieldSent, lineprotocol.IntValue(ev.Sent))
	}
	if ev.Has&parser.HasContent != 0 {
		if ev.Service == parser.POP3 {
			enc.AddField(fieldTop, lineprotocol.IntValue(ev.Top))
			enc.AddField(fieldRetr, lineprotocol.IntValue(ev.Retr))
		} else {
			enc.AddField(fieldHeaders, lineprotocol.IntValue(ev.Headers))
			enc.AddField(fieldBody, lineprotocol.IntValue(ev.Body))
		}
	}
	if ev.Has&parser.HasTime != 0 {
		enc.AddField(fieldDur, lineprotocol.IntValue(ev.Duration))
	}
	enc.AddField(fieldTLS, lineprotocol.BoolValue(ev.TLS))
	e.addString(fieldIP, ev.IP)
	e.addString(fieldPort, ev.Port)
	e.addString(fieldEvent, ev.Kind.String())
	e.addString(fieldDaemon, ev.Daemon)
	enc.EndLine(t)
	err := enc.Err()
	if err == nil {
		err = e.err
	}
	if err != nil {
		enc.ClearErr()
		e.err = nil
		// The encoder already cut its partial line; on our own error the
		// complete line sits past len(dst) and is simply not returned.
		return dst, err
	}
	return enc.Bytes(), nil
}

// addString adds a string field without copying s: NewValueFromBytes keeps
// a reference and AppendBytes only reads it, before Append returns. The
// UTF-8 check stays on; a failure poisons the line like any encoder error.
func (e *Encoder) addString(key, s string) {
	if s == "" {
		return
	}
	v, err := lineprotocol.NewValueFromBytes(lineprotocol.String, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("field %s: %w", key, errInvalidUTF8)
		}
		return
	}
	e.enc.AddField(key, v)
}
