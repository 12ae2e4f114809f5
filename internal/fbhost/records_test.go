package fbhost

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// decodeRecord reads one record line the way host.c's build_chunk does:
// tokens split at single spaces (at most 512), keys and value texts
// unescaped with its unescape, the time taken as is. It is the oracle of
// the round-trip tests.
func decodeRecord(line string) (Record, error) {
	toks := strings.Split(line, " ")
	if len(toks) > 512 {
		return Record{}, errors.New("more than 512 tokens: host.c drops the rest")
	}
	if len(toks)%2 != 1 {
		return Record{}, errors.New("want TS followed by key/value pairs")
	}
	r := Record{TS: toks[0]}
	for i := 1; i < len(toks); i += 2 {
		k, err := unescape(toks[i])
		if err != nil {
			return Record{}, err
		}
		v := toks[i+1]
		if len(v) < 2 || v[1] != ':' {
			return Record{}, errors.New("bad value")
		}
		text, err := unescape(v[2:])
		if err != nil {
			return Record{}, err
		}
		r.KV = append(r.KV, k, v[:2]+text)
	}
	return r, nil
}

// unescape is host.c's unescape: %XX with either case of hex.
func unescape(s string) (string, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("short escape")
		}
		h, l := unhex(s[i+1]), unhex(s[i+2])
		if h < 0 || l < 0 {
			return "", errors.New("bad escape")
		}
		b = append(b, byte(h<<4|l))
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// goldenRecords cover every time form, every value type, and every class
// of byte the escaping handles.
var goldenRecords = []Record{
	{TS: EventTime(time.Date(2026, 5, 4, 10, 0, 7, 5, time.UTC)), KV: []string{"log", "s:May  4 10:00:07 mx imapd: LOGOUT, user=a b%c, rcvd=1"}},
	{TS: "i:1777888807", KV: []string{"MESSAGE", "b:\x00\x01\t\n\r\x7f\x80\xff é", "_PID", "i:-5", "PRIORITY", "u:6"}},
	{TS: "f:1777888807.25", KV: []string{"key with space", "s:", "%", "s:%%41"}},
	{TS: "g:start", KV: []string{"resource", "s:x"}},
	{TS: "g:end"},
}

// TestRecordsGolden: the bytes of a record file are what host.c reads; a
// change shows in the diff of testdata/records.golden.
func TestRecordsGolden(t *testing.T) {
	var b []byte
	for i, r := range goldenRecords {
		var err error
		if b, err = AppendRecord(b, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	path := filepath.Join("testdata", "records.golden")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("%s changed (-want +got); if intended, run go test -update and review the diff:\n%s", path, diff)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(goldenRecords) {
		t.Fatalf("%d lines for %d records", len(lines), len(goldenRecords))
	}
	for i, l := range lines {
		got, err := decodeRecord(l)
		if err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if diff := cmp.Diff(goldenRecords[i], got); diff != "" {
			t.Errorf("record %d round trip (-want +got):\n%s", i, diff)
		}
	}
}

func TestAppendRecordErrors(t *testing.T) {
	many := make([]string, 2*(maxPairs+1))
	for i := range many {
		many[i] = "s:x"
	}
	cases := []struct {
		name string
		r    Record
		err  string
	}{
		{"empty time", Record{}, "want e:SEC.NSEC"},
		{"unknown time form", Record{TS: "x:1"}, "want e:SEC.NSEC"},
		{"bare prefix", Record{TS: "e:"}, "want e:SEC.NSEC"},
		{"space in time", Record{TS: "e:1 2"}, "not allowed"},
		{"odd key/values", Record{TS: "i:1", KV: []string{"log"}}, "want pairs"},
		{"untyped value", Record{TS: "i:1", KV: []string{"log", "plain"}}, `key "log" has no type prefix`},
		{"unknown type", Record{TS: "i:1", KV: []string{"log", "x:y"}}, "no type prefix"},
		{"too many pairs", Record{TS: "i:1", KV: many}, "at most 255"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := []byte("keep")
			got, err := AppendRecord(b, c.r)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("AppendRecord(%+v) error %v, want one containing %q", c.r, err, c.err)
			}
			if string(got) != "keep" {
				t.Errorf("AppendRecord changed b on error: %q", got)
			}
		})
	}
	t.Run("255 pairs fit", func(t *testing.T) {
		b, err := AppendRecord(nil, Record{TS: "i:1", KV: many[:2*maxPairs]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeRecord(strings.TrimSuffix(string(b), "\n")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestEventTime(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(0, 0), "e:0.0"},
		{time.Unix(5, 7), "e:5.7"}, // not zero-padded: host.c reads NSEC as a number
		{time.Date(2026, 5, 4, 10, 0, 7, 999_999_999, time.FixedZone("x", 7200)), "e:1777881607.999999999"},
	} {
		if got := EventTime(c.t); got != c.want {
			t.Errorf("EventTime(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

// FuzzRecordRoundTrip: any key and value text survive the escaping: one
// line, three tokens, decoded by host.c's rules to the input.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("log", "May  4 10:00:07 mx imapd: LOGOUT, user=a b%c")
	f.Add("", "")
	f.Add("k\n", "\x00%zz\xff\r\n ")
	f.Fuzz(func(t *testing.T, key, value string) {
		r := Record{TS: "e:1.2", KV: []string{key, "b:" + value}}
		b, err := AppendRecord(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		line, ok := bytes.CutSuffix(b, []byte("\n"))
		if !ok || bytes.ContainsAny(line, "\n") {
			t.Fatalf("record %q: not exactly one line", b)
		}
		got, err := decodeRecord(string(line))
		if err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", line, diff)
		}
		s := Escape(value)
		if s != string(AppendEscaped(nil, value)) {
			t.Fatalf("Escape(%q) = %q, AppendEscaped %q", value, s, AppendEscaped(nil, value))
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				t.Fatalf("Escape(%q) = %q: byte %#x left as is", value, s, s[i])
			}
		}
	})
}
