package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// Unit is a display unit of the text report: a name and the number of bytes
// it stands for.
type Unit struct {
	Name  string // as printed in the unit column: "B", "KB", "MiB", ...
	Bytes int64  // bytes per unit: a power of 1000 or 1024
}

// units lists every accepted unit; decimal units follow the classic script
// (UNIT=0..4 meant B, KB, MB, GB, TB as powers of 10^3), binary ones are the
// IEC names, never mixed up with the decimal ones.
var units = []Unit{
	{"B", 1},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
}

// DefaultUnit is the classic script's UNIT=2: MB (10^6 bytes).
var DefaultUnit = Unit{"MB", 1e6}

// DefaultThreshold is the classic script's THRESHOLD (almost 3 MB): users whose
// day total is not above it get no row (they still count in the total row).
const DefaultThreshold = 2900000

// ParseUnit accepts the unit names of Units, case-insensitively for the
// decimal prefixes ("mb" is MB) but keeping the IEC "i" distinct.
func ParseUnit(s string) (Unit, error) {
	for _, u := range units {
		if strings.EqualFold(s, u.Name) {
			return u, nil
		}
	}
	return Unit{}, fmt.Errorf("unit %q: want one of %s", s, unitNames())
}

func unitNames() string {
	names := make([]string, len(units))
	for i, u := range units {
		names[i] = u.Name
	}
	return strings.Join(names, ", ")
}

// ParseThreshold reads a byte count: a plain non-negative integer ("2900000")
// or a number with a unit ("3MB", "2.9 MB", "1GiB"). A fractional value is
// rounded to the nearest byte. The result is in bytes.
func ParseThreshold(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, suffix := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("threshold %q: want a byte count such as 2900000 or 3MB", s)
	}
	mult := int64(1)
	if suffix != "" {
		u, err := ParseUnit(suffix)
		if err != nil {
			return 0, fmt.Errorf("threshold %q: %w", s, err)
		}
		mult = u.Bytes
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("threshold %q: not a byte count that fits in 64 bits", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("threshold %q: %w", s, err)
	}
	v := math.Round(f * float64(mult))
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("threshold %q: not a byte count that fits in 64 bits", s)
	}
	return int64(v), nil
}

// Service selects the sessions a report counts.
type Service uint8

const (
	IMAP Service = iota + 1
	POP3
	All
)

// ParseService accepts imap, pop3 and all (case-insensitive).
func ParseService(s string) (Service, error) {
	switch strings.ToLower(s) {
	case "imap":
		return IMAP, nil
	case "pop3":
		return POP3, nil
	case "all":
		return All, nil
	}
	return 0, fmt.Errorf("service %q: want imap, pop3 or all", s)
}

// String is the flag and JSON/CSV value: imap, pop3, all.
func (s Service) String() string {
	switch s {
	case IMAP:
		return "imap"
	case POP3:
		return "pop3"
	case All:
		return "all"
	}
	return "Service(" + strconv.Itoa(int(s)) + ")"
}

// Label is the name in the text header: IMAP, POP3, IMAP+POP3.
func (s Service) Label() string {
	switch s {
	case IMAP:
		return "IMAP"
	case POP3:
		return "POP3"
	}
	return "IMAP+POP3"
}

// Match reports whether a parsed session belongs to the selection.
func (s Service) Match(p parser.Service) bool {
	switch s {
	case IMAP:
		return p == parser.IMAP
	case POP3:
		return p == parser.POP3
	case All:
		return p == parser.IMAP || p == parser.POP3
	}
	return false
}

// Date is a calendar day, without a zone: the report's day is this date in
// the report's time zone (see Date.Bounds).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns t's calendar day in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String is the ISO form, 2026-07-23: the date field of JSON and CSV output.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Syslog is the classic script's form, `date +%b\ %e`: "Jul 23", "Jul  3".
func (d Date) Syslog() string {
	return fmt.Sprintf("%s %2d", d.Month.String()[:3], d.Day)
}

// Bounds returns the day's first instant and the next day's first instant in
// loc. Using the calendar (not 24 hours) keeps DST days at 23 or 25 hours.
func (d Date) Bounds(loc *time.Location) (start, end time.Time) {
	start = time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	end = time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
	return start, end
}

// ParseDate reads the --date flag: "today", "yesterday", "YYYY-MM-DD", or the
// classic script's "Mon D" form ("Jul 23", "Jul  3", "jul 3"). now must be in
// the report's zone. A "Mon D" date has no year: year is used when non-zero
// (the --year flag), otherwise the latest such day that is not more than one
// day after now, the same rule as the year inference for log lines
// (docs/design.md, Time), so "Dec 31" on January 1st means last year.
func ParseDate(s string, now time.Time, year int) (Date, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "today":
		return DateOf(now), nil
	case "yesterday":
		return DateOf(now.AddDate(0, 0, -1)), nil
	}
	if len(t) == 10 && t[4] == '-' && t[7] == '-' {
		p, err := time.Parse("2006-01-02", t)
		if err != nil {
			return Date{}, fmt.Errorf("date %q: %w", s, err)
		}
		return DateOf(p), nil
	}
	fields := strings.Fields(t)
	if len(fields) != 2 || len(fields[0]) != 3 {
		return Date{}, fmt.Errorf("date %q: want today, yesterday, YYYY-MM-DD or Mon D (Jul 23)", s)
	}
	var month time.Month
	for m := time.January; m <= time.December; m++ {
		if strings.EqualFold(fields[0], m.String()[:3]) {
			month = m
		}
	}
	day, err := strconv.Atoi(fields[1])
	if month == 0 || err != nil || day < 1 || day > 31 {
		return Date{}, fmt.Errorf("date %q: want Mon D with an English month abbreviation and a day 1..31", s)
	}
	if year == 0 {
		year = now.Year()
		limit := now.AddDate(0, 0, 1)
		if time.Date(year, month, day, 0, 0, 0, 0, now.Location()).After(limit) {
			year--
		}
	}
	if time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Day() != day {
		return Date{}, fmt.Errorf("date %q: %s %d does not exist in %d", s, month, day, year)
	}
	return Date{year, month, day}, nil
}
