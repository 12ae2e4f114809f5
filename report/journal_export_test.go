package report

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decodeExport(t testing.TB, in string) ([]jrec, JournalStats) {
	t.Helper()
	var got []jrec
	st, err := DecodeJournalExport(strings.NewReader(in), func(r *JournalRecord) error {
		got = append(got, cloneRec(r))
		return nil
	})
	if err != nil {
		t.Fatalf("DecodeJournalExport: %v", err)
	}
	return got, st
}

// bin is a field in the binary form.
func bin(name, v string) string {
	var b bytes.Buffer
	b.WriteString(name + "\n")
	binary.Write(&b, binary.LittleEndian, uint64(len(v)))
	return b.String() + v + "\n"
}

// TestDecodeJournalExport: the export format's forms, each decoded or
// counted as garbled, never failing the read; after a framing error the
// next entry decodes.
func TestDecodeJournalExport(t *testing.T) {
	const msg = "LOGOUT, user=alice, ip=[::ffff:10.0.0.1], port=[4242], headers=0, body=0, rcvd=100, sent=200, time=5"
	ok := "__REALTIME_TIMESTAMP=9\nMESSAGE=ok\n\n"
	okRec := jrec{"", "", "ok", 9}
	long := strings.Repeat("x", 600<<10)
	tests := []struct {
		name    string
		in      string
		want    []jrec
		garbled int64
	}{
		{"journalctl's fields, source time wins",
			"__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1783060607100001\n__MONOTONIC_TIMESTAMP=1000\n_BOOT_ID=b\n" +
				"_SOURCE_REALTIME_TIMESTAMP=1783060607100000\nSYSLOG_IDENTIFIER=imapd\n_HOSTNAME=mx1\nMESSAGE=" + msg + "\n\n",
			[]jrec{{"imapd", "mx1", msg, 1783060607100000}}, 0},
		{"realtime without a source time, fields in any order",
			"MESSAGE=m\nSYSLOG_IDENTIFIER=imapd\n__REALTIME_TIMESTAMP=1783060607100001\n\n",
			[]jrec{{"imapd", "", "m", 1783060607100001}}, 0},
		{"realtime when the source time is not a number",
			"__REALTIME_TIMESTAMP=5\n_SOURCE_REALTIME_TIMESTAMP=x\nMESSAGE=m\n\n", []jrec{{"", "", "m", 5}}, 0},
		{"binary: not UTF-8, a newline, empty, NUL and '=' inside",
			"__REALTIME_TIMESTAMP=1\n" + bin("MESSAGE", "user=b\xe9b\nrcvd=1\x00=") + bin("_HOSTNAME", "") + "SYSLOG_IDENTIFIER=a=b\n\n",
			[]jrec{{"a=b", "", "user=b\xe9b\nrcvd=1\x00=", 1}}, 0},
		{"binary value holding an empty line",
			"__REALTIME_TIMESTAMP=1\n" + bin("MESSAGE", "a\n\nb") + "\n" + ok,
			[]jrec{{"", "", "a\n\nb", 1}, okRec}, 0},
		{"a field given twice: the first value",
			"__REALTIME_TIMESTAMP=2\nMESSAGE=first\n" + bin("MESSAGE", "second") + "MESSAGE=third\n\n",
			[]jrec{{"", "", "first", 2}}, 0},
		{"empty text values",
			"__REALTIME_TIMESTAMP=2\nMESSAGE=\nSYSLOG_IDENTIFIER=\n\n", []jrec{{"", "", "", 2}}, 0},
		{"a value longer than the buffer, text and binary",
			"__REALTIME_TIMESTAMP=3\nMESSAGE=" + long + "\n\n__REALTIME_TIMESTAMP=4\n" + bin("MESSAGE", long+"\n") + "\n",
			[]jrec{{"", "", long, 3}, {"", "", long + "\n", 4}}, 0},
		{"several empty lines, an entry cut by the end",
			"\n\n" + ok + "\n\n__REALTIME_TIMESTAMP=10\nMESSAGE=cut",
			[]jrec{okRec, {"", "", "cut", 10}}, 0},
		{"entries without MESSAGE or a timestamp are garbled",
			"__REALTIME_TIMESTAMP=1\n\nMESSAGE=no time\n\n__REALTIME_TIMESTAMP=-1\nMESSAGE=m\n\n" + ok,
			[]jrec{okRec}, 3},
		{"not a field name: skipped to the entry's end",
			"__REALTIME_TIMESTAMP=1\nMESSAGE=m\nlower=case\nMORE=x\n\n" + "-- No entries --\n\n" + "{\"json\":1}\n\n" + ok,
			[]jrec{okRec}, 3},
		{"binary length too large",
			"__REALTIME_TIMESTAMP=1\nMESSAGE\n\xff\xff\xff\xff\xff\xff\xff\xffxyz\nMORE=1\n\n" + ok,
			[]jrec{okRec}, 1},
		{"binary value not followed by a newline",
			"__REALTIME_TIMESTAMP=1\nMESSAGE\n\x02\x00\x00\x00\x00\x00\x00\x00abXY=1\n\n" + ok,
			[]jrec{okRec}, 1},
		{"binary value cut by the end",
			ok + "__REALTIME_TIMESTAMP=1\nMESSAGE\n\x09\x00\x00\x00\x00\x00\x00\x00ab",
			[]jrec{okRec}, 1},
		{"binary length cut by the end",
			ok + "__REALTIME_TIMESTAMP=1\nMESSAGE\n\x09\x00",
			[]jrec{okRec}, 1},
		{"unused binary fields are skipped",
			"__REALTIME_TIMESTAMP=7\n" + bin("_CMDLINE", "a\nb") + bin("COREDUMP", strings.Repeat("\x00", 300<<10)) + "MESSAGE=m\n\n",
			[]jrec{{"", "", "m", 7}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := decodeExport(t, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if st.Garbled != tt.garbled || st.Records != int64(len(tt.want)) || st.Bytes != int64(len(tt.in)) {
				t.Errorf("stats %+v, want %d records, %d garbled, %d bytes", st, len(tt.want), tt.garbled, len(tt.in))
			}
		})
	}
}

// TestDecodeJournalExportTooLong: a text line over maxJournalLine garbles
// its entry; the next entry decodes.
func TestDecodeJournalExportTooLong(t *testing.T) {
	in := "__REALTIME_TIMESTAMP=1\nMESSAGE=" + strings.Repeat("y", maxJournalLine) + "\n\n__REALTIME_TIMESTAMP=2\nMESSAGE=after\n\n"
	got, st := decodeExport(t, in)
	if diff := cmp.Diff([]jrec{{"", "", "after", 2}}, got); diff != "" || st.Garbled != 1 || st.Bytes != int64(len(in)) {
		t.Errorf("records (-want +got):\n%s\nstats %+v, want 1 garbled, %d bytes", diff, st, len(in))
	}
}

// FuzzDecodeJournalExport: never panics, counts every byte; an entry
// written from the fuzzed values (the text or binary form, as journalctl
// chooses) decodes to them, whatever garbage came before it.
func FuzzDecodeJournalExport(f *testing.F) {
	f.Add("imapd", "mx1", "LOGOUT, user=a, rcvd=1, sent=2", int64(1783060607100001), "")
	f.Add("", "", "b\xe9b\n", int64(0), "MESSAGE\n\x05\x00")
	f.Add("a=b", "h", "", int64(1), "x\n\n\n")
	f.Fuzz(func(t *testing.T, ident, host, msg string, us int64, garbage string) {
		if us < 0 || us > 1e17 {
			us = 1
		}
		// Unless the garbage announces a binary value, its entry ends at
		// the empty line after it: the clean entry then decodes.
		var in bytes.Buffer
		in.WriteString(garbage)
		if len(garbage) > 0 {
			in.WriteString("\n\n")
		}
		garbageLen := in.Len()
		appendExport(&in, "__REALTIME_TIMESTAMP", fmt.Sprint(us), "SYSLOG_IDENTIFIER", ident, "_HOSTNAME", host, "MESSAGE", msg)
		var got []jrec
		st, err := DecodeJournalExport(bytes.NewReader(in.Bytes()), func(r *JournalRecord) error {
			got = append(got, cloneRec(r))
			return nil
		})
		if err != nil || st.Bytes != int64(in.Len()) {
			t.Fatalf("err %v, stats %+v, %d bytes", err, st, in.Len())
		}
		for _, l := range strings.Split(garbage, "\n") {
			if validFieldName([]byte(l)) {
				// A binary value announced by the garbage may swallow
				// the entry: only no panic and every byte counted.
				return
			}
		}
		want := jrec{ident, host, msg, us}
		if len(got) == 0 || got[len(got)-1] != want {
			t.Fatalf("after %d bytes of garbage: got %+v, want last %+v", garbageLen, got, want)
		}
	})
}

// BenchmarkDecodeJournalExport: records per second of the export path, on
// journalctl's output for Courier records with --output-fields (the five
// fields plus the four journalctl always prints).
func BenchmarkDecodeJournalExport(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10000 {
		appendExport(&buf,
			"__CURSOR", fmt.Sprintf("s=5496151fbf2d407a83de90863e326bfb;i=%x;b=0123456789abcdef0123456789abcdef;m=3e8;t=655af26196461;x=75bb80208a774ca6", i),
			"__REALTIME_TIMESTAMP", fmt.Sprint(1783060607100001+int64(i)*1000),
			"__MONOTONIC_TIMESTAMP", fmt.Sprint(1000+i),
			"_BOOT_ID", "0123456789abcdef0123456789abcdef",
			"SYSLOG_IDENTIFIER", "imapd-ssl",
			"_HOSTNAME", "mx1",
			"_SOURCE_REALTIME_TIMESTAMP", fmt.Sprint(1783060607100000+int64(i)*1000),
			"MESSAGE", fmt.Sprintf("LOGOUT, user=user%d@example.org, ip=[::ffff:192.0.2.%d], port=[%d], headers=%d, body=%d, rcvd=%d, sent=%d, time=%d, starttls=1",
				i%50, i%256, 1024+i, i*3, i*7, i*11, i*13, i%600))
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var n int64
	for range b.N {
		st, _ := DecodeJournalExport(bytes.NewReader(data), func(*JournalRecord) error { return nil })
		n += st.Records
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
