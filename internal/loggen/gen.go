package loggen

import (
	"math"
	"sort"
	"time"
)

const (
	usPerSec = 1_000_000
	// lookback bounds how far before a slot's start time the generator
	// schedules lines (a Connection line precedes its LOGIN by < 2 s): once
	// slot t is generated, every line before t-lookback can be written.
	lookback = 3 * usPerSec
	// maxDur caps session length (time=) so sessions stay realistic.
	maxDur = 14000
	// repeatSpread is how far (in log time) interleaved repeat copies may
	// trail their original.
	repeatSpread = 3 * usPerSec
)

// Per-line header styles (Mixed picks one per line).
type lfmt uint8

const (
	fClassic lfmt = iota
	fClassicPID
	fRFC3339
	fShortISO
	fRFC5424
	fForward
	fExport
)

// micro reports whether a line style prints microseconds.
func (f lfmt) micro() bool { return f == fRFC3339 || f >= fRFC5424 }

// Syslog identifiers. The first six are Courier's (courierlogger, one PID
// per host and daemon); the rest carry their own PID on every line.
const (
	dImapd uint8 = iota
	dImapdSSL
	dPop3d
	dPop3dSSL
	dImaplogin
	dCourierPop3login
	dSmtpd
	dQmgr
	dCron
	dSshd

	nCourier = dSmtpd
)

var idents = [...]string{"imapd", "imapd-ssl", "pop3d", "pop3d-ssl", "imaplogin", "courierpop3login",
	"postfix/smtpd", "postfix/qmgr", "CRON", "sshd"}

func isPOP(d uint8) bool { return d == dPop3d || d == dPop3dSSL || d == dCourierPop3login }

// Line categories, for the truth.
const (
	catTraffic uint8 = iota // authenticated session end with rcvd/sent
	catPre                  // pre-login IMAP LOGOUT with rcvd/sent
	catNoise
	catNoBytes // Era30 session end: a session, but no byte counters
)

// Message kinds.
const (
	mEnd uint8 = iota
	mPreLogout
	mLogoutBare
	mLogin
	mConnection
	mLoginFailed
	mLoginFailedMethod
	mDisconnected
	mDisconnectedPOP
	mTLS
	mMaxConn
	mSmtpd
	mQmgr
	mCron
	mSshd
	mUW
)

// Session-end keywords.
const (
	kwLogout uint8 = iota
	kwDisconnected
	kwTimeout
	kwNotice
	kwIOError
	kwDisc
)

var keywords = [...]string{"LOGOUT", "DISCONNECTED", "TIMEOUT", "NOTICE: Disconnected during shutdown by signal",
	"I/O error disconnect", "disc"}

// item is one scheduled line. Everything random about it is drawn before it
// is queued (or, for collision re-draws, before it is first written), so
// rendering is a pure function of the item and repeat copies are
// byte-identical.
type item struct {
	t      int64 // logged time, µs since the Unix epoch
	mt     int64 // a reception-stamped copy: its original's time (a Plesk epoch prefix prints it)
	cat    uint8
	copy   bool  // a repeat-bug copy
	twin   bool  // a twin (Options.Twins): spawns no twin of its own
	force  int16 // > 0: a boundary session, followed by exactly this many copies that cross the next second
	fm     lfmt
	msg    uint8
	kw     uint8
	daemon uint8
	tls    bool
	ownPID bool // PID belongs to the line (postfix, cron, sshd, UW imapd): always shown
	era    Era
	host   uint16
	pid    int32
	user   int32 // index in gen.users; -1 none
	name   int32 // index in failedNames for LOGIN FAILED; -1: the user's name
	port   int32
	ip     addr
	rcvd   int64
	sent   int64
	a, b   int64 // headers/body or top/retr; free numbers for noise lines
	dur    int64
}

type hent struct {
	pos int64 // position in the output: the logged time, or later for interleaved copies
	seq uint64
	idx int32
}

func (a hent) less(b hent) bool { return a.pos < b.pos || a.pos == b.pos && a.seq < b.seq }

// tkey is the internal truth key: integers only, so accounting allocates nothing.
type tkey struct {
	day  int32 // days since 1970-01-01 of the local date
	svc  uint8
	host uint16
	user int32 // -1: pre-login
}

// sinkFunc receives one rendered line: raw is the whole line (an export
// entry: every field with its newline), raw[lo:hi] its MESSAGE.
type sinkFunc func(it *item, raw []byte, lo, hi int) error

// idWin is what the distinct-session window knows of one identity: the
// earliest and latest printed time of its lines (copies included, also
// copies still queued) and the latest output position of a queued copy.
type idWin struct{ lo, hi, pos int64 }

