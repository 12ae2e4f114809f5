package parser

import (
	"strconv"
	"strings"
	"testing"
)

// The word-at-a-time helpers must agree with plain byte loops for every
// input: these tests compare them on all short strings built from the bytes
// that matter (and FuzzCounter on anything).

// TestFieldKeys: every key of the fast path has its own slot, and a word
// starting with it finds it there.
func TestFieldKeys(t *testing.T) {
	keys := []string{", headers=", ", body=", ", top=", ", retr=", ", rcvd=", ", sent=", ", time=", ", starttls=", ", stls=", ", port=["}
	used := 0
	for _, fk := range fieldKeys {
		if fk.bit != 0 {
			used++
		}
	}
	if used != len(keys) {
		t.Errorf("%d slots used, want %d (a collision overwrote a key)", used, len(keys))
	}
	for _, k := range keys {
		line := k + "123, x=1"
		fk := fieldKeys[keySlot(load8(line, 0))]
		if fk.kl != len(k) || load8(line, 0)&fk.mask != fk.word {
			t.Errorf("key %q: slot holds kl=%d word=%#x", k, fk.kl, fk.word)
		}
	}
}

func TestLoad8(t *testing.T) {
	if got, want := load8("xabcdefgh", 1), uint64(0x6867666564636261); got != want {
		t.Errorf("load8 = %#x, want %#x", got, want)
	}
}

// words returns every string of length n over alphabet (n small).
func words(alphabet string, n int) []string {
	out := []string{""}
	for i := 0; i < n; i++ {
		var next []string
		for _, w := range out {
			for j := 0; j < len(alphabet); j++ {
				next = append(next, w+alphabet[j:j+1])
			}
		}
		out = next
	}
	return out
}

func TestIndexByteFromAndBracketed(t *testing.T) {
	// 9-byte strings: one full word and a tail byte, every position.
	for _, s := range words("a[]\x80", 9) {
		for i := 0; i <= len(s); i++ {
			want := strings.IndexByte(s[i:], ']')
			if want >= 0 {
				want += i
			}
			if got := indexByteFrom(s, i, ']'); got != want {
				t.Fatalf("indexByteFrom(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
		want := -1
		if k := strings.IndexAny(s, "[]"); k >= 0 {
			want = k
			if s[k] == '[' {
				want = -2
			}
		}
		if got := bracketed(s); got != want {
			t.Fatalf("bracketed(%q) = %d, want %d", s, got, want)
		}
		wantTag := len(s)
		if k := strings.IndexAny(s, ":[ "); k >= 0 {
			wantTag = k
		}
		if got := tagEnd(s, 0); got != wantTag {
			t.Fatalf("tagEnd(%q) = %d, want %d", s, got, wantTag)
		}
	}
}

func TestIndexIPKey(t *testing.T) {
	for _, s := range []string{"", ", ip=[", "x, ip=[1]", ", user=a[b], ip=[1], ip=[2]", ", user=, ip=x, ip=[", "[[[[, ip=[", ", ip=", ", user=a, ip=[", "ip=[, ip=["} {
		for k := 0; k <= len(s); k++ {
			want := strings.Index(s[k:], ipKey)
			if want >= 0 {
				want += k
			}
			if got := indexIPKey(s, k); got != want {
				t.Errorf("indexIPKey(%q, %d) = %d, want %d", s, k, got, want)
			}
		}
	}
}

func TestDigitRunAndSwar8(t *testing.T) {
	for _, s := range words("09,\x00\xff", 8) {
		t8 := load8(s, 0) ^ 0x3030303030303030
		want := 0
		for want < 8 && isDigit(s[want]) {
			want++
		}
		d := digitRun(t8)
		if d != want {
			t.Fatalf("digitRun(%q) = %d, want %d", s, d, want)
		}
		n, _ := strconv.ParseUint("0"+s[:d], 10, 64)
		if got := swar8(t8 << (64 - 8*d)); got != n {
			t.Fatalf("swar8 of %q = %d, want %d", s[:d], got, n)
		}
	}
}

func TestClockWord(t *testing.T) {
	for _, s := range append(words("09:", 8), "23:59:59", "24:00:00", "00:60:00", "12:34:5x", "1:23:45 ", "\xff1:23:45") {
		var a, b stamp
		if ok1, ok2 := clock(s, 0, &a), clockBytes(s, 0, &b); ok1 != ok2 || a != b {
			t.Fatalf("clock(%q) = %v %+v, byte path %v %+v", s, ok1, a, ok2, b)
		}
	}
}

// FuzzCounter: counter (word path) equals counterTail (the byte loop,
// which is the original definition) for any input and offset.
func FuzzCounter(f *testing.F) {
	for _, s := range []string{"0", "12,", "1234567,x", "12345678,", "123456789012345678,", "9223372036854775807", "9223372036854775808,", "-1,", ",", "12a,", "00000000000000000000001"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, i int) {
		if i < 0 || i > len(s) {
			return
		}
		n1, j1, why1 := counter(s, i)
		n2, j2, why2 := counterTail(s, i)
		if n1 != n2 || j1 != j2 || why1 != why2 {
			t.Fatalf("counter(%q, %d) = %d, %d, %q; byte loop %d, %d, %q", s, i, n1, j1, why1, n2, j2, why2)
		}
	})
}
