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