type winEnt struct {
	key uint64
	exp int64 // the entry may go once the log has passed exp
}

type gen struct {
	o       Options
	r       rng
	loc     *time.Location
	users   []user
	userCW  []float64
	pids    []int32 // courierlogger PID per host*nCourier+daemon
	noise   float64
	pop3    float64
	pre     float64
	repeats float64
	markers float64
	twins   float64
	recep   bool // CopyReception
	segW    [24]int

	// The distinct-session window: identities (identity) of the traffic
	// lines of the last seconds, so that a distinct line never has every
	// field but the time equal to another line less than 1 s away.
	win  map[uint64]idWin
	winQ []winEnt
	winH int

	boots  []int64  // per host: boot time (µs since the epoch) for __MONOTONIC_TIMESTAMP
	bootID [][]byte // per host: _BOOT_ID, 32 hex digits
	delay  int64    // __REALTIME_TIMESTAMP - _SOURCE_REALTIME_TIMESTAMP, 20-219 µs

	cur  item // the line being written
	heap []hent
	slab []item
	free []int32
	seq  uint64

	startUS int64
	endUS   int64 // end of the last day; MaxInt64 with MaxLines
	prevT   int64
	skip    int

	curSec int64
	ids    secSet // identities written in curSec
	uids   secSet // (host, daemon, user) written in curSec, for SameSecond
	tsc    tsCache
	buf    []byte
	mbuf   []byte

	redraws int64 // traffic lines whose sent was re-drawn (white-box tests)

	sink  sinkFunc
	err   error
	stop  bool
	lines int64

	acc      map[tkey]int32
	sums     []Sums
	t        Truth
	firstUS  int64
	lastUS   int64
	anyLines bool
}

// Diurnal weights per local hour: quiet nights, office-hour peaks.
var hourWeights = [24]float64{2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 10, 11, 11, 10, 8, 7, 7, 7, 6, 5, 3}

// noiseCW weights the extra noise kinds (after LOGIN and Connection).
var noiseCW = cumulative(
	30, // Connection
	15, // LOGIN FAILED, user=
	4,  // LOGIN FAILED, method=
	8,  // IMAP pre-auth Disconnected
	4,  // POP3 pre-auth LOGOUT (no counters)
	3,  // POP3 pre-auth Disconnected
	5,  // couriertls
	2,  // Maximum connection limit
	12, // postfix/smtpd
	8,  // postfix/qmgr
	5,  // CRON
	6,  // sshd
	1,  // UW-IMAP imapd[pid]: Login failed
)

func newGen(o Options, sink sinkFunc) *gen {
	g := &gen{
		o: o, r: newRNG(o.Seed), loc: o.Location, sink: sink,
		noise: rate(o.NoiseRatio), pop3: rate(o.POP3Share), pre: rate(o.PreLogin),
		repeats: rate(o.RepeatBursts), markers: rate(o.RsyslogMarkers), twins: rate(o.Twins),
		recep: o.CopyStamps == CopyReception, win: map[uint64]idWin{},
		ids: newSecSet(), uids: newSecSet(), curSec: math.MinInt64,
		acc: map[tkey]int32{}, buf: make([]byte, 0, 1024), mbuf: make([]byte, 0, 1024),
	}
	big := o.BigUsers
	if big < 0 {
		big = 0
	}
	g.users = makeUsers(&g.r, o.Users, big)
	var s float64
	for _, u := range g.users {
		s += u.weight
		g.userCW = append(g.userCW, s)
	}
	g.pids = make([]int32, len(o.Hosts)*int(nCourier))
	for i := range g.pids {
		g.pids[i] = int32(g.r.between(300, 32000))
	}
	if o.Format == Export {
		// Hashed, not drawn: the other formats' random stream stays as it was.
		g.delay = 20 + int64(mix(0x5c, uint64(o.Seed))%200)
		y, m, d := o.Start.Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, o.Location).UnixMicro()
		for h := range o.Hosts {
			k := mix(mix(0x4b, uint64(o.Seed)), uint64(h))
			g.boots = append(g.boots, start-int64(86400+k%(20*86400))*usPerSec-int64(k>>40%usPerSec))
			id := make([]byte, 0, 32)
			for _, w := range []uint64{mix(k, 1), mix(k, 2)} {
				for i := 60; i >= 0; i -= 4 {
					id = append(id, "0123456789abcdef"[w>>uint(i)&15])
				}
			}
			g.bootID = append(g.bootID, id)
		}
	}
	// Largest-remainder rounding: exactly SessionsPerDay slots per day.
	var wsum float64
	for _, w := range hourWeights {
		wsum += w
	}
	type rem struct {
		h int
		f float64
	}
	var rems []rem
	left := o.SessionsPerDay
	for h, w := range hourWeights {
		x := float64(o.SessionsPerDay) * w / wsum
		g.segW[h] = int(x)
		left -= g.segW[h]
		rems = append(rems, rem{h, x - float64(g.segW[h])})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].f > rems[j].f })
	for i := 0; i < left; i++ {
		g.segW[rems[i%24].h]++
	}
	return g
}

