package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/parser"
)

// Stats count what an Aggregator saw. Every line other than a repeat marker
// lands in exactly one of the counters after Lines (Markers counts the
// markers); the N copies a marker stands for land in Repeats (dedup on) or,
// with dedup off, in the counters a session lands in.
type Stats struct {
	Lines           int64 // lines read
	Skipped         int64 // lines without "rcvd=", not parsed (dedup on): they cannot change a sum
	NotTraffic      int64 // not a Courier session end (other daemons, LOGIN, ...)
	SyntaxErrors    int64 // Courier-looking lines that are broken, lines without a syslog header
	OtherDay        int64 // traffic of another day than the report's; with dedup on, every line with "rcvd=" stamped on another day (not parsed: see filter.state)
	OtherService    int64 // traffic of the service not selected; with dedup on, every line of the other service's daemons that cannot be this service's (not parsed: see filter.state)
	Unauthenticated int64 // pre-login sessions (no user=): not users, as in the classic script
	NoBytes         int64 // sessions without rcvd=/sent= (courier-imap < 4.1): the classic script skips them too
	Excluded        int64 // sessions from an exclude_ips address
	Markers         int64 // rsyslog repeat markers ("message repeated N times", "last message repeated N times")
	Repeats         int64 // repeated records dropped: identical identities, and the N copies a marker stands for (dedup on)
	Counted         int64 // sessions summed into the report
}

// Aggregator sums the sessions of one local day per user, straight from log
// lines: it keeps only the per-user sums and the bounded dedup seen-set, so
// its memory does not grow with the input. It is used by one goroutine
// (Read runs its own helpers and waits for them). AddLine and Read may be
// mixed: they share every piece of state and give the same results.
//
// Semantics (the same choices as the plugin, so that a report from files
// and one from InfluxDB agree):
//   - a session counts on the day of its logged time in the configured zone
//     (time_zone; RFC 3339 stamps are converted into it);
//   - a repeat is a copy of a session under the plugin's one definition,
//     flush.RepeatSet: every field but the time equal (flush.Key; the set
//     holds flush.LocalKey, which is equal when keys are, different but
//     for hash collisions otherwise, and cheaper) and its time less than
//     dedup_tolerance from another copy's, adjacent or not, within the
//     dedup window; repeat markers stand for repeats and are dropped; with
//     dedup off every record counts and markers count N more copies (see
//     repeat);
//   - a session counts on the day of its first copy, as the plugin's point
//     does: with dedup on, the records of the dedup window before the day
//     (dedup_window, 10 minutes by default) are read too, to seed the
//     seen-set, so that the copies after midnight of a burst that began
//     before it are repeats, not sessions of the day;
//   - pre-login sessions (no user) and sessions without rcvd/sent are not
//     counted, like the classic script (its sed needs user= and rcvd=, sent=);
//     with dedup on, lines without "rcvd=" are not even parsed (Stats.Skipped),
//     nor, for one service, lines of the other service's daemons whose fields
//     cannot make them this service's (Stats.OtherService; see filter.state);
//   - exclude_ips and user_case apply as in the plugin.
type Aggregator struct {
	p     *parser.Parser
	f     filter
	seen  *flush.RepeatSet // the dedup seen-set; nil: dedup off
	users map[string]*Sums
	stats Stats
	ev    parser.Event
	st    parser.State // AddLine's: see filter.state

	// Dedup off only: the previous line, when it was a session that a
	// "last message repeated N times" marker may stand for.
	prevLine []byte
	prevRef  time.Time
	prevOK   bool
	prevEv   parser.Event

	// Read's pipeline (pipeline.go): worker count, block size and the
	// blocks kept between inputs. Tests shrink them to cross many block
	// boundaries.
	workers   int
	blockSize int
	pool      chan *block
	made      int
}

// filter is the order-independent part of the semantics: every decision
// that depends on one event alone. It is read-only once built, so the
// pipeline's workers share it.
type filter struct {
	p     *parser.Parser
	dedup bool // dedup on: check records against the seen-set
	svc   Service
	// The report's day in its zone, [startSec, endSec) in Unix seconds:
	// its first instant and the next day's (Date.Bounds; see otherDay).
	startSec, endSec int64
	// seedSec is startSec less the dedup window (dedup on): records from
	// it to startSec seed the seen-set and are not counted (seeds).
	seedSec  int64
	window   int64 // dedup_window in seconds
	lower    bool
	excluded []netip.Prefix
}

