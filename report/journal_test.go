package report

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// jrec is a decoded record in comparable form.
type jrec struct {
	Ident, Host, Message string
	Micros               int64
}

// cloneRec copies r (its strings are only valid during the callback).
func cloneRec(r *JournalRecord) jrec {
	return jrec{strings.Clone(r.Ident), strings.Clone(r.Host), strings.Clone(r.Message), r.Time.UnixMicro()}
}

func decodeAll(t testing.TB, in string) ([]jrec, JournalStats) {
	t.Helper()
	var got []jrec
	st, err := DecodeJournalJSON(strings.NewReader(in), func(r *JournalRecord) error {
		got = append(got, cloneRec(r))
		return nil
	})
	if err != nil {
		t.Fatalf("DecodeJournalJSON: %v", err)
	}
	return got, st
}

// TestDecodeJournalJSON: journalctl -o json's forms, each decoded or counted
// as garbled, never failing the read.
func TestDecodeJournalJSON(t *testing.T) {
	const msg = "LOGOUT, user=alice, ip=[::ffff:10.0.0.1], port=[4242], headers=0, body=0, rcvd=100, sent=200, time=5"
	bytesOf := func(s string) string {
		var b []string
		for i := 0; i < len(s); i++ {
			b = append(b, fmt.Sprint(s[i]))
		}
		return "[" + strings.Join(b, ",") + "]"
	}
	long := strings.Repeat("x", 600<<10) // longer than the reader's buffer
	tests := []struct {
		name    string
		in      string
		want    []jrec
		garbled int64
	}{
		{"plain, source time wins",
			`{"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":"1783060607100001","_SOURCE_REALTIME_TIMESTAMP":"1783060607100000","SYSLOG_IDENTIFIER":"imapd","_HOSTNAME":"mx1","MESSAGE":"` + msg + `","_BOOT_ID":"b"}` + "\n",
			[]jrec{{"imapd", "mx1", msg, 1783060607100000}}, 0},
		{"realtime when there is no source time",
			`{"__REALTIME_TIMESTAMP":"1783060607100001","SYSLOG_IDENTIFIER":"imapd","MESSAGE":"m"}` + "\n",
			[]jrec{{"imapd", "", "m", 1783060607100001}}, 0},
		{"realtime when the source time is not a number",
			`{"__REALTIME_TIMESTAMP":"1783060607100001","_SOURCE_REALTIME_TIMESTAMP":"x","MESSAGE":"m"}` + "\n",
			[]jrec{{"", "", "m", 1783060607100001}}, 0},
		{"numbers instead of strings",
			`{"__REALTIME_TIMESTAMP":1783060607100001,"MESSAGE":"m"}` + "\n",
			[]jrec{{"", "", "m", 1783060607100001}}, 0},
		{"byte array: not UTF-8",
			`{"__REALTIME_TIMESTAMP":"1","SYSLOG_IDENTIFIER":"imapd","MESSAGE":` + bytesOf("user=b\xe9b, rcvd=1") + `}` + "\n",
			[]jrec{{"imapd", "", "user=b\xe9b, rcvd=1", 1}}, 0},
		{"byte array with blanks, empty array",
			`{ "__REALTIME_TIMESTAMP" : "2" , "MESSAGE" : [ 65 , 10 , 66 ] , "_HOSTNAME" : [ ] }` + "\n",
			[]jrec{{"", "", "A\nB", 2}}, 0},
		{"escapes",
			`{"__REALTIME_TIMESTAMP":"3","MESSAGE":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00\u0001"}` + "\n",
			[]jrec{{"", "", "a\"b\\c/d\n\té😀\x01", 3}}, 0},
		{"lone surrogate becomes U+FFFD",
			`{"__REALTIME_TIMESTAMP":"3","MESSAGE":"\ud83dx"}` + "\n",
			[]jrec{{"", "", "\uFFFDx", 3}}, 0},
		{"field given twice: the first value",
			`{"__REALTIME_TIMESTAMP":"4","MESSAGE":["first","second"],"SYSLOG_IDENTIFIER":[[105,109],"x"],"_HOSTNAME":"h"}` + "\n",
			[]jrec{{"im", "h", "first", 4}}, 0},
		{"duplicate key: the first",
			`{"__REALTIME_TIMESTAMP":"5","MESSAGE":"one","MESSAGE":"two"}` + "\n",
			[]jrec{{"", "", "one", 5}}, 0},
		{"other fields of every kind are skipped",
			`{"A":{"b":[1,{"c":null}],"d":"e\"}"},"B":true,"C":false,"D":-1.5e3,"E":null,"F":"\u0041","__REALTIME_TIMESTAMP":"6","MESSAGE":"m"}` + "\n",
			[]jrec{{"", "", "m", 6}}, 0},
		{"a line longer than the buffer",
			`{"__REALTIME_TIMESTAMP":"7","MESSAGE":"` + long + `"}` + "\n",
			[]jrec{{"", "", long, 7}}, 0},
		{"no trailing newline, CRLF and blank lines",
			"\n\r\n" + `{"__REALTIME_TIMESTAMP":"8","MESSAGE":"a"}` + "\r\n\n" + `{"__REALTIME_TIMESTAMP":"9","MESSAGE":"b"}`,
			[]jrec{{"", "", "a", 8}, {"", "", "b", 9}}, 0},
		{"garbled lines are counted and skipped",
			strings.Join([]string{
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"ok1"}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"cut`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":null}`,
				`{"__REALTIME_TIMESTAMP":"1"}`,
				`{"MESSAGE":"no time"}`,
				`{"__REALTIME_TIMESTAMP":"-1","MESSAGE":"negative"}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[256]}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[1,]}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"bad \x escape"}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"bad \u12 escape"}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"m"} trailing`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"m",}`,
				`{"__REALTIME_TIMESTAMP":"1" "MESSAGE":"m"}`,
				`["not","an","object"]`,
				`-- No entries --`,
				`{}`,
				`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"ok2"}`,
			}, "\n") + "\n",
			[]jrec{{"", "", "ok1", 1}, {"", "", "ok2", 1}}, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := decodeAll(t, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if st.Garbled != tt.garbled || st.Records != int64(len(tt.want)) || st.Bytes != int64(len(tt.in)) {
				t.Errorf("stats %+v, want %d records, %d garbled, %d bytes", st, len(tt.want), tt.garbled, len(tt.in))
			}
		})
	}
}

