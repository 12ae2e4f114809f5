package parser

import (
	"strconv"
	"testing"
	"time"
)

// benchLines builds a deterministic, varied mix of n mail.log lines: about
// one third Courier session ends (IMAP and POP3, every era, RFC 3339 and
// classic headers), the rest Courier LOGIN/Connection/LOGIN FAILED lines
// and postfix/cron/dovecot-style noise. A small LCG keeps it reproducible
// without depending on internal/loggen.
func benchLines(n int) []string {
	var s uint64 = 0x9e3779b97f4a7c15
	rnd := func(k int) int {
		s = s*6364136223846793005 + 1442695040888963407
		return int((s >> 33) % uint64(k))
	}
	users := []string{"alice@example.com", "bob", "carol.smith@mail.example.org", "dave+lists@example.net",
		"EVE@EXAMPLE.ORG", "frank", "grace@sub.example.co.uk", "heidi"}
	ip := func() string {
		return "::ffff:" + strconv.Itoa(10+rnd(200)) + "." + strconv.Itoa(rnd(256)) + "." + strconv.Itoa(rnd(256)) + "." + strconv.Itoa(1+rnd(254))
	}
	num := func(max int) string { return strconv.Itoa(rnd(max)) }
	stamp := func() string {
		if rnd(4) == 0 {
			return "2024-06-" + strconv.Itoa(10+rnd(9)) + "T0" + strconv.Itoa(rnd(10)) + ":" + strconv.Itoa(10+rnd(50)) + ":" + strconv.Itoa(10+rnd(50)) + "." + strconv.Itoa(100000+rnd(900000)) + "+02:00"
		}
		return "Jun " + strconv.Itoa(10+rnd(19)) + " 0" + strconv.Itoa(rnd(10)) + ":" + strconv.Itoa(10+rnd(50)) + ":" + strconv.Itoa(10+rnd(50))
	}
	lines := make([]string, 0, n)
	for len(lines) < n {
		h := stamp() + " mx "
		u, a, port := users[rnd(len(users))], ip(), num(65536)
		var l string
		switch k := rnd(12); k {
		case 0, 1: // IMAP session end, 5.0.9+
			kw := []string{"LOGOUT", "LOGOUT", "DISCONNECTED", "TIMEOUT"}[rnd(4)]
			l = h + "imapd: " + kw + ", user=" + u + ", ip=[" + a + "], port=[" + port + "], headers=" + num(100000) + ", body=" + num(10000000) + ", rcvd=" + num(5000) + ", sent=" + num(20000000) + ", time=" + num(4000)
			if rnd(2) == 0 {
				l += ", starttls=1"
			}
		case 2: // POP3 session end
			kw := []string{"LOGOUT", "disc", "TIMEOUT"}[rnd(3)]
			l = h + "pop3d-ssl: " + kw + ", user=" + u + ", ip=[" + a + "], port=[" + port + "], top=0, retr=" + num(10000000) + ", rcvd=" + num(500) + ", sent=" + num(10000000) + ", time=" + num(300) + ", stls=1"
		case 3: // 4.x IMAP without port, or pre-login
			if rnd(2) == 0 {
				l = h + "imapd-ssl: LOGOUT, user=" + u + ", ip=[" + a + "], headers=0, body=" + num(100000) + ", rcvd=" + num(500) + ", sent=" + num(5000) + ", time=" + num(100) + ", starttls=1"
			} else {
				l = h + "imapd: LOGOUT, ip=[" + a + "], port=[" + port + "], rcvd=" + num(100) + ", sent=" + num(500)
			}
		case 4, 5:
			l = h + "imapd: LOGIN, user=" + u + ", ip=[" + a + "], port=[" + port + "], protocol=IMAP"
		case 6:
			l = h + "imapd: Connection, ip=[" + a + "], port=[" + port + "]"
		case 7:
			l = h + "pop3d: LOGIN FAILED, user=" + u + ", ip=[" + a + "], port=[" + port + "]"
		case 8:
			l = h + "postfix/smtpd[" + num(30000) + "]: connect from unknown[" + a[7:] + "]"
		case 9:
			l = h + "postfix/qmgr[" + num(30000) + "]: 4F1C21A0B2C: from=<" + u + ">, size=" + num(100000) + ", nrcpt=1 (queue active)"
		case 10:
			l = h + "CRON[" + num(30000) + "]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
		case 11:
			l = h + "postfix/smtp[" + num(30000) + "]: 4F1C21A0B2C: to=<" + u + ">, relay=mx.example.net[" + a[7:] + "]:25, delay=0.4, dsn=2.0.0, status=sent (250 OK)"
		}
		lines = append(lines, l)
	}
	return lines
}