// NewAggregator returns an Aggregator for date and service under cfg (its
// time_zone, identifiers, user_case, exclude_ips and dedup keys). year,
// when non-zero, is the year of every year-less timestamp (--year);
// otherwise each input's reference time decides it (docs/design.md, Time).
func NewAggregator(cfg *flush.Config, date Date, svc Service, year int) (*Aggregator, error) {
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	p, err := parser.New(parser.Options{Identifiers: cfg.Identifiers, Location: loc, Year: year})
	if err != nil {
		return nil, err
	}
	a := &Aggregator{
		p:         p,
		users:     make(map[string]*Sums),
		workers:   min(runtime.GOMAXPROCS(0), maxWorkers),
		blockSize: blockSize,
	}
	a.f = filter{p: p, dedup: cfg.Dedup, svc: svc, lower: cfg.LowerUser, excluded: cfg.ExcludeIPs}
	if cfg.Dedup {
		a.f.window = int64((cfg.DedupWindow + time.Second - 1) / time.Second)
		a.seen = flush.NewRepeatSet(cfg.DedupTolerance, cfg.DedupWindow, cfg.DedupMaxEntries)
	}
	a.f.setDay(date, loc)
	a.st = a.f.state()
	return a, nil
}

// state returns the parser.State for a goroutine that parses lines under
// f: always the timestamp memo; with dedup on, also
//   - the report's day as the window (parser.State.Since), from the dedup
//     window before it (seeds): a line stamped on another day is skipped
//     right after its stamp. A mail.log holds a
//     week (logrotate's default) and the report wants one day of it: six
//     in seven lines need no more than their stamp, which the memo mostly
//     has already. Such a line could never count (Stats.OtherDay, whatever
//     it is: a session, a marker, a broken line);
//   - with one service selected, the service filter, which skips a line of
//     the other service's daemons unparsed when its fields cannot make it
//     this service's (see parser.State.Service). Such a line could never
//     count either: it is a session of the other service
//     (Stats.OtherService), or broken, or pre-login, and is counted in
//     OtherService whatever it is.
//
// With dedup off every line is parsed, because a "last message repeated"
// marker after a session of another day or service stands for copies of
// it, which Stats count.
func (f *filter) state() parser.State {
	if !f.dedup {
		return parser.State{}
	}
	st := parser.State{Since: f.seedSec, Until: f.endSec}
	switch f.svc {
	case IMAP:
		st.Service = parser.IMAP
	case POP3:
		st.Service = parser.POP3
	}
	return st
}

var rcvdKey = []byte("rcvd=")

// AddLine accounts one raw log line. ref is the reference time for a
// year-less timestamp (the file's modification time). line is read only
// during the call: the Aggregator copies what it keeps.
func (a *Aggregator) AddLine(line []byte, ref time.Time) {
	a.stats.Lines++
	// A view, not a copy: the parser's strings alias it, and every string
	// the Aggregator keeps (a new user name) is cloned before the next line
	// overwrites the buffer. This keeps the hot path free of allocations.
	if a.seen != nil && !bytes.Contains(line, rcvdKey) {
		// Only a session end with rcvd= can count (the rule of the classic
		// script's sed); with dedup on nothing else changes a sum, repeat
		// markers included. A SIMD substring search is an order of
		// magnitude cheaper than a parse, and most lines of a mail log are
		// not Courier session ends.
		a.stats.Skipped++
		return
	}
	s := unsafe.String(unsafe.SliceData(line), len(line))
	hadPrev := a.prevOK
	a.prevOK = false
	res, err := a.p.ParseLineState(s, ref, &a.ev, &a.st)
	switch {
	case a.st.Outside:
		a.stats.OtherDay++
	case a.st.Other:
		a.stats.OtherService++
	case err != nil:
		a.stats.SyntaxErrors++
	case res == parser.Traffic:
		if a.add(&a.ev, 1, true) && a.seen == nil {
			// Dedup off: a "last message repeated" marker on the next line
			// stands for copies of this one. Keep the raw line (a copy into
			// a reused buffer, no allocation) and re-parse it if needed.
			a.prevLine = append(a.prevLine[:0], line...)
			a.prevRef, a.prevOK = ref, true
		}
	case res == parser.Repeat:
		a.repeat(&a.ev, hadPrev)
	default:
		a.stats.NotTraffic++
	}
}

