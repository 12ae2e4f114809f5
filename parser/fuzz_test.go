package parser

import (
	"path/filepath"
	"testing"
	"time"
	"unsafe"
)

// within reports whether s is empty or its bytes lie inside in: the parser
// promises substrings (aliases) of its input, never copies.
func within(s, in string) bool {
	if s == "" {
		return true
	}
	if in == "" {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	b := uintptr(unsafe.Pointer(unsafe.StringData(in)))
	return p >= b && p+uintptr(len(s)) <= b+uintptr(len(in))
}

// offsetIn returns the offset of s inside in when s aliases in.
func offsetIn(s, in string) (int, bool) {
	if s == "" || !within(s, in) {
		return 0, false
	}
	return int(uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(in)))), true
}

// seedFromGolden adds every input line of testdata/golden/*.log.
func seedFromGolden(f *testing.F, add func(line string)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.log"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		for _, line := range readGoldenInput(f, file) {
			add(line)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	seedFromGolden(f, func(line string) { f.Add(line) })
	ref, loc := goldenRef(f)
	p, err := New(Options{Location: loc})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var ev Event
		res, err := p.ParseLine(line, ref, &ev)
		checkInvariants(t, line, res, err, &ev)
		for _, s := range []string{ev.Host, ev.Daemon, ev.Keyword, ev.User, ev.IP, ev.Port} {
			if !within(s, line) {
				t.Errorf("%q: field %q is not a substring of the input", line, s)
			}
		}
		if res != Skip && ev.Time.IsZero() {
			t.Errorf("%q: %v without a time", line, res)
		}
	})
}

func FuzzParseMessage(f *testing.F) {
	seedFromGolden(f, func(line string) {
		// Seed the message part of each line ("tag: " onwards) under a
		// known identifier, plus the whole line as a message.
		for i := 0; i+2 < len(line); i++ {
			if line[i] == ':' && line[i+1] == ' ' && i > 16 {
				f.Add("imapd[7]", "mx", line[i+2:])
				f.Add("pop3d", "", line[i+2:])
				break
			}
		}
		f.Add("imapd", "mx", line)
	})
	p, err := New(Options{Location: time.UTC})
	if err != nil {
		f.Fatal(err)
	}
	tm := time.Date(2024, 6, 10, 9, 20, 38, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ident, host, msg string) {
		var ev Event
		res, err := p.ParseMessage(ident, host, tm, 0, msg, &ev)
		checkInvariants(t, msg, res, err, &ev)
		if !within(ev.Host, host) || !within(ev.Daemon, ident) {
			t.Errorf("host %q / daemon %q do not alias the inputs %q / %q", ev.Host, ev.Daemon, host, ident)
		}
		for _, s := range []string{ev.Keyword, ev.User, ev.IP, ev.Port} {
			if !within(s, msg) {
				t.Errorf("%q: field %q is not a substring of the message", msg, s)
			}
		}
		if res != Skip && !ev.Time.Equal(tm) {
			t.Errorf("time %v, want the record time %v", ev.Time, tm)
		}
	})
}