// reportCPU adds cpu-ns/op (process CPU time per op since cpu0) and the
// lines per CPU-second it implies.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.Helper()
	cpu := processCPU() - cpu0
	if cpu <= 0 {
		return
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
}

func benchParser(b *testing.B) (*Parser, time.Time) {
	b.Helper()
	ref, loc := goldenRef(b)
	p, err := New(Options{Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	return p, ref
}

func totalBytes(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return n
}

func runLineBench(b *testing.B, lines []string) {
	p, ref := benchParser(b)
	b.ReportAllocs()
	b.SetBytes(int64(totalBytes(lines) / len(lines)))
	var ev Event
	traffic := 0
	b.ResetTimer()
	cpu0 := processCPU()
	j := 0
	for i := 0; i < b.N; i++ {
		// A wrapping index, not i%len: a division per op would be
		// measured too.
		if j == len(lines) {
			j = 0
		}
		res, err := p.ParseLine(lines[j], ref, &ev)
		j++
		if err != nil {
			b.Fatal(err)
		}
		if res == Traffic {
			traffic++
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if traffic == 0 {
		b.Fatal("no traffic lines parsed")
	}
}

// BenchmarkParseLine: the realistic mix (about 1/3 traffic).
func BenchmarkParseLine(b *testing.B) {
	runLineBench(b, benchLines(4096))
}

// BenchmarkParseLineTraffic: session ends only; must be 0 allocs/op.
func BenchmarkParseLineTraffic(b *testing.B) {
	p, ref := benchParser(b)
	var traffic []string
	var ev Event
	for _, l := range benchLines(12000) {
		if res, _ := p.ParseLine(l, ref, &ev); res == Traffic {
			traffic = append(traffic, l)
		}
	}
	runLineBench(b, traffic)
}

// BenchmarkParseMessage: structured records (systemd input), the mix's
// messages under their identifiers.
func BenchmarkParseMessage(b *testing.B) {
	p, _ := benchParser(b)
	type rec struct{ ident, msg string }
	var recs []rec
	for _, l := range benchLines(4096) {
		// split "stamp host ident: msg" by scanning the header like ParseLine.
		var st stamp
		i := scanStamp(l, &st)
		for i < len(l) && l[i] != ' ' {
			i++
		}
		ident, m, ok := scanTag(l, i+1)
		if ok {
			recs = append(recs, rec{ident, l[m:]})
		}
	}
	tm := time.Date(2024, 6, 10, 9, 20, 38, 412907000, time.UTC)
	b.ReportAllocs()
	n := 0
	for _, r := range recs {
		n += len(r.msg)
	}
	b.SetBytes(int64(n / len(recs)))
	var ev Event
	b.ResetTimer()
	cpu0 := processCPU()
	j := 0
	for i := 0; i < b.N; i++ {
		if j == len(recs) {
			j = 0
		}
		r := recs[j]
		j++
		if _, err := p.ParseMessage(r.ident, "mx", tm, time.Microsecond, r.msg, &ev); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInferYear isolates the year inference of classic stamps.
func BenchmarkInferYear(b *testing.B) {
	ref, loc := goldenRef(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := InferYear(time.June, 10, 9, 20, 38, 0, loc, ref); !ok {
			b.Fatal("no year")
		}
	}
}