// repeat handles an rsyslog repeat marker for N suppressed copies, with the
// plugin's semantics (flush.Batch): with dedup on the copies are repeats;
// with dedup off "message repeated N times: [ msg ]" counts N copies of
// msg, and "last message repeated N times" N copies of the line just before
// it, when that line was a counted session of the same host (and daemon,
// if the marker names one).
func (a *Aggregator) repeat(ev *parser.Event, hadPrev bool) {
	a.stats.Markers++
	n := int64(ev.Repeats)
	if a.seen != nil {
		a.stats.Repeats += n
		return
	}
	if n <= 0 {
		return
	}
	if ev.Service != parser.ServiceUnknown {
		a.add(ev, n, false)
		return
	}
	if !hadPrev {
		return
	}
	host, daemon := ev.Host, ev.Daemon
	src := &a.prevEv
	p := a.prevLine
	res, err := a.p.ParseLine(unsafe.String(unsafe.SliceData(p), len(p)), a.prevRef, src)
	if err != nil || res != parser.Traffic || src.Host != host || (daemon != "" && src.Daemon != daemon) {
		return
	}
	a.add(src, n, false)
}

// add counts n copies of a traffic event, after the user, exclusion, day,
// service, bytes and dedup filters. check says whether the event is an
// original record (dedup applies) or copies standing for a marker. It
// reports whether the event would be a point of the plugin (a session of a
// user, not excluded), which is what a following marker may repeat.
func (a *Aggregator) add(ev *parser.Event, n int64, check bool) (point bool) {
	count, point := a.f.classify(ev, n, &a.stats)
	if !count {
		if check && a.seen != nil && a.f.seeds(ev) {
			a.seen.Check(flush.LocalKey(ev), ev.Time.UnixNano())
		}
		return point
	}
	if check && a.seen != nil && a.seen.Check(flush.LocalKey(ev), ev.Time.UnixNano()) {
		a.stats.Repeats += n
		return true
	}
	user := ev.User
	if a.f.lower {
		user = strings.ToLower(user) // no allocation when already lower case
	}
	a.sum(user, n, ev.Rcvd, ev.Sent)
	return true
}

// sum adds n sessions of rcvd and sent bytes each to user.
func (a *Aggregator) sum(user string, n, rcvd, sent int64) {
	a.addSums(a.sums(user, true), n, rcvd, sent)
}

// sums returns the sums of user, new ones if it is new, cloning the name
// then when clone says that user may alias a reused buffer.
func (a *Aggregator) sums(user string, clone bool) *Sums {
	s := a.users[user]
	if s == nil {
		s = &Sums{}
		if clone {
			user = strings.Clone(user)
		}
		a.users[user] = s
	}
	return s
}

// addSums adds n sessions of rcvd and sent bytes each to s.
func (a *Aggregator) addSums(s *Sums, n, rcvd, sent int64) {
	s.Sessions += n
	s.Rcvd = satAdd(s.Rcvd, satMul(n, rcvd))
	s.Sent = satAdd(s.Sent, satMul(n, sent))
	a.stats.Counted += n
}

// classify applies the filters that depend on the event alone, in the
// order that decides which counter a dropped event lands in: it adds n to
// that counter of st and reports count false, or reports count true when
// the n copies pass every filter (dedup, which depends on order, is the
// caller's). point says whether the event is a session of a user that is
// not excluded: a point of the plugin, which a following "last message
// repeated" marker may stand for.
func (f *filter) classify(ev *parser.Event, n int64, st *Stats) (count, point bool) {
	switch {
	case ev.User == "":
		st.Unauthenticated += n
		return false, false
	case len(f.excluded) > 0 && f.isExcluded(ev.IP):
		st.Excluded += n
		return false, false
	case f.otherDay(ev.Time):
		st.OtherDay += n
		return false, true
	case !f.svc.Match(ev.Service):
		st.OtherService += n
		return false, true
	case ev.Has&parser.HasBytes == 0:
		st.NoBytes += n
		return false, true
	}
	return true, true
}

// setDay makes date, in loc, the report's day.
func (f *filter) setDay(date Date, loc *time.Location) {
	start, end := date.Bounds(loc)
	f.startSec, f.endSec = start.Unix(), end.Unix()
	f.seedSec = f.startSec - f.window
}

