package loggen

import (
	"testing"
	"time"
)

// FuzzGenerate drives the generator with arbitrary small options and checks
// the truth against the independent re-count: whatever the options, the
// generator must not panic, must keep its line invariants and must tell the
// truth.
func FuzzGenerate(f *testing.F) {
	f.Add(int64(1), uint16(50), uint8(0), uint8(0x3f), uint8(3), uint8(20), uint8(30), uint8(0), uint16(0))
	f.Add(int64(-7), uint16(900), uint8(3), uint8(0x26), uint8(1), uint8(200), uint8(255), uint8(255), uint16(333))
	f.Fuzz(func(t *testing.T, seed int64, sessions uint16, format, eraMask, users, repeats, markers, noise uint8, maxLines uint16) {
		var eras []Era
		for i, e := range AllEras {
			if eraMask&(1<<i) != 0 {
				eras = append(eras, e)
			}
		}
		start := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
		o := Options{
			Seed: seed, Start: start, Days: 2,
			SessionsPerDay: 1 + int(sessions%1000),
			Format:         Format(format % 4),
			Eras:           eras,
			Users:          1 + int(users%40),
			RepeatBursts:   float64(repeats)/255 - 0.1, // some negative: none
			RsyslogMarkers: float64(markers) / 255,
			NoiseRatio:     float64(noise)/32 - 1,
			MaxLines:       int64(maxLines),
			BigUsers:       int(users%3) - 1,
		}
		lines, tr := collect(t, o)
		checkTruth(t, lines, tr, start)
		if o.MaxLines > 0 && tr.Lines != o.MaxLines {
			t.Fatalf("MaxLines %d, wrote %d", o.MaxLines, tr.Lines)
		}
	})
}

// FuzzGenerateStamps drives the formats and options of reception-stamped
// repeats (RFC 5424, forward, journal export, boundary bursts, twins) and
// checks the truth against the independent re-count, which counts a copy
// once when it follows an equal line by less than 1 s.
func FuzzGenerateStamps(f *testing.F) {
	f.Add(int64(1), uint16(50), uint8(4), uint8(0x3f), uint8(3), uint8(60), uint8(0), uint8(3), uint8(20), uint16(0))
	f.Add(int64(9), uint16(400), uint8(6), uint8(0x26), uint8(1), uint8(200), uint8(0), uint8(1), uint8(255), uint16(0))
	f.Add(int64(-3), uint16(999), uint8(1), uint8(0x0e), uint8(2), uint8(255), uint8(40), uint8(2), uint8(90), uint16(5000))
	f.Add(int64(77), uint16(5), uint8(5), uint8(0x20), uint8(0), uint8(10), uint8(255), uint8(0), uint8(0), uint16(1))
	f.Fuzz(func(t *testing.T, seed int64, sessions uint16, format, eraMask, users, repeats, markers, mode, twins uint8, maxLines uint16) {
		var eras []Era
		for i, e := range AllEras {
			if eraMask&(1<<i) != 0 {
				eras = append(eras, e)
			}
		}
		// The microsecond formats: rfc3339, rfc5424, forward, export.
		fm := []Format{RFC3339, RFC5424, Forward, Export}[format%4]
		start := time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC)
		loc := time.UTC
		if mode&2 != 0 {
			loc = berlin(t)
		}
		o := Options{
			Seed: seed, Start: start, Days: 1, Location: loc,
			SessionsPerDay: 1 + int(sessions%200),
			Format:         fm,
			Eras:           eras,
			Users:          1 + int(users%40),
			RepeatBursts:   float64(repeats)/255 - 0.1,
			CopyStamps:     CopyReception,
			BoundaryBursts: mode&1 != 0,
			Twins:          float64(twins)/255 - 0.2,
			MaxLines:       int64(maxLines),
			BigUsers:       int(users%3) - 1,
		}
		if fm != Export {
			o.RsyslogMarkers = float64(markers) / 255
		}
		if mode&4 != 0 && fm != Export {
			o.CopyStamps = CopyOriginal
			o.BoundaryBursts = false
		}
		lines, tr := collect(t, o)
		rc := checkTruth(t, lines, tr, start)
		if o.MaxLines > 0 && tr.Lines != o.MaxLines {
			t.Fatalf("MaxLines %d, wrote %d", o.MaxLines, tr.Lines)
		}
		if o.CopyStamps == CopyReception && (rc.maxStep >= 500_000 || rc.backwards != 0 || rc.stamped != int(tr.RepeatLines)) {
			t.Fatalf("reception stamps: largest step %d µs, %d lines back in time, %d of %d copies stamped", rc.maxStep, rc.backwards, rc.stamped, tr.RepeatLines)
		}
	})
}