func (g *gen) run() {
	y, m, d := g.o.Start.Date()
	g.startUS = time.Date(y, m, d, 0, 0, 0, 0, g.loc).UnixMicro()
	g.prevT = g.startUS
	g.endUS = math.MaxInt64
	if g.o.MaxLines == 0 {
		g.endUS = time.Date(y, m, d+g.o.Days, 0, 0, 0, 0, g.loc).UnixMicro()
	}
	for day := 0; g.o.MaxLines > 0 || day < g.o.Days; day++ {
		t0 := time.Date(y, m, d+day, 0, 0, 0, 0, g.loc)
		t1 := time.Date(y, m, d+day+1, 0, 0, 0, 0, g.loc)
		if t1.Year() > 9999 {
			break
		}
		if g.o.BoundaryBursts {
			g.boundaries(t0.UnixMicro(), t1.UnixMicro())
		}
		g.day(t0.UnixMicro(), t1.UnixMicro())
		if g.stop {
			return
		}
	}
	g.drain(math.MaxInt64)
}

// day draws the day's slots hour segment by hour segment, in increasing
// order without storing them: the next of r sorted uniforms in [x, 1) is
// x + (1-x)(1-U^(1/r)). Segments are 1/24 of the real day length, so DST
// days of 23 or 25 hours work.
func (g *gen) day(t0, t1 int64) {
	segLen := float64(t1-t0) / 24
	for h := 0; h < 24; h++ {
		n := g.segW[h]
		segStart := t0 + int64(float64(h)*segLen)
		x := 0.0
		for i := 0; i < n; i++ {
			x += (1 - x) * (1 - math.Exp(math.Log(1-g.r.f())/float64(n-i)))
			if g.skip > 0 { // consumed by a webmail burst
				g.skip--
				continue
			}
			t := segStart + int64(x*segLen)
			g.slot(t)
			g.prevT = t
			g.drain(t - lookback)
			if g.stop {
				return
			}
		}
	}
}

func (g *gen) pickFmt() lfmt {
	switch g.o.Format {
	case RFC3339:
		return fRFC3339
	case ShortISO:
		return fShortISO
	case RFC5424:
		return fRFC5424
	case Forward:
		return fForward
	case Export:
		return fExport
	case Mixed:
		return lfmt(g.r.n(4))
	}
	return fClassic
}

func (g *gen) pickUser() int32 {
	x := g.r.f() * g.userCW[len(g.userCW)-1]
	i := sort.SearchFloat64s(g.userCW, x)
	if i >= len(g.users) {
		i = len(g.users) - 1
	}
	return int32(i)
}

func (g *gen) pickEra() Era     { return g.o.Eras[g.r.n(int64(len(g.o.Eras)))] }
func (g *gen) pickHost() uint16 { return uint16(g.r.n(int64(len(g.o.Hosts)))) }
func (g *gen) port() int32      { return int32(g.r.between(1024, 65535)) }

func daemonFor(era Era, pop, ssl bool) uint8 {
	switch {
	case era == Era30 && pop:
		return dCourierPop3login
	case era == Era30:
		return dImaplogin
	case pop && ssl:
		return dPop3dSSL
	case pop:
		return dPop3d
	case ssl:
		return dImapdSSL
	}
	return dImapd
}

// tlsFlag: the -ssl daemons log the flag on every session (IMAP_TLS=1 /
// POP3_TLS=1); pop3d logged stls=1 only from 4.5.0 on; Plesk lines show none.
func tlsFlag(era Era, pop, ssl, starttls bool) bool {
	if era == EraPlesk || pop && (era == Era30 || era == Era41) {
		return false
	}
	return ssl || starttls
}

func (g *gen) courier(it *item) {
	it.pid = g.pids[int(it.host)*int(nCourier)+int(it.daemon)]
}