// seeds reports whether ev, which classify did not count, is a session
// of the dedup window before the day that would count on its own day: it
// must go into the seen-set (a copy of it after midnight is a repeat,
// since the session counts on the day of its first copy) and nowhere else.
func (f *filter) seeds(ev *parser.Event) bool {
	s := ev.Time.Unix()
	return f.dedup && s >= f.seedSec && s < f.startSec && ev.User != "" &&
		!(len(f.excluded) > 0 && f.isExcluded(ev.IP)) && f.svc.Match(ev.Service) && ev.Has&parser.HasBytes != 0
}

// otherDay reports whether t is outside the report's day, t.Before(start)
// || !t.Before(end) for Date.Bounds' start and end, on Unix seconds alone (no two time.Time comparisons
// per session). It is exact because the bounds are midnights, whole
// seconds (Date.Bounds: time.Date without nanoseconds, zone offsets are
// whole seconds): t < start iff t's second is before start's, and t >= end
// iff t's second is not before end's.
func (f *filter) otherDay(t time.Time) bool {
	s := t.Unix()
	return s < f.startSec || s >= f.endSec
}

// isPoint is classify's point alone, without counting.
func (f *filter) isPoint(ev *parser.Event) bool {
	return ev.User != "" && !(len(f.excluded) > 0 && f.isExcluded(ev.IP))
}

// satAdd and satMul saturate at MaxInt64 instead of wrapping: counters are
// non-negative int64 (the parser's guarantee), and a hostile log must not
// turn a sum negative. Real sums are nowhere near (9.2 EB).
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(n, v int64) int64 {
	if n > 0 && v > math.MaxInt64/n {
		return math.MaxInt64
	}
	return n * v
}

// isExcluded matches ip, IPv4-mapped addresses unwrapped, against
// exclude_ips (whose prefixes flush.LoadConfig stores unwrapped).
func (f *filter) isExcluded(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range f.excluded {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Read accounts every line of r (see EachLine for the line rules). It
// gives the same sums and Stats as calling AddLine for every line, in
// order, but splits the work over the pipeline of pipeline.go: a reader,
// GOMAXPROCS workers that parse blocks of lines in parallel, and the
// calling goroutine, which applies dedup and sums in file order. Read
// returns once every line is accounted; the first read error other than
// io.EOF is returned after the lines before it are accounted.
func (a *Aggregator) Read(r io.Reader, ref time.Time) error {
	return a.read(r, nil, ref)
}

// ReadInput accounts every line of an opened input, with its reference
// time, as Read does; a read or decompression error names the input. A
// plain regular file is mapped into memory instead of read (no copy, same
// results), up to the size Open saw; if it shrinks meanwhile, ReadInput
// returns an error instead of the process dying of SIGBUS (mapped.go).
func (a *Aggregator) ReadInput(in *Input) error {
	if err := a.read(in.r, mappable(in), in.Ref); err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	return nil
}

// Users returns a copy of the per-user sums counted so far.
func (a *Aggregator) Users() map[string]Sums {
	m := make(map[string]Sums, len(a.users))
	for u, s := range a.users {
		m[u] = *s
	}
	return m
}

// Stats returns the counters so far.
func (a *Aggregator) Stats() Stats { return a.stats }

// add adds o's counters to s.
func (s *Stats) add(o *Stats) {
	s.Lines += o.Lines
	s.Skipped += o.Skipped
	s.NotTraffic += o.NotTraffic
	s.SyntaxErrors += o.SyntaxErrors
	s.OtherDay += o.OtherDay
	s.OtherService += o.OtherService
	s.Unauthenticated += o.Unauthenticated
	s.NoBytes += o.NoBytes
	s.Excluded += o.Excluded
	s.Markers += o.Markers
	s.Repeats += o.Repeats
	s.Counted += o.Counted
}

// String is a one-line summary of the counters, for --verbose.
func (s Stats) String() string {
	return fmt.Sprintf("lines=%d skipped=%d counted=%d repeats=%d markers=%d other_day=%d other_service=%d unauthenticated=%d no_bytes=%d excluded=%d not_traffic=%d syntax_errors=%d",
		s.Lines, s.Skipped, s.Counted, s.Repeats, s.Markers, s.OtherDay, s.OtherService, s.Unauthenticated, s.NoBytes, s.Excluded, s.NotTraffic, s.SyntaxErrors)
}
