package main

import (
	"fmt"
	"strings"
	"time"
)

// The classic report printed in the article that published the classic
// script, for 'Jul 23'. The
// article's copy lost the blank line the script prints before the total
// row; the script itself prints it, and so do we.
const seedExample = `== Courier IMAP traffic stats per user of Jul 23 ==

                     example    624 MB  [#    3: r     0 s   623 ]
                another-user     90 MB  [#   36: r    40 s    50 ]
            and.another-user     89 MB  [#    7: r    85 s     4 ]
                   and.so.on     68 MB  [#   92: r    10 s    58 ]
                and-so-forth     42 MB  [#   20: r    31 s    10 ]

                 -- total --   1002 MB  [# 1027: r   207 s   795 ]
`

// seedUser is one user of the constructed log with exact day totals.
type seedUser struct {
	name           string
	sessions       int
	rcvd, sent     int64
	service        string // "imap" (default) or "pop3"
	day            int    // day of July (default 23)
	unauthenticate bool
}

// seedUsers returns the users whose Jul 23 IMAP sessions print the article's
// report: the five ranked users with byte sums that truncate to the shown
// MB values, and 40 quiet users below the threshold (2,187,500 bytes each)
// that bring the total row to 1027 sessions, 207 MB received, 795 MB sent.
func seedUsers() []seedUser {
	us := []seedUser{
		{name: "example", sessions: 3, rcvd: 400_000, sent: 623_700_000},
		{name: "another-user", sessions: 36, rcvd: 40_300_000, sent: 50_300_000},
		{name: "and.another-user", sessions: 7, rcvd: 85_500_000, sent: 4_400_000},
		{name: "and.so.on", sessions: 92, rcvd: 10_200_000, sent: 58_200_000},
		{name: "and-so-forth", sessions: 20, rcvd: 31_600_000, sent: 10_600_000},
	}
	// 869 sessions: 29 users with 22, 11 with 21.
	for i := range 40 {
		n := 22
		if i >= 29 {
			n = 21
		}
		us = append(us, seedUser{name: fmt.Sprintf("user%02d@example.org", i+1), sessions: n, rcvd: 987_500, sent: 1_200_000})
	}
	// Traffic the IMAP report of Jul 23 must not count: POP3 (counted by
	// --service pop3/all), the days before and after.
	us = append(us,
		seedUser{name: "example", sessions: 4, rcvd: 2_000, sent: 31_000_000, service: "pop3"},
		seedUser{name: "pop.only", sessions: 9, rcvd: 9_000, sent: 12_500_000, service: "pop3"},
		seedUser{name: "another-user", sessions: 5, rcvd: 5_000_000, sent: 5_000_000, day: 22},
		seedUser{name: "and.so.on", sessions: 5, rcvd: 5_000_000, sent: 5_000_000, day: 24},
	)
	return us
}

// split divides total into n positive parts with uneven, deterministic
// weights; the parts add up to total exactly.
func split(total int64, n int, salt int) []int64 {
	w := make([]int64, n)
	var sum int64
	for i := range w {
		w[i] = 1 + int64((i*7919+salt*104729)%13)
		sum += w[i]
	}
	parts := make([]int64, n)
	var acc int64
	for i := range parts {
		parts[i] = total * w[i] / sum
		acc += parts[i]
	}
	parts[n-1] += total - acc
	return parts
}

// seedLog builds the quick-start log: the sessions of seedUsers spread over
// their day in time order, in the courier-imap 4.8 format of the article
// (imapd-ssl, no port), with the noise of a real mail.log: LOGIN lines,
// postfix, a pre-login LOGOUT without user, and one byte-identical adjacent
// repeat (the Courier bug the classic script's uniq works around). It has no
// non-adjacent repeats, no user names with blanks or commas and no sum over
// 2^31, so the classic script reads it right and prints the article's
// report.
func seedLog() string {
	type line struct {
		t    time.Time
		text string
	}
	var lines []line
	base := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for ui, u := range seedUsers() {
		day := u.day
		if day == 0 {
			day = 23
		}
		rc := split(u.rcvd, u.sessions, ui)
		sn := split(u.sent, u.sessions, ui+7)
		for s := range u.sessions {
			// Spread the sessions over the day, per user, deterministically.
			sec := (ui*7717 + s*86399/u.sessions + s*131) % 86400
			t := base.AddDate(0, 0, day-1).Add(time.Duration(sec) * time.Second)
			ip := fmt.Sprintf("::ffff:198.51.100.%d", 1+(ui*13+s)%250)
			var text string
			if u.service == "pop3" {
				text = fmt.Sprintf("server pop3d-ssl: LOGOUT, user=%s, ip=[%s], port=[%d], top=0, retr=%d, rcvd=%d, sent=%d, time=%d, stls=1",
					u.name, ip, 40000+s, sn[s]-sn[s]/50, rc[s], sn[s], 1+s%300)
			} else {
				text = fmt.Sprintf("server imapd-ssl: LOGOUT, user=%s, ip=[%s], headers=0, body=%d, rcvd=%d, sent=%d, time=%d, starttls=1",
					u.name, ip, sn[s]/3, rc[s], sn[s], 1+(s*37)%900)
			}
			lines = append(lines, line{t, text})
			if s%4 == 0 {
				login := t.Add(-time.Duration(1+(s*37)%900) * time.Second)
				lines = append(lines, line{login, fmt.Sprintf("server imapd-ssl: LOGIN, user=%s, ip=[%s], port=[%d], protocol=IMAP", u.name, ip, 50000+s)})
			}
		}
	}
	day23 := base.AddDate(0, 0, 22)
	lines = append(lines,
		line{day23.Add(3 * time.Hour), "server postfix/smtpd[2211]: connect from unknown[203.0.113.9]"},
		line{day23.Add(3*time.Hour + time.Second), "server imapd-ssl: LOGOUT, ip=[::ffff:203.0.113.9], rcvd=56, sent=412"},
		line{day23.Add(7 * time.Hour), "server imapd-ssl: LOGIN FAILED, user=admin, ip=[::ffff:203.0.113.50]"},
		line{day23.Add(9 * time.Hour), "server CRON[3311]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"},
	)
	// Stable time order (ties keep their construction order).
	sortLines := func() {
		for i := 1; i < len(lines); i++ {
			for j := i; j > 0 && lines[j].t.Before(lines[j-1].t); j-- {
				lines[j], lines[j-1] = lines[j-1], lines[j]
			}
		}
	}
	sortLines()
	var b strings.Builder
	repeated := false
	for _, l := range lines {
		s := l.t.Format(time.Stamp) + " " + l.text + "\n"
		b.WriteString(s)
		// One adjacent byte-identical repeat of a counted session: the
		// Courier bug; both the script's uniq and our dedup drop it.
		if !repeated && l.t.Day() == 23 && l.t.Hour() == 12 && strings.Contains(s, "imapd-ssl: LOGOUT, user=and.so.on") {
			b.WriteString(s)
			repeated = true
		}
	}
	return b.String()
}