// TestDecodeJournalTooLong: a line over maxJournalLine is one garbled
// record; the next line decodes.
func TestDecodeJournalTooLong(t *testing.T) {
	in := `{"__REALTIME_TIMESTAMP":"1","MESSAGE":"` + strings.Repeat("y", maxJournalLine) + `"}` + "\n" +
		`{"__REALTIME_TIMESTAMP":"2","MESSAGE":"after"}` + "\n"
	got, st := decodeAll(t, in)
	if diff := cmp.Diff([]jrec{{"", "", "after", 2}}, got); diff != "" || st.Garbled != 1 {
		t.Errorf("records (-want +got):\n%s\nstats %+v, want 1 garbled", diff, st)
	}
}

// TestDecodeJournalStops: an error of fn or of the reader ends the decode
// and is returned.
func TestDecodeJournalStops(t *testing.T) {
	in := strings.Repeat(`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"m"}`+"\n", 3)
	stop := errors.New("stop")
	n := 0
	st, err := DecodeJournalJSON(strings.NewReader(in), func(*JournalRecord) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || st.Records != 2 {
		t.Errorf("fn error: err %v after %d calls, stats %+v", err, n, st)
	}
	broken := errors.New("broken pipe")
	_, err = DecodeJournalJSON(io.MultiReader(strings.NewReader(in), errReader{broken}), func(*JournalRecord) error { return nil })
	if !errors.Is(err, broken) {
		t.Errorf("reader error: %v, want %v", err, broken)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// FuzzDecodeJournalJSON: never panics; a line that encoding/json reads as an
// object with a string MESSAGE and a decimal __REALTIME_TIMESTAMP (and no
// other kept field) decodes to the same values.
func FuzzDecodeJournalJSON(f *testing.F) {
	for _, s := range []string{
		`{"__REALTIME_TIMESTAMP":"1783060607100001","MESSAGE":"LOGOUT, user=a, rcvd=1, sent=2"}`,
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":"\u00e9\ud83d\ude00\n\"","X":[1,{"a":null}]}`,
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[76,79,71]}`,
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":["a",[1,2]]}`,
		`{"MESSAGE":"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		line = strings.ReplaceAll(line, "\n", " ")
		var got []jrec
		st, err := DecodeJournalJSON(strings.NewReader(line+"\n"), func(r *JournalRecord) error {
			got = append(got, cloneRec(r))
			return nil
		})
		if err != nil || st.Records+st.Garbled > 1 {
			t.Fatalf("err %v, stats %+v", err, st)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &m) != nil || len(m) == 0 || !utf8.ValidString(line) {
			return
		}
		for _, k := range []string{"SYSLOG_IDENTIFIER", "_HOSTNAME", "_SOURCE_REALTIME_TIMESTAMP"} {
			if _, ok := m[k]; ok {
				return
			}
		}
		if strings.Count(line, `"MESSAGE"`)+strings.Count(line, `"__REALTIME_TIMESTAMP"`) != 2 {
			return // duplicates or escaped keys: encoding/json keeps the last
		}
		var msg, ts string
		if json.Unmarshal(m["MESSAGE"], &msg) != nil || json.Unmarshal(m["__REALTIME_TIMESTAMP"], &ts) != nil {
			return
		}
		us, ok := parseMicros([]byte(ts))
		if !ok {
			return
		}
		if len(got) != 1 {
			t.Fatalf("encoding/json reads %q, DecodeJournalJSON found no record", line)
		}
		// encoding/json replaces invalid surrogates and bytes by U+FFFD,
		// as DecodeJournalJSON does for surrogates.
		if want := (jrec{"", "", msg, us}); got[0] != want {
			t.Fatalf("got %+v, encoding/json %+v", got[0], want)
		}
	})
}

// BenchmarkDecodeJournalJSON: records per second of the JSON path, on
// journalctl's own output form for Courier records (the five fields plus
// the four journalctl always prints).
func BenchmarkDecodeJournalJSON(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&buf, `{"__CURSOR":"s=5496151fbf2d407a83de90863e326bfb;i=%x;b=0123456789abcdef0123456789abcdef;m=3e8;t=655af26196461;x=75bb80208a774ca6","__REALTIME_TIMESTAMP":"%d","__MONOTONIC_TIMESTAMP":"%d","_BOOT_ID":"0123456789abcdef0123456789abcdef","SYSLOG_IDENTIFIER":"imapd-ssl","_HOSTNAME":"mx1","_SOURCE_REALTIME_TIMESTAMP":"%d","MESSAGE":"LOGOUT, user=user%d@example.org, ip=[::ffff:192.0.2.%d], port=[%d], headers=%d, body=%d, rcvd=%d, sent=%d, time=%d, starttls=1"}`+"\n",
			i, 1783060607100001+int64(i)*1000, 1000+i, 1783060607100000+int64(i)*1000, i%50, i%256, 1024+i, i*3, i*7, i*11, i*13, i%600)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var n int64
	for range b.N {
		st, _ := DecodeJournalJSON(bytes.NewReader(data), func(*JournalRecord) error { return nil })
		n += st.Records
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// journalRemote returns the path of systemd-journal-remote, which turns an
// export stream into a journal file; the tests need it (scripts/install-deps.sh
// installs Debian's systemd-journal-remote).
func journalRemote(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			if _, err := exec.LookPath("journalctl"); err != nil {
				t.Fatal("journalctl not in PATH (Debian package systemd)")
			}
			return p
		}
	}
	t.Fatal("systemd-journal-remote not found: run scripts/install-deps.sh (Debian package systemd-journal-remote)")
	return ""
}

// exportEntry is one journal record of an export stream.
type exportEntry struct {
	realtime, source int64 // µs; source 0: no _SOURCE_REALTIME_TIMESTAMP
	host, ident, msg string
}

// appendExport appends one export-format entry of name, value pairs: the
// text form, or the binary one for a value with a newline or that is not
// valid UTF-8 (as journalctl does), then the empty line.
func appendExport(b *bytes.Buffer, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if strings.ContainsAny(v, "\n") || !utf8.ValidString(v) {
			b.WriteString(k + "\n")
			binary.Write(b, binary.LittleEndian, uint64(len(v)))
			b.WriteString(v + "\n")
			continue
		}
		b.WriteString(k + "=" + v + "\n")
	}
	b.WriteString("\n")
}

// writeJournal writes entries as a journald export stream and turns it
// into the journal file dir/name with systemd-journal-remote.
func writeJournal(t testing.TB, dir, name string, entries []exportEntry) string {
	t.Helper()
	remote := journalRemote(t)
	var b bytes.Buffer
	for i, e := range entries {
		fields := []string{"__REALTIME_TIMESTAMP", fmt.Sprint(e.realtime), "__MONOTONIC_TIMESTAMP", fmt.Sprint(1000 + i),
			"_BOOT_ID", "0123456789abcdef0123456789abcdef", "_TRANSPORT", "syslog"}
		if e.host != "" {
			fields = append(fields, "_HOSTNAME", e.host)
		}
		fields = append(fields, "SYSLOG_IDENTIFIER", e.ident)
		if e.source != 0 {
			fields = append(fields, "_SOURCE_REALTIME_TIMESTAMP", fmt.Sprint(e.source))
		}
		fields = append(fields, "MESSAGE", e.msg)
		appendExport(&b, fields...)
	}
	path := filepath.Join(dir, name)
	cmd := exec.Command(remote, "--output="+path, "-")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
	return path
}

// TestReadJournalFile: a real journal file through a real journalctl: the
// identifiers select Courier's records, the range selects by receive time
// with --until exclusive, and a non-UTF-8 message arrives byte for byte.
func TestReadJournalFile(t *testing.T) {
	dir := t.TempDir()
	base := int64(1783060607_000000)
	entries := []exportEntry{
		{base, base - 5, "mx1", "imapd", "LOGOUT, user=alice, rcvd=1, sent=2"},
		{base + 1, 0, "mx1", "postfix/smtpd", "connect from x"},
		{base + 2, base + 1, "mx2", "pop3d", "LOGOUT, user=b\xe9b, rcvd=3, sent=4"},
		{base + 3, base + 3, "mx1", "imapd", "line one\nline two"},
		{base + 4, base + 4, "mx1", "imapd", "after"},
	}
	path := writeJournal(t, dir, "x.journal", entries)
	read := func(o JournalOptions) []jrec {
		t.Helper()
		var got []jrec
		st, err := ReadJournal(context.Background(), o, func(r *JournalRecord) error {
			got = append(got, cloneRec(r))
			return nil
		})
		if err != nil {
			t.Fatalf("ReadJournal: %v", err)
		}
		if st.Garbled != 0 || st.Records != int64(len(got)) {
			t.Errorf("stats %+v", st)
		}
		return got
	}
	all := []jrec{
		{"imapd", "mx1", "LOGOUT, user=alice, rcvd=1, sent=2", base - 5},
		{"pop3d", "mx2", "LOGOUT, user=b\xe9b, rcvd=3, sent=4", base + 1},
		{"imapd", "mx1", "line one\nline two", base + 3},
		{"imapd", "mx1", "after", base + 4},
	}
	got := read(JournalOptions{Files: []string{path}, Identifiers: []string{"imapd", "pop3d"}})
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("--file (-want +got):\n%s", diff)
	}
	got = read(JournalOptions{Directory: dir, Identifiers: []string{"imapd", "pop3d"},
		Since: time.UnixMicro(base + 2), Until: time.UnixMicro(base + 4)})
	if diff := cmp.Diff(all[1:3], got); diff != "" {
		t.Errorf("--directory, [base+2, base+4) by receive time (-want +got):\n%s", diff)
	}
}

// fakeJournalctl writes a journalctl stand-in script that prints stdout
// and stderr and exits with code.
func fakeJournalctl(t *testing.T, stdout, stderr string, code int) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range map[string]string{"out": stdout, "err": stderr} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "journalctl")
	script := fmt.Sprintf("#!/bin/sh\ncat %q >&2\ncat %q\nexit %d\n", filepath.Join(dir, "err"), filepath.Join(dir, "out"), code)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadJournalErrors: each way journalctl can fail becomes an error
// naming the cause.
func TestReadJournalErrors(t *testing.T) {
	const rec1 = "__REALTIME_TIMESTAMP=1\nMESSAGE=m\n\n"
	hint := "Hint: You are currently not seeing messages from other users and the system.\n" +
		"      Users in groups 'adm', 'systemd-journal' can see all messages.\n" +
		"      Pass -q to turn off this notice.\n"
	tests := []struct {
		name           string
		stdout, stderr string
		code           int
		check          func(error) bool
		want           string
	}{
		{"no files opened", "", "No journal files were opened due to insufficient permissions.\n", 1,
			func(err error) bool { var pe *JournalPermissionError; return errors.As(err, &pe) }, "systemd-journal or adm"},
		{"file not readable", "", "Failed to open files: Permission denied\n", 1,
			func(err error) bool { var pe *JournalPermissionError; return errors.As(err, &pe) }, "Permission denied"},
		{"only the user's own journal (exit 0)", rec1, hint, 0,
			func(err error) bool { var pe *JournalPermissionError; return errors.As(err, &pe) }, "not seeing messages from other users"},
		{"other failure: first stderr line", "", "Failed to parse timestamp: x\nmore\n", 1,
			func(err error) bool { var je *JournalError; return errors.As(err, &je) && je.Code == 1 }, "journalctl: Failed to parse timestamp: x (exit status 1)"},
		{"failure without a message", "", "", 3,
			func(err error) bool { var je *JournalError; return errors.As(err, &je) && je.Code == 3 }, "exit status 3"},
		{"garbled output is not an error", rec1 + "garbage\n\n" + rec1, "", 0,
			func(err error) bool { return err == nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := JournalOptions{Command: fakeJournalctl(t, tt.stdout, tt.stderr, tt.code)}
			_, err := ReadJournal(context.Background(), o, func(*JournalRecord) error { return nil })
			if !tt.check(err) || (tt.want != "" && !strings.Contains(fmt.Sprint(err), tt.want)) {
				t.Errorf("err = %v (%T), want one containing %q", err, err, tt.want)
			}
		})
	}
	t.Run("not in PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := ReadJournal(context.Background(), JournalOptions{}, nil); !errors.Is(err, ErrNoJournalctl) {
			t.Errorf("err = %v, want ErrNoJournalctl", err)
		}
	})
	t.Run("callback error kills journalctl", func(t *testing.T) {
		stop := errors.New("stop")
		// A journalctl that would print forever.
		dir := t.TempDir()
		path := filepath.Join(dir, "journalctl")
		script := "#!/bin/sh\nwhile :; do printf '" + strings.ReplaceAll(rec1, "\n", "\\n") + "'; done\n"
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		n := 0
		_, err := ReadJournal(context.Background(), JournalOptions{Command: path}, func(*JournalRecord) error {
			if n++; n == 1000 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("err = %v, want the callback's", err)
		}
	})
}

// TestJournalArgs: the matches, the files and the range as journalctl gets
// them (exact microseconds, --until made inclusive).
func TestJournalArgs(t *testing.T) {
	got := JournalArgs(JournalOptions{Directory: "/d", Files: []string{"/a.journal", "/b*.journal"},
		Identifiers: []string{"imapd", "pop3d"},
		Since:       time.Date(2026, 7, 3, 0, 0, 0, 0, time.UTC), Until: time.Unix(1783123200, 0)})
	want := []string{"--output=export", "--all", "--no-pager",
		"--output-fields=SYSLOG_IDENTIFIER,_HOSTNAME,MESSAGE,_SOURCE_REALTIME_TIMESTAMP",
		"--directory=/d", "--file=/a.journal", "--file=/b*.journal",
		"--since=@1783036800.000000", "--until=@1783123199.999999",
		"SYSLOG_IDENTIFIER=imapd", "SYSLOG_IDENTIFIER=pop3d"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Sub-microsecond bounds: records are whole microseconds, so since
	// 10.000000001 starts at 10.000001, and until 10.000001001 still
	// includes 10.000001.
	got = JournalArgs(JournalOptions{Since: time.Unix(10, 1), Until: time.Unix(10, 1001)})
	if want := []string{"--since=@10.000001", "--until=@10.000001"}; !cmp.Equal(want, got[4:]) {
		t.Errorf("sub-µs bounds: %v, want %v", got[4:], want)
	}
}
