package report

import (
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// AddMessage accounts one structured record (a journal record: see
// ReadJournal) given as its parts: the syslog identifier (a "[pid]"
// suffix is ignored), the host, the record's time t with the precision it
// was logged with (time.Microsecond for the journal; 0 means time.Second)
// and the message text. It is AddLine for a record that arrives already
// split, with the same filters in the same order and the same Stats: one
// more Lines; with dedup on, a message without "rcvd=" is Skipped, one
// outside the report's day window OtherDay, one of the other service's
// daemons that cannot be this service's OtherService (all three before
// the message is parsed, as AddLine does); then the aggregator's parser
// (parser.ParseMessage) and the same add and repeat paths as a line.
// TestAddMessageMatchesAddLine feeds the same records both ways.
//
// One difference, with dedup off only: a "last message repeated N times"
// marker stands for copies of the line before it, which AddLine keeps;
// after a message there is no such line, so the marker stands for nothing
// (journald never writes these markers: they are syslog daemons' own).
//
// The strings are read only during the call: the Aggregator copies what
// it keeps.
func (a *Aggregator) AddMessage(ident, host string, t time.Time, prec time.Duration, msg string) {
	a.stats.Lines++
	// A message is no line a later "last message repeated" marker may
	// stand for (see above).
	a.prevOK = false
	if a.f.dedup && !strings.Contains(msg, "rcvd=") {
		// AddLine's first filter: only a session end with rcvd= can count.
		a.stats.Skipped++
		return
	}
	// AddLine's parser.State filters, on the parts: the window (the
	// report's day; set only with dedup on) and the service filter.
	st := &a.st
	if st.Until > st.Since {
		if s := t.Unix(); s < st.Since || s >= st.Until {
			a.stats.OtherDay++
			return
		}
	}
	if st.Service != parser.ServiceUnknown && messageOtherService(st.Service, ident, msg) && a.knownIdent(ident) {
		a.stats.OtherService++
		return
	}
	res, err := a.p.ParseMessage(ident, host, t, prec, msg, &a.ev)
	switch {
	case err != nil:
		a.stats.SyntaxErrors++
	case res == parser.Traffic:
		a.add(&a.ev, 1, true)
	case res == parser.Repeat:
		a.repeat(&a.ev, false)
	default:
		a.stats.NotTraffic++
	}
}

// messageOtherService is parser.State.Service's rule (parser's
// otherService) on a message's parts: the identifier names the other
// service (it contains "pop3", or does not) and the message lacks the field
// that would make it this service's ("headers=" for IMAP, "top=" for
// POP3). Repeat markers are never skipped. The parser does not export the
// rule; TestAddMessageMatchesAddLine keeps the two in step.
func messageOtherService(svc parser.Service, ident, msg string) bool {
	if strings.HasPrefix(msg, "message repeated ") || strings.HasPrefix(msg, "last message repeated ") {
		return false
	}
	if k := strings.IndexByte(ident, '['); k >= 0 {
		ident = ident[:k]
	}
	pop3 := strings.Contains(ident, "pop3")
	switch svc {
	case parser.IMAP:
		return pop3 && !strings.Contains(msg, "headers=")
	case parser.POP3:
		return !pop3 && !strings.Contains(msg, "top=")
	}
	return false
}

// probeSession is a session end every configured identifier parses as
// Traffic: knownIdent's probe.
const probeSession = "LOGOUT, user=u, ip=[127.0.0.1], headers=0, body=0, rcvd=0, sent=0, time=0"

// knownIdent reports whether ident is one of the parser's identifiers
// (the parser answers Skip for any other before looking at the message).
// Only the service filter needs it, for the records it would skip, so
// that an unknown identifier counts as NotTraffic, as with AddLine.
// It parses into a.ev, which the caller does not use afterwards.
func (a *Aggregator) knownIdent(ident string) bool {
	res, err := a.p.ParseMessage(ident, "", time.Time{}, 0, probeSession, &a.ev)
	return err == nil && res == parser.Traffic
}