func (g *gen) push(it *item, pos int64) {
	var idx int32
	if n := len(g.free); n > 0 {
		idx = g.free[n-1]
		g.free = g.free[:n-1]
		g.slab[idx] = *it
	} else {
		idx = int32(len(g.slab))
		g.slab = append(g.slab, *it)
	}
	g.seq++
	e := hent{pos: pos, seq: g.seq, idx: idx}
	h := append(g.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	g.heap = h
}

func (g *gen) popMin() hent {
	h := g.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].less(h[l]) {
			c = r
		}
		if !h[c].less(h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	g.heap = h
	return top
}

// schedule queues a line at its logged time. The log covers whole local
// days, as after a rotation at midnight: lines before the first day and, in
// a run of Days days, lines after the last are left out.
func (g *gen) schedule(it *item) {
	if it.t < g.startUS || it.t >= g.endUS {
		return
	}
	g.push(it, it.t)
}

type sess struct {
	kw                    uint8
	dur, rcvd, sent, a, b int64
}

func (g *gen) imapSess(u *user, era Era, web bool) sess {
	r := &g.r
	var s sess
	if web {
		s.kw = kwLogout
		s.dur = r.n(2)
		if r.p(0.6) {
			// A webmail page view repeats the same IMAP dialogue, so the
			// counters repeat exactly (the forum's "rcvd=46, sent=336").
			p := webPages[r.n(int64(len(webPages)))]
			s.rcvd, s.sent, s.a = p[0], p[1], p[2]
			return s
		}
		s.rcvd = 40 + r.n(400)
		s.sent = 300 + r.pareto(200, 1.5, 2e5)
		s.a = r.n(s.sent / 4)
		return s
	}
	switch x := r.f(); {
	case x < 0.72:
		s.kw = kwLogout
	case x < 0.90:
		s.kw = kwDisconnected
	case x < 0.98:
		s.kw = kwTimeout
	default:
		s.kw = kwNotice
		if era == Era30 || era == EraPlesk {
			s.kw = kwLogout
		}
	}
	if s.kw == kwTimeout {
		s.dur = 1800 + r.n(3600) // IMAP's 30-minute inactivity timeout
	} else {
		switch y := r.f(); {
		case y < 0.35:
			s.dur = r.n(6)
		case y < 0.8:
			s.dur = int64(-90 * math.Log(1-r.f()))
		default:
			s.dur = r.pareto(300, 1.3, maxDur)
		}
	}
	s.rcvd = 20 + r.pareto(30, 1.2, 5e7)
	s.sent = 150 + r.pareto(300, 1.05, 3e8)
	if u.big && r.p(0.3) {
		if r.p(0.7) { // imapsync-style upload: APPENDs show only in rcvd
			s.rcvd = r.logUniform(1e7, 1e9)
			s.sent += r.logUniform(1e4, 2e6)
			s.kw = uint8(r.n(2)) // LOGOUT or DISCONNECTED
		} else {
			s.sent = r.logUniform(1e7, 8e8)
		}
		s.dur = max(s.dur, s.rcvd/2_000_000, s.sent/4_000_000)
	}
	if !r.p(0.3) {
		s.a = int64(float64(s.sent) * r.f() * 0.15)
		s.b = int64(float64(s.sent-s.a) * r.f() * 0.9)
	}
	s.dur = min(s.dur, maxDur)
	return s
}

// webPages are {rcvd, sent, headers} of typical webmail page views.
var webPages = [][3]int64{{46, 336, 0}, {87, 1234, 412}, {120, 2875, 980}, {64, 518, 0}, {151, 4410, 1320}, {98, 1790, 655}}

func (g *gen) popSess(u *user, era Era) sess {
	r := &g.r
	var s sess
	switch x := r.f(); {
	case x < 0.82:
		s.kw = kwLogout
	case x < 0.92:
		s.kw = kwDisconnected
	case x < 0.97:
		s.kw = kwTimeout
	default:
		s.kw = kwIOError
	}
	if era == Era60 {
		s.kw = kwDisc
	}
	var msgs int64
	if !r.p(0.4) {
		msgs = r.pareto(1, 1.1, 500)
		s.b = min(msgs*r.pareto(2000, 1.2, 5e7), 2e9)
	}
	if u.big && r.p(0.3) {
		msgs = r.between(500, 5000)
		s.b = r.logUniform(1e7, 6e8)
	}
	if msgs > 0 && r.p(0.1) {
		s.a = msgs * r.between(200, 2200)
	}
	s.rcvd = 12 + msgs*r.between(14, 40) + r.n(30)
	s.sent = s.a + s.b + 40 + msgs*r.between(30, 60) + r.n(100)
	if s.kw == kwTimeout {
		s.dur = 300 + r.n(300) // POP3's 5-minute alarm
	} else {
		s.dur = min(r.n(4)+s.b/4_000_000, maxDur)
	}
	return s
}

// slot generates one authenticated session starting at t (a webmail burst
// of 2-4 sessions of one user ending in one second), its LOGIN/Connection
// lines, its share of other noise, and maybe a pre-login session.
func (g *gen) slot(t int64) {
	r := &g.r
	budget := int(g.noise)
	if r.p(g.noise - float64(budget)) {
		budget++
	}
	// The budget pays for the session's LOGIN, maybe its Connection, and
	// other noise spread since the previous slot.
	conn := budget >= 2 && r.p(0.6)
	extra := budget - min(budget, 1)
	if conn {
		extra--
	}
	for ; extra > 0; extra-- {
		g.noiseLine(g.prevT + 1 + r.n(t-g.prevT))
	}

	ui := g.pickUser()
	u := &g.users[ui]
	era := g.pickEra()
	host := g.pickHost()
	pop := r.p(g.pop3)
	web := !pop && u.webmail && r.p(0.7)
	burst := 1
	if web && r.p(0.35) {
		burst = 2 + int(r.n(3))
		g.skip = burst - 1
	}
	ssl := !web && r.p(0.5)
	starttls := !ssl && !web && r.p(0.4)
	daemon := daemonFor(era, pop, ssl)
	var ip addr
	switch {
	case web && r.p(0.8):
		ip = loopV4
	case web:
		ip = loopV6
	case r.p(0.85):
		ip = u.ips[r.n(int64(len(u.ips)))]
	default:
		ip = r.addr(0.1) // roaming
	}
	if era == EraPlesk {
		ip = addr{v4: ip.v4} // no IPv6 build: bare dotted quad
	}
	var first sess
	for k := 0; k < burst; k++ {
		var s sess
		if pop {
			s = g.popSess(u, era)
		} else {
			s = g.imapSess(u, era, web)
		}
		if k == 0 {
			first = s
		} else {
			s.dur = first.dur // same start and length: the ends share one second
		}
		it := item{t: t, fm: g.pickFmt(), daemon: daemon, era: era, host: host, user: ui, name: -1,
			port: g.port(), ip: ip, tls: tlsFlag(era, pop, ssl, starttls)}
		g.courier(&it)
		if budget >= 1 {
			login := it
			login.cat, login.msg = catNoise, mLogin
			if conn {
				conn := it
				conn.cat, conn.msg, conn.fm = catNoise, mConnection, g.pickFmt()
				conn.t = t - r.n(2*usPerSec)
				g.schedule(&conn)
			}
			g.schedule(&login)
		}
		end := it
		end.cat, end.msg, end.fm = catTraffic, mEnd, g.pickFmt()
		if era == Era30 {
			end.cat = catNoBytes
		}
		end.kw, end.dur, end.rcvd, end.sent, end.a, end.b = s.kw, s.dur, s.rcvd, s.sent, s.a, s.b
		lo := t + s.dur*usPerSec
		hi := (lo/usPerSec + 1) * usPerSec // same second for every burst member
		if burst == 1 {
			hi = lo + usPerSec
		}
		end.t = lo + r.n(hi-lo)
		g.schedule(&end)
	}
	if r.p(g.pre) {
		g.preLogin(t)
	}
}

func (g *gen) preLogin(t int64) {
	r := &g.r
	era := g.pickEra()
	ssl := r.p(0.5)
	it := item{cat: catPre, msg: mPreLogout, fm: g.pickFmt(), daemon: daemonFor(era, false, ssl), era: era,
		host: g.pickHost(), user: -1, name: -1, port: g.port(), ip: r.addr(0.1)}
	it.t = t + r.n(20*usPerSec)
	it.rcvd = 10 + r.n(300)
	it.sent = 80 + r.pareto(200, 2, 5000)
	if era == EraPlesk {
		it.ip = addr{v4: it.ip.v4}
	}
	if era == Era30 { // no counters before 4.1: just a line
		it.cat, it.msg = catNoise, mLogoutBare
	}
	g.courier(&it)
	g.schedule(&it)
}

// boundaries schedules the day's two BoundaryBursts sessions: one ending
// just before the local midnight that ends the day, one just before a
// random minute boundary inside it.
func (g *gen) boundaries(t0, t1 int64) {
	minutes := (t1 - t0) / (60 * usPerSec) // 1380-1500 on DST days
	for _, b := range []int64{t1, t0 + (1+g.r.n(minutes-1))*60*usPerSec} {
		// At least 1 ms before it: the journal's __REALTIME_TIMESTAMP
		// (up to 219 µs later) keeps the original on its day.
		g.boundarySession(b - 1000 - g.r.n(9000))
	}
}

func (g *gen) boundarySession(end int64) {
	r := &g.r
	ui := g.pickUser()
	u := &g.users[ui]
	era := g.pickEra()
	if era == Era30 { // no counters, so no traffic line to repeat
		era = Era41
	}
	pop := r.p(g.pop3)
	ssl := r.p(0.5)
	it := item{t: end, cat: catTraffic, msg: mEnd, fm: g.pickFmt(), daemon: daemonFor(era, pop, ssl), era: era,
		host: g.pickHost(), user: ui, name: -1, port: g.port(), ip: u.ips[r.n(int64(len(u.ips)))],
		tls: tlsFlag(era, pop, ssl, false), force: int16(100 + r.n(200))}
	if era == EraPlesk {
		it.ip = addr{v4: it.ip.v4}
	}
	var s sess
	if pop {
		s = g.popSess(u, era)
	} else {
		s = g.imapSess(u, era, false)
	}
	it.kw, it.dur, it.rcvd, it.sent, it.a, it.b = s.kw, s.dur, s.rcvd, s.sent, s.a, s.b
	g.courier(&it)
	g.schedule(&it)
}

// step draws the reception-time gap between two copies of a burst: mostly
// 1-400 µs, sometimes 1-10 ms, rarely 20-450 ms; never 500 ms or more.
func (g *gen) step() int64 {
	switch x := g.r.f(); {
	case x < 0.95:
		return 1 + g.r.n(400)
	case x < 0.995:
		return 1000 + g.r.n(9000)
	}
	return 20_000 + g.r.n(430_001)
}

func (g *gen) noiseLine(t int64) {
	r := &g.r
	era := g.pickEra()
	pop := r.p(g.pop3)
	ssl := r.p(0.5)
	it := item{t: t, cat: catNoise, fm: g.pickFmt(), era: era, host: g.pickHost(), user: -1, name: -1,
		port: g.port(), ip: r.addr(0.1), daemon: daemonFor(era, pop, ssl)}
	if era == EraPlesk {
		it.ip = addr{v4: it.ip.v4}
	}
	ownPID := func(d uint8) {
		it.daemon, it.ownPID, it.pid = d, true, int32(r.between(1000, 99999))
	}
	switch r.pick(noiseCW) {
	case 0:
		it.msg = mConnection
	case 1:
		it.msg = mLoginFailed
		if r.p(0.5) {
			it.name = int32(r.n(int64(len(failedNames))))
		} else {
			it.user = g.pickUser()
		}
	case 2:
		it.msg = mLoginFailedMethod
	case 3:
		it.msg, it.daemon = mDisconnected, daemonFor(era, false, ssl)
		it.dur = r.n(60)
		it.tls = tlsFlag(era, false, ssl, false)
	case 4:
		it.msg, it.daemon = mLogoutBare, daemonFor(era, true, ssl)
	case 5:
		it.msg, it.daemon = mDisconnectedPOP, daemonFor(era, true, ssl)
	case 6:
		it.msg, it.daemon = mTLS, daemonFor(era, pop, true)
	case 7:
		it.msg = mMaxConn
	case 8:
		it.msg, it.a = mSmtpd, r.n(2)
		ownPID(dSmtpd)
	case 9:
		it.msg, it.a, it.b = mQmgr, r.n(1<<40), 500+r.pareto(2000, 1.1, 5e7)
		ownPID(dQmgr)
	case 10:
		it.msg = mCron
		ownPID(dCron)
	case 11:
		it.msg, it.name = mSshd, int32(r.n(int64(len(failedNames))))
		ownPID(dSshd)
	default:
		it.msg = mUW
		ownPID(dImapd)
	}
	if !it.ownPID {
		g.courier(&it)
	}
	g.schedule(&it)
}

// drain writes every queued line positioned before bound.
func (g *gen) drain(bound int64) {
	for len(g.heap) > 0 && g.heap[0].pos < bound && !g.stop {
		e := g.popMin()
		g.cur = g.slab[e.idx] // a field, not a local: the sink call would make a local escape
		g.free = append(g.free, e.idx)
		g.emit(&g.cur)
	}
}

// hasPort reports whether the line prints port=[...] (docs/courier-log-formats.md: the session-end layouts per era).
func hasPort(it *item) bool {
	switch it.era {
	case Era509, Era60:
		return true
	case Era42:
		return it.msg == mLogin || it.msg == mEnd && isPOP(it.daemon)
	}
	return false
}

// identity hashes part of what a consumer's repeat identity sees of a
// traffic line (every field but the time): host, daemon, user, ip, port
// when printed, rcvd and sent. Lines whose identities differ differ in
// a field, so a key that has no other line within a second proves the line
// is not a repeat of another session, whatever else the identity includes.
func (g *gen) identity(it *item) uint64 {
	h := mix(0x1d, uint64(it.host)<<8|uint64(it.daemon))
	h = mix(h, uint64(int64(it.user)))
	if it.era == EraPlesk {
		h = mix(h, uint64(it.ip.v4))
	} else {
		h = mix(h, it.ip.key())
	}
	if hasPort(it) {
		h = mix(h, uint64(it.port))
	}
	h = mix(h, uint64(it.rcvd))
	return mix(h, uint64(it.sent))
}

func (g *gen) emit(it *item) {
	sec := floorDiv(it.t, usPerSec)
	if !it.copy && sec != g.curSec {
		g.curSec = sec
		g.ids.reset()
		g.uids.reset()
	}
	traffic := it.cat == catTraffic || it.cat == catPre
	var key uint64
	if traffic && !it.copy {
		// Distinct sessions must never look like repeats: re-draw sent
		// while the identity has a line less than a second away (in
		// printed time) or a copy still to come.
		g.expire(it.t)
		pt := it.t
		if !it.fm.micro() {
			pt = sec * usPerSec
		}
		key = g.identity(it)
		for {
			w, ok := g.win[key]
			if !ok || (pt <= w.lo-usPerSec || pt >= w.hi+usPerSec) && it.t > w.pos {
				break
			}
			it.sent += 1 + g.r.n(97)
			key = g.identity(it)
			g.redraws++
		}
		g.note(key, pt, it.t)
	}
	b := g.appendHeader(g.buf[:0], it)
	lo := len(b)
	b = g.appendMsg(b, it)
	hi := len(b)
	if it.fm == fExport {
		b = frameExport(b, lo, &g.mbuf)
		lo, hi = len(b)-1-(hi-lo), len(b)-1
	}
	g.buf = b
	if !traffic {
		h := mix(0x2e, uint64(sec))
		// Without the PID: two cron runs in one second would read as one.
		h = mix(h, uint64(it.host)<<8|uint64(it.daemon))
		m := b[lo:hi]
		if it.era == EraPlesk && len(m) > 0 && m[0] >= '0' && m[0] <= '9' {
			// The epoch prefix is not part of the identity a consumer sees.
			for len(m) > 0 && m[0] != ' ' {
				m = m[1:]
			}
		}
		h = hashBytes(h, m)
		if g.ids.has(h) {
			return // an accidental identical noise line: leave it out
		}
		g.ids.add(h)
	}
	if !g.out(it, b, lo, hi) {
		return
	}
	switch {
	case it.copy:
		g.t.RepeatLines++
		return
	case it.cat == catNoise:
		g.t.NoiseLines++
	case it.cat == catNoBytes:
		g.t.NoiseLines++
		g.t.NoBytesSessions++
	default:
		g.t.TrafficLines++
		k := tkey{day: g.tsc.get(sec, g.loc).day, svc: 0, host: it.host, user: it.user}
		if isPOP(it.daemon) {
			k.svc = 1
		}
		i, ok := g.acc[k]
		if !ok {
			i = int32(len(g.sums))
			g.acc[k] = i
			g.sums = append(g.sums, Sums{})
		}
		g.sums[i].add(Sums{Sessions: 1, Rcvd: it.rcvd, Sent: it.sent})
		if it.cat == catTraffic {
			uk := mix(mix(0x3f, uint64(it.host)<<8|uint64(it.daemon)), uint64(it.user))
			if g.uids.has(uk) {
				g.t.SameSecond++
			} else {
				g.uids.add(uk)
			}
		}
	}
	if g.stop {
		return
	}
	switch {
	case traffic && (it.force > 0 || g.r.p(g.repeats)):
		if !g.burst(it, b, lo, hi, key) {
			return
		}
	case (traffic || it.msg == mLoginFailed) && g.r.p(g.markers):
		n := 1 + g.r.n(20)
		m := append(g.mbuf[:0], b[:lo]...)
		if g.r.p(0.5) {
			m = append(m, "message repeated "...)
			m = appendInt(m, n)
			m = append(m, " times: [ "...)
			m = append(m, b[lo:hi]...)
			m = append(m, ']')
		} else {
			m = append(m, "last message repeated "...)
			m = appendInt(m, n)
			m = append(m, " times"...)
		}
		g.mbuf = m
		if !g.out(it, m, lo, len(m)) {
			return
		}
		if traffic {
			g.t.MarkerLines++
			g.t.MarkerRepeats += n
		} else {
			g.t.NoiseLines++
		}
	}
	if it.cat == catTraffic && !it.twin && g.r.p(g.twins) {
		// A twin: every field but the time equal, a second or more after
		// the last line of this identity (copies included), so that a
		// consumer's repeat window cannot reach it.
		w := g.win[key]
		tw := *it
		tw.twin, tw.force = true, 0
		tw.t = max(w.hi, w.pos) + usPerSec + 1 + g.r.n(3*usPerSec)
		g.schedule(&tw)
	}
}

// burst writes or queues the copies of the repeat bug after the line b
// (its identity key); false when writing stopped.
func (g *gen) burst(it *item, b []byte, lo, hi int, key uint64) bool {
	k := int64(it.force)
	if k == 0 {
		k = 1 + g.r.n(20)
	}
	c := *it
	c.copy, c.force = true, 0
	if g.recep {
		// Each copy gets its own reception stamp; some bursts are made to
		// cross the next second (all boundary bursts do).
		c.mt = it.t
		next := (floorDiv(it.t, usPerSec) + 1) * usPerSec
		cross := int64(-1)
		if next-it.t <= 450_000 && (it.force > 0 || g.r.p(0.2)) {
			cross = g.r.n(k)
		}
		t := it.t
		for j := int64(0); j < k; j++ {
			if j == cross && t < next {
				t = next + g.r.n(400)
			} else {
				t += g.step()
			}
			c.t = t
			g.push(&c, t)
		}
		g.extend(key, t, t)
		return true
	}
	if g.r.p(0.5) { // adjacent, like the uniq-able case
		for j := int64(0); j < k; j++ {
			if !g.out(it, b, lo, hi) {
				return false
			}
			g.t.RepeatLines++
		}
		return true
	}
	var last int64
	for j := int64(0); j < k; j++ {
		pos := it.t + g.r.n(repeatSpread+1)
		last = max(last, pos)
		g.push(&c, pos)
	}
	g.extend(key, it.t, last)
	return true
}

// note records a distinct traffic line of identity key at printed time pt
// and position t in the window.
func (g *gen) note(key uint64, pt, t int64) {
	w, ok := g.win[key]
	if !ok {
		w = idWin{lo: pt, hi: pt, pos: t}
	} else {
		w = idWin{lo: min(w.lo, pt), hi: max(w.hi, pt), pos: max(w.pos, t)}
	}
	g.win[key] = w
	g.winQ = append(g.winQ, winEnt{key: key, exp: max(w.hi, w.pos) + 2*usPerSec})
}

// extend widens key's window entry by copies up to time hi and position pos.
func (g *gen) extend(key uint64, hi, pos int64) {
	w, ok := g.win[key]
	if !ok {
		return
	}
	w.hi, w.pos = max(w.hi, hi), max(w.pos, pos)
	g.win[key] = w
	g.winQ = append(g.winQ, winEnt{key: key, exp: max(w.hi, w.pos) + 2*usPerSec})
}

// expire forgets the identities whose lines all lie more than two seconds
// before t (lines come in time order, so none of them can collide again).
func (g *gen) expire(t int64) {
	for g.winH < len(g.winQ) && g.winQ[g.winH].exp < t {
		e := g.winQ[g.winH]
		g.winH++
		if w, ok := g.win[e.key]; ok && max(w.hi, w.pos)+2*usPerSec <= e.exp {
			delete(g.win, e.key)
		}
	}
	if g.winH > 1024 && 2*g.winH > len(g.winQ) {
		n := copy(g.winQ, g.winQ[g.winH:])
		g.winQ, g.winH = g.winQ[:n], 0
	}
}

// out hands one line to the sink and counts it; false when nothing was
// written (stopped, or the sink failed).
func (g *gen) out(it *item, b []byte, lo, hi int) bool {
	if g.stop {
		return false
	}
	if err := g.sink(it, b, lo, hi); err != nil {
		g.err, g.stop = err, true
		return false
	}
	g.lines++
	g.t.Lines++
	if !g.anyLines || it.t < g.firstUS {
		g.firstUS = it.t
	}
	if !g.anyLines || it.t > g.lastUS {
		g.lastUS = it.t
	}
	g.anyLines = true
	if g.o.MaxLines > 0 && g.lines >= g.o.MaxLines {
		g.stop = true
	}
	return true
}

func (g *gen) truth() Truth {
	t := g.t
	t.Sessions = map[Key]Sums{}
	t.PreLogin = map[Key]Sums{}
	t.Hosts = map[HostKey]Sums{}
	days := map[int32]string{}
	for k, i := range g.acc {
		ds, ok := days[k.day]
		if !ok {
			y, m, d := civilFromDays(int64(k.day))
			ds = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			days[k.day] = ds
		}
		key := Key{Day: ds, Service: IMAP}
		if k.svc == 1 {
			key.Service = POP3
		}
		s := g.sums[i]
		if k.user < 0 {
			v := t.PreLogin[key]
			v.add(s)
			t.PreLogin[key] = v
			continue
		}
		key.User = g.users[k.user].name
		v := t.Sessions[key]
		v.add(s)
		t.Sessions[key] = v
		t.Hosts[HostKey{Host: g.o.Hosts[k.host], Key: key}] = s
	}
	if g.anyLines {
		t.First = time.UnixMicro(g.firstUS).In(g.loc)
		t.Last = time.UnixMicro(g.lastUS).In(g.loc)
	}
	return t
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
