package loggen

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// tsCache holds the rendered pieces of one second: consecutive lines mostly
// share a second, and time.Time.In costs more than the rest of a header.
type tsCache struct {
	sec     int64
	valid   bool
	classic [15]byte // "Jan _2 15:04:05"
	iso     [19]byte // "2006-01-02T15:04:05"
	offC    [6]byte  // "+02:00"
	offN    [5]byte  // "+0200"
	day     int32    // days since 1970-01-01 of the local date
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func put2(b []byte, v int) { b[0], b[1] = byte('0'+v/10), byte('0'+v%10) }

func (c *tsCache) get(sec int64, loc *time.Location) *tsCache {
	if c.valid && c.sec == sec {
		return c
	}
	c.sec, c.valid = sec, true
	t := time.Unix(sec, 0).In(loc)
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	_, off := t.Zone()
	copy(c.classic[:3], monthNames[mo-1])
	c.classic[3] = ' '
	if d < 10 {
		c.classic[4], c.classic[5] = ' ', byte('0'+d)
	} else {
		put2(c.classic[4:], d)
	}
	c.classic[6] = ' '
	put2(c.classic[7:], hh)
	c.classic[9] = ':'
	put2(c.classic[10:], mm)
	c.classic[12] = ':'
	put2(c.classic[13:], ss)
	put2(c.iso[0:], y/100)
	put2(c.iso[2:], y%100)
	c.iso[4] = '-'
	put2(c.iso[5:], int(mo))
	c.iso[7] = '-'
	put2(c.iso[8:], d)
	c.iso[10] = 'T'
	copy(c.iso[11:], c.classic[7:15])
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	off /= 60 // zones with second offsets (pre-1900 LMT) are out of range anyway
	c.offC[0], c.offN[0] = sign, sign
	put2(c.offC[1:], off/60)
	c.offC[3] = ':'
	put2(c.offC[4:], off%60)
	put2(c.offN[1:], off/60)
	put2(c.offN[3:], off%60)
	c.day = int32(daysFromCivil(int64(y), int64(mo), int64(d)))
	return c
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// msgTime is the time a Plesk epoch prefix prints: a reception-stamped
// copy repeats its original's message byte for byte.
func msgTime(it *item) int64 {
	if it.copy && it.mt != 0 {
		return it.mt
	}
	return it.t
}

// appendMicro appends "2006-01-02T15:04:05.000000-07:00".
func appendMicro(b []byte, c *tsCache, t int64) []byte {
	b = append(b, c.iso[:]...)
	us := t - c.sec*usPerSec
	b = append(b, '.')
	for div := int64(100000); div > 0; div /= 10 {
		b = append(b, byte('0'+us/div%10))
	}
	return append(b, c.offC[:]...)
}

// facility is the syslog facility of a daemon: mail, but cron for CRON and
// authpriv for sshd.
func facility(d uint8) int64 {
	switch d {
	case dCron:
		return 9
	case dSshd:
		return 10
	}
	return 2
}

// severity of every generated line: info.
const severity = 6

// comms are the _COMM (process name) of the programs behind the identifiers.
var comms = [...]string{dSmtpd: "smtpd", dQmgr: "qmgr", dCron: "cron", dSshd: "sshd"}

func (g *gen) appendHeader(b []byte, it *item) []byte {
	sec := floorDiv(it.t, usPerSec)
	c := g.tsc.get(sec, g.loc)
	switch it.fm {
	case fRFC3339:
		b = appendMicro(b, c, it.t)
	case fRFC5424:
		b = append(b, '<')
		b = appendInt(b, facility(it.daemon)*8+severity)
		b = append(b, ">1 "...)
		b = appendMicro(b, c, it.t)
		b = append(b, ' ')
		b = append(b, g.o.Hosts[it.host]...)
		b = append(b, ' ')
		b = append(b, idents[it.daemon]...)
		b = append(b, ' ')
		if it.ownPID {
			b = appendInt(b, int64(it.pid))
		} else {
			b = append(b, '-') // courierlogger logs without LOG_PID
		}
		return append(b, " - - "...)
	case fForward:
		b = append(b, '<')
		b = appendInt(b, facility(it.daemon)*8+severity)
		b = append(b, '>')
		b = appendMicro(b, c, it.t)
	case fExport:
		return g.appendExportHeader(b, it)
	case fShortISO:
		b = append(b, c.iso[:]...)
		b = append(b, c.offN[:]...)
	default:
		b = append(b, c.classic[:]...)
	}
	b = append(b, ' ')
	b = append(b, g.o.Hosts[it.host]...)
	b = append(b, ' ')
	b = append(b, idents[it.daemon]...)
	if it.ownPID || it.fm == fClassicPID || it.fm == fShortISO {
		b = append(b, '[')
		b = appendInt(b, int64(it.pid))
		b = append(b, ']')
	}
	return append(b, ": "...)
}

// appendExportHeader appends every field of a journal export entry but
// MESSAGE, then "MESSAGE=" (frameExport finishes the entry).
func (g *gen) appendExportHeader(b []byte, it *item) []byte {
	// journald writes the entry a little after the datagram arrived
	// (_SOURCE_REALTIME_TIMESTAMP): a constant delay, so the gaps between
	// entries are the same in both timestamps, and __REALTIME_TIMESTAMP
	// never goes back (the log is in time order), as journalctl's
	// --since/--until bisection expects.
	rt := it.t + g.delay
	b = append(b, "__REALTIME_TIMESTAMP="...)
	b = appendInt(b, rt)
	b = append(b, "\n__MONOTONIC_TIMESTAMP="...)
	b = appendInt(b, rt-g.boots[it.host])
	b = append(b, "\n_BOOT_ID="...)
	b = append(b, g.bootID[it.host]...)
	b = append(b, "\n_TRANSPORT=syslog\nPRIORITY="...)
	b = appendInt(b, severity)
	b = append(b, "\nSYSLOG_FACILITY="...)
	b = appendInt(b, facility(it.daemon))
	b = append(b, "\nSYSLOG_IDENTIFIER="...)
	b = append(b, idents[it.daemon]...)
	if it.ownPID {
		b = append(b, "\nSYSLOG_PID="...)
		b = appendInt(b, int64(it.pid))
	}
	b = append(b, "\n_PID="...)
	b = appendInt(b, int64(it.pid))
	b = append(b, "\n_COMM="...)
	switch {
	case !it.ownPID:
		b = append(b, "courierlogger"...)
	case it.daemon == dImapd: // UW-IMAP
		b = append(b, "imapd"...)
	default:
		b = append(b, comms[it.daemon]...)
	}
	b = append(b, "\n_HOSTNAME="...)
	b = append(b, g.o.Hosts[it.host]...)
	b = append(b, "\n_SOURCE_REALTIME_TIMESTAMP="...)
	b = appendInt(b, it.t)
	return append(b, "\nMESSAGE="...)
}

// frameExport ends the export entry b, whose MESSAGE value starts at lo:
// "MESSAGE=value\n", or, for a value with a newline, the binary form
// "MESSAGE\n" + 64-bit little-endian length + value + "\n" (journal export
// format). tmp is scratch space.
func frameExport(b []byte, lo int, tmp *[]byte) []byte {
	if bytes.IndexByte(b[lo:], '\n') < 0 {
		return append(b, '\n')
	}
	v := append((*tmp)[:0], b[lo:]...)
	*tmp = v
	b = append(b[:lo-1], '\n') // "MESSAGE=" -> "MESSAGE\n"
	b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
	b = append(b, v...)
	return append(b, '\n')
}

func appendEpoch(b []byte, t int64) []byte {
	b = appendInt(b, floorDiv(t, usPerSec))
	b = append(b, '.')
	us := t - floorDiv(t, usPerSec)*usPerSec
	for div := int64(100000); div > 0; div /= 10 {
		b = append(b, byte('0'+us/div%10))
	}
	return append(b, ' ')
}

func (g *gen) appendIP(b []byte, it *item) []byte {
	b = append(b, "ip=["...)
	b = it.ip.appendCourier(b, it.era == EraPlesk)
	b = append(b, ']')
	if hasPort(it) {
		b = append(b, ", port=["...)
		b = appendInt(b, int64(it.port))
		b = append(b, ']')
	}
	return b
}

func (g *gen) userName(it *item) string {
	if it.name >= 0 {
		return failedNames[it.name]
	}
	return g.users[it.user].name
}

func (g *gen) appendMsg(b []byte, it *item) []byte {
	plesk := it.era == EraPlesk
	pop := isPOP(it.daemon)
	switch it.msg {
	case mEnd:
		if plesk {
			b = appendEpoch(b, msgTime(it))
		}
		b = append(b, keywords[it.kw]...)
		b = append(b, ", user="...)
		b = append(b, g.users[it.user].name...)
		b = append(b, ", "...)
		b = g.appendIP(b, it)
		if pop {
			b = append(b, ", top="...)
			b = appendInt(b, it.a)
			b = append(b, ", retr="...)
		} else {
			b = append(b, ", headers="...)
			b = appendInt(b, it.a)
			b = append(b, ", body="...)
		}
		b = appendInt(b, it.b)
		if plesk {
			b = append(b, ", time="...)
			b = appendInt(b, it.dur)
			b = append(b, ", rcvd="...)
			b = appendInt(b, it.rcvd)
			b = append(b, ", sent="...)
			b = appendInt(b, it.sent)
			b = append(b, ", maildir="...)
			return append(b, g.users[it.user].maildir...)
		}
		if it.era != Era30 {
			b = append(b, ", rcvd="...)
			b = appendInt(b, it.rcvd)
			b = append(b, ", sent="...)
			b = appendInt(b, it.sent)
		}
		b = append(b, ", time="...)
		b = appendInt(b, it.dur)
		return appendTLS(b, it.tls, pop)
	case mPreLogout:
		if plesk {
			b = appendEpoch(b, msgTime(it))
		}
		b = append(b, "LOGOUT, "...)
		b = g.appendIP(b, it)
		b = append(b, ", rcvd="...)
		b = appendInt(b, it.rcvd)
		b = append(b, ", sent="...)
		return appendInt(b, it.sent)
	case mLogoutBare:
		return g.appendIP(append(b, "LOGOUT, "...), it)
	case mLogin:
		if plesk {
			b = appendEpoch(b, msgTime(it))
		}
		b = append(b, "LOGIN, user="...)
		b = append(b, g.users[it.user].name...)
		b = append(b, ", "...)
		b = g.appendIP(b, it)
		if !pop {
			b = append(b, ", protocol=IMAP"...)
		}
		if it.era == Era509 || it.era == Era60 { // TLS flag on LOGIN since 5.2.6
			b = appendTLS(b, it.tls, pop)
		}
		return b
	case mConnection:
		return g.appendIP(append(b, "Connection, "...), it)
	case mLoginFailed:
		if it.era == Era30 { // before user= was added
			return g.appendIP(append(b, "LOGIN FAILED, "...), it)
		}
		b = append(b, "LOGIN FAILED, user="...)
		b = append(b, g.userName(it)...)
		return g.appendIP(append(b, ", "...), it)
	case mLoginFailedMethod:
		return g.appendIP(append(b, "LOGIN FAILED, method=PLAIN, "...), it)
	case mDisconnected:
		b = g.appendIP(append(b, "Disconnected, "...), it)
		b = append(b, ", time="...)
		b = appendInt(b, it.dur)
		return appendTLS(b, it.tls, false)
	case mDisconnectedPOP:
		return g.appendIP(append(b, "Disconnected, "...), it)
	case mTLS:
		if it.era == Era509 || it.era == Era60 { // "ip=[...], " prefix since 5.0.0
			b = append(b, "ip=["...)
			b = it.ip.appendCourier(b, false)
			return append(b, "], couriertls: accept: error:0A000126:SSL routines::unexpected eof while reading"...)
		}
		return append(b, "couriertls: accept: error:1408F10B:SSL routines:SSL3_GET_RECORD:wrong version number"...)
	case mMaxConn:
		return it.ip.appendCourier(append(b, "Maximum connection limit reached for "...), plesk)
	case mSmtpd:
		if it.a == 0 {
			b = append(b, "connect from unknown["...)
			b = appendV4(b, it.ip.v4)
			return append(b, ']')
		}
		b = append(b, "disconnect from unknown["...)
		b = appendV4(b, it.ip.v4)
		return append(b, "] ehlo=1 auth=0/1 quit=1 commands=2/3"...)
	case mQmgr:
		b = appendQueueID(b, uint64(it.a))
		b = append(b, ": from=<noreply+"...)
		b = appendInt(b, it.a%1000)
		b = append(b, "@example.org>, size="...)
		b = appendInt(b, it.b)
		return append(b, ", nrcpt=1 (queue active)"...)
	case mCron:
		return append(b, "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"...)
	case mSshd:
		b = append(b, "Failed password for invalid user "...)
		b = append(b, strings.TrimSpace(failedNames[it.name])...)
		b = append(b, " from "...)
		b = appendV4(b, it.ip.v4)
		b = append(b, " port "...)
		b = appendInt(b, int64(it.port))
		return append(b, " ssh2"...)
	default: // mUW: UW-IMAP shares the identifier imapd
		b = append(b, "Login failed user=root auth=root host=["...)
		b = appendV4(b, it.ip.v4)
		return append(b, ']')
	}
}

func appendQueueID(b []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	for i := 0; i < 10; i++ {
		b = append(b, digits[v&15])
		v >>= 4
	}
	return b
}

func appendTLS(b []byte, tls, pop bool) []byte {
	switch {
	case !tls:
		return b
	case pop:
		return append(b, ", stls=1"...)
	}
	return append(b, ", starttls=1"...)
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm): integer-only, unlike time.Date.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}
