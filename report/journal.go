package report

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Reading the journal: ReadJournal runs journalctl and hands every record of
// Courier's identifiers to a callback; DecodeJournalExport decodes what
// journalctl prints. See docs/journal.md for the user's side.
//
// Why `journalctl -o export` and not `-o json`: both are complete and
// binary-safe, and both honour --output-fields, which trims a record to
// the five fields we use (plus the four journalctl always prints). What
// decides is journalctl's own cost, which is the cost of a journal report:
// for the same 265,000 Courier records of one day (a 2M-record journal of
// 21 files), journalctl spends 1.6 s of CPU printing them as export and
// 4.0 s as JSON, where it escapes every value and prints a value that is
// not printable UTF-8 as an array of byte numbers; decoding takes our side
// about 0.1 s either way (BenchmarkDecodeJournalExport: 2.9M records/s,
// BenchmarkDecodeJournalJSON: 2.0M records/s). Export also needs no unescaping on our side: a
// text value is the raw bytes up to the newline, any other value is
// length-prefixed. Its weakness is framing (a stream that loses it could
// lose the rest): DecodeJournalExport counts the entry as garbled and
// resynchronises on the next empty line. DecodeJournalJSON reads
// `journalctl -o json` (byte arrays, multi-valued fields, escapes) for
// output saved that way; the CLI does not use it.

// JournalRecord is one journal record as the report and backfill use it:
// the parts flush.Batch.AddMessage and Aggregator.AddMessage take. The
// strings are only valid during the callback that receives the record.
type JournalRecord struct {
	Ident   string    // SYSLOG_IDENTIFIER
	Host    string    // _HOSTNAME
	Message string    // MESSAGE
	Time    time.Time // _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP (microseconds)
}

// JournalPrecision is the precision of JournalRecord.Time: the journal
// stamps records in microseconds.
const JournalPrecision = time.Microsecond

// JournalStats count what a journal read saw.
type JournalStats struct {
	Records int64 // records handed to the callback
	Garbled int64 // entries (JSON: lines) that were not a decodable record with MESSAGE and a timestamp: counted and skipped
	Bytes   int64 // bytes of journalctl output read
}

func (s JournalStats) String() string {
	return fmt.Sprintf("journal_records=%d journal_garbled=%d journal_bytes=%d", s.Records, s.Garbled, s.Bytes)
}

// JournalOptions say which journal ReadJournal reads and what of it.
type JournalOptions struct {
	// Command is the journalctl to run; "" looks "journalctl" up in PATH.
	Command string
	// Directory (journalctl --directory) and Files (--file, each may be a
	// glob, which journalctl expands) select saved or copied journal files
	// instead of the local system's journal. Both may be given.
	Directory string
	Files     []string
	// Identifiers are the SYSLOG_IDENTIFIER values to read (journalctl ORs
	// matches of one field). Empty reads every record: a caller passes the
	// configured identifiers (flush.Config.Identifiers).
	Identifiers []string
	// Since and Until, when not zero, bound the records by the journal's
	// receive time (__REALTIME_TIMESTAMP, as journalctl's --since and
	// --until do): Since <= t < Until. Adjacent ranges therefore never
	// share or lose a record.
	Since, Until time.Time
}

// ErrNoJournalctl is returned by ReadJournal when journalctl is not in PATH.
var ErrNoJournalctl = errors.New("journalctl not found in PATH")

// JournalPermissionError is journalctl's refusal to open the journal for
// lack of permission. Line is journalctl's own message.
type JournalPermissionError struct{ Line string }

func (e *JournalPermissionError) Error() string {
	return "cannot read the journal: insufficient permissions (journalctl: " + e.Line +
		"): run as root, or add the user to group systemd-journal or adm (for saved files: make them readable)"
}

// JournalError is journalctl exiting with a failure status. Line is the
// first line of its standard error.
type JournalError struct {
	Line string
	Code int
}

func (e *JournalError) Error() string {
	if e.Line == "" {
		return fmt.Sprintf("journalctl failed (exit status %d, no message)", e.Code)
	}
	return fmt.Sprintf("journalctl: %s (exit status %d)", e.Line, e.Code)
}

// JournalArgs returns the journalctl arguments for o (without the command).
func JournalArgs(o JournalOptions) []string {
	args := []string{
		"--output=export",
		// Values over 4096 bytes would be cut (JSON: null) without --all.
		"--all",
		"--no-pager",
		// The always-printed __CURSOR, __REALTIME_TIMESTAMP,
		// __MONOTONIC_TIMESTAMP and _BOOT_ID come on top of these.
		"--output-fields=SYSLOG_IDENTIFIER,_HOSTNAME,MESSAGE,_SOURCE_REALTIME_TIMESTAMP",
	}
	if o.Directory != "" {
		args = append(args, "--directory="+o.Directory)
	}
	for _, f := range o.Files {
		args = append(args, "--file="+f)
	}
	// "@" and decimal seconds: an absolute instant, microsecond-exact,
	// whatever journalctl's zone and locale. --until is inclusive, so the
	// exclusive bound is one microsecond earlier.
	if !o.Since.IsZero() {
		args = append(args, "--since=@"+epochMicros(o.Since.Add(999*time.Nanosecond)))
	}
	if !o.Until.IsZero() {
		args = append(args, "--until=@"+epochMicros(o.Until.Add(-time.Microsecond+999*time.Nanosecond)))
	}
	for _, id := range o.Identifiers {
		args = append(args, "SYSLOG_IDENTIFIER="+id)
	}
	return args
}

// epochMicros formats t, truncated to the microsecond, as decimal Unix
// seconds with six fraction digits ("1783060607.100000"; before 1970 the
// result is negative, which journalctl refuses: nothing is logged then).
func epochMicros(t time.Time) string {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	return strconv.FormatInt(sec, 10) + "." + fmt.Sprintf("%06d", frac)
}

// maxStderr bounds the journalctl error output kept for messages.
const maxStderr = 64 << 10

// permissionMarks are journalctl's messages for a journal it may not read:
// no file opened at all (exit 1), a --file it may not open (exit 1), and
// the hint of a user outside the journal groups, who sees only their own
// user journal (exit 0: the result would be silently incomplete).
var permissionMarks = []string{
	"insufficient permissions",
	"not seeing messages from other users and the system",
	"Permission denied",
}

// stderrWatch keeps journalctl's standard error (bounded) and calls onPerm
// once as soon as it holds a permission message, so that a reader outside
// the journal groups stops before reading anything.
type stderrWatch struct {
	mu     sync.Mutex
	buf    []byte
	perm   string
	onPerm func()
}

func (w *stderrWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := maxStderr - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(len(p), room)]...)
	}
	if w.perm == "" {
		if line := permissionLine(w.buf); line != "" {
			w.perm = line
			if w.onPerm != nil {
				w.onPerm()
			}
		}
	}
	return len(p), nil
}

// permissionLine returns the line of b holding a permission message, "" if
// none. For the hint, whose first line ends in "the system.", that line.
func permissionLine(b []byte) string {
	for _, m := range permissionMarks {
		i := bytes.Index(b, []byte(m))
		if i < 0 {
			continue
		}
		start := bytes.LastIndexByte(b[:i], '\n') + 1
		end := bytes.IndexByte(b[i:], '\n')
		if end < 0 {
			end = len(b) - i
		}
		return strings.TrimSpace(string(b[start : i+end]))
	}
	return ""
}

func (w *stderrWatch) state() (first, perm string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.TrimSpace(string(w.buf))
	first, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(first), w.perm
}

// ReadJournal runs journalctl (no shell) for o and calls fn with every
// record, in journalctl's order (by time, files interleaved). It streams:
// memory does not depend on the journal's size. A line that is not a
// decodable record is counted in JournalStats.Garbled and skipped. An
// error from fn stops the read (journalctl is killed) and is returned.
//
// Errors: ErrNoJournalctl; *JournalPermissionError when journalctl says the
// journal may not be read (also when it exits 0 with the hint that only
// the user's own messages are visible: a report from that would be
// silently incomplete); *JournalError when it exits with a failure status;
// ctx's error when ctx ends first.
func ReadJournal(ctx context.Context, o JournalOptions, fn func(*JournalRecord) error) (JournalStats, error) {
	path := o.Command
	if path == "" {
		var err error
		if path, err = exec.LookPath("journalctl"); err != nil {
			return JournalStats{}, ErrNoJournalctl
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, JournalArgs(o)...)
	// journalctl's messages are not translated, but its pager and colours
	// are environment-driven: keep them off whatever the user's settings.
	cmd.Env = append(cmd.Environ(), "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "LC_ALL=C")
	// A permission message stops journalctl at once (it is printed
	// before any record).
	werr := &stderrWatch{onPerm: cancel}
	cmd.Stderr = werr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return JournalStats{}, err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return JournalStats{}, ErrNoJournalctl
		}
		return JournalStats{}, fmt.Errorf("journalctl: %w", err)
	}
	stats, ferr := DecodeJournalExport(out, fn)
	if ferr != nil {
		cancel() // fn failed or the pipe broke: journalctl is not needed any more
		_, _ = io.Copy(io.Discard, out)
	}
	waitErr := cmd.Wait()
	first, perm := werr.state()
	switch {
	case perm != "":
		return stats, &JournalPermissionError{Line: perm}
	case ferr != nil:
		return stats, ferr
	case parent.Err() != nil:
		return stats, parent.Err()
	case waitErr != nil:
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
				return stats, fmt.Errorf("journalctl: killed by %v", st.Signal())
			}
			return stats, &JournalError{Line: first, Code: ee.ExitCode()}
		}
		return stats, fmt.Errorf("journalctl: %w", waitErr)
	}
	return stats, nil
}

// maxJournalLine bounds one line of journalctl output (one record). Longer
// lines are counted as garbled and skipped; journald's own limit for a
// syslog message is 48 KiB (LineMax), so this is never a real record.
const maxJournalLine = 16 << 20

// DecodeJournalJSON decodes `journalctl -o json` output, one record per line,
// calling fn for every record that has a MESSAGE and a timestamp; other
// lines count as garbled. It stops at the first error of r or fn and
// returns it (io.EOF is not an error). The record's strings alias a reused
// buffer: they are valid only during the call.
func DecodeJournalJSON(r io.Reader, fn func(*JournalRecord) error) (JournalStats, error) {
	var d jsonDecoder
	var st JournalStats
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		st.Bytes += int64(len(chunk))
		if errors.Is(err, bufio.ErrBufferFull) {
			if !tooLong {
				if len(long)+len(chunk) > maxJournalLine {
					tooLong, long = true, long[:0]
				} else {
					long = append(long, chunk...)
				}
			}
			continue
		}
		line := chunk
		if len(long) > 0 || tooLong {
			long = append(long, chunk...)
			line = long
		}
		if tooLong || len(line) > maxJournalLine {
			st.Garbled++
		} else if len(bytes.TrimSpace(line)) > 0 {
			if d.decode(line) {
				st.Records++
				if ferr := fn(&d.rec); ferr != nil {
					return st, ferr
				}
			} else {
				st.Garbled++
			}
		}
		if cap(long) > 1<<20 {
			long = nil // do not keep an exceptional line's buffer
		}
		long, tooLong = long[:0], false
		if err != nil {
			if err == io.EOF {
				return st, nil
			}
			return st, err
		}
	}
}

// The fields the decoders keep, in jsonDecoder.val order.
const (
	fMessage = iota
	fIdent
	fHost
	fSourceTime
	fRealtime
	nFields
)

// jsonDecoder decodes one journalctl JSON object per call, keeping the
// five fields of JournalRecord. Values without escapes are views into the
// line; decoded ones (escapes, byte arrays) live in per-field scratch
// buffers, reused from record to record.
type jsonDecoder struct {
	line []byte
	i    int
	journalFields
	scratch [nFields][]byte
	key     []byte // scratch for a key with escapes
	rec     JournalRecord
}

// journalFields are the values of one record's fields of JournalRecord, as
// either decoder found them (views valid until the next record).
type journalFields struct {
	val  [nFields][]byte
	have [nFields]bool
}

// record fills rec from the fields: the message, the identifier and host
// when present, and the time, _SOURCE_REALTIME_TIMESTAMP when it is a
// number, else __REALTIME_TIMESTAMP. It reports false, leaving rec alone,
// for a record without a message or a usable time. rec's strings are views
// of the fields.
func (f *journalFields) record(rec *JournalRecord) bool {
	if !f.have[fMessage] {
		return false
	}
	us, ok := int64(0), false
	if f.have[fSourceTime] {
		us, ok = parseMicros(f.val[fSourceTime])
	}
	if !ok && f.have[fRealtime] {
		us, ok = parseMicros(f.val[fRealtime])
	}
	if !ok {
		return false
	}
	*rec = JournalRecord{Message: jview(f.val[fMessage]), Time: time.UnixMicro(us)}
	if f.have[fIdent] {
		rec.Ident = jview(f.val[fIdent])
	}
	if f.have[fHost] {
		rec.Host = jview(f.val[fHost])
	}
	return true
}

func fieldIndex(key []byte) int {
	switch string(key) { // no allocation: the compiler compares in place
	case "MESSAGE":
		return fMessage
	case "SYSLOG_IDENTIFIER":
		return fIdent
	case "_HOSTNAME":
		return fHost
	case "_SOURCE_REALTIME_TIMESTAMP":
		return fSourceTime
	case "__REALTIME_TIMESTAMP":
		return fRealtime
	}
	return -1
}

// decode decodes line into d.rec; false: garbled, or without MESSAGE or a
// timestamp.
func (d *jsonDecoder) decode(line []byte) bool {
	d.line, d.i = line, 0
	d.have = [nFields]bool{}
	if !d.object() {
		return false
	}
	return d.record(&d.rec)
}

// jview is b as a string without a copy ("" for an empty b).
func jview(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// parseMicros parses a non-negative decimal count of microseconds.
func parseMicros(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.line) {
		switch d.line[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	d.ws()
	if d.i >= len(d.line) {
		return 0
	}
	return d.line[d.i]
}

// object decodes {"key":value,...} and nothing but white space after it.
func (d *jsonDecoder) object() bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return d.peek() == 0
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.str(&d.key)
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		k := fieldIndex(key)
		switch {
		case k < 0 || d.have[k]:
			if !d.skip(0) {
				return false
			}
		default:
			v, present, ok := d.value(k)
			if !ok {
				return false
			}
			if present {
				d.val[k], d.have[k] = v, true
			}
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return d.peek() == 0
		default:
			return false
		}
	}
}

// value decodes the value of kept field k: a string, an array of byte
// values, an array of values (the first is kept), null (absent) or a
// number (timestamps).
func (d *jsonDecoder) value(k int) (v []byte, present, ok bool) {
	switch c := d.peek(); {
	case c == '"':
		v, ok = d.str(&d.scratch[k])
		return v, ok, ok
	case c == '[':
		d.i++
		switch c := d.peek(); {
		case c == ']':
			d.i++
			return nil, true, true
		case c == '-' || (c >= '0' && c <= '9'):
			v, ok = d.bytes(&d.scratch[k])
			return v, ok, ok
		case c == '"' || c == '[':
			// A field that occurs several times: the first value.
			if c == '"' {
				v, ok = d.str(&d.scratch[k])
			} else {
				d.i++
				if d.peek() == ']' {
					d.i++
					v, ok = nil, true
				} else {
					v, ok = d.bytes(&d.scratch[k])
				}
			}
			if !ok {
				return nil, false, false
			}
			for {
				switch d.peek() {
				case ',':
					d.i++
					if !d.skip(0) {
						return nil, false, false
					}
				case ']':
					d.i++
					return v, true, true
				default:
					return nil, false, false
				}
			}
		}
		return nil, false, false
	case c == 'n':
		if bytes.HasPrefix(d.line[d.i:], []byte("null")) {
			d.i += 4
			return nil, false, true
		}
		return nil, false, false
	case c >= '0' && c <= '9':
		start := d.i
		for d.i < len(d.line) && d.line[d.i] >= '0' && d.line[d.i] <= '9' {
			d.i++
		}
		return d.line[start:d.i], true, true
	}
	return nil, false, false
}

// bytes decodes the rest of an array of byte values (after '[') into
// *buf.
func (d *jsonDecoder) bytes(buf *[]byte) ([]byte, bool) {
	out := (*buf)[:0]
	for {
		d.ws()
		n, digits := 0, 0
		for d.i < len(d.line) && d.line[d.i] >= '0' && d.line[d.i] <= '9' && digits < 4 {
			n = n*10 + int(d.line[d.i]-'0')
			d.i++
			digits++
		}
		if digits == 0 || n > 255 {
			*buf = out
			return nil, false
		}
		out = append(out, byte(n))
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			*buf = out
			return out, true
		default:
			*buf = out
			return nil, false
		}
	}
}

// str decodes a JSON string at d.i (at its opening quote): a view into the
// line when it has no escapes, else decoded into *buf.
func (d *jsonDecoder) str(buf *[]byte) ([]byte, bool) {
	d.i++ // the quote
	start := d.i
	rest := d.line[start:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return nil, false
	}
	if bytes.IndexByte(rest[:end], '\\') < 0 {
		d.i = start + end + 1
		return rest[:end], true
	}
	out := (*buf)[:0]
	i := start
	for {
		if i >= len(d.line) {
			*buf = out
			return nil, false
		}
		c := d.line[i]
		switch c {
		case '"':
			d.i = i + 1
			*buf = out
			return out, true
		case '\\':
			if i+1 >= len(d.line) {
				*buf = out
				return nil, false
			}
			e := d.line[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n := hex4(d.line[i:])
				if n == 0 {
					*buf = out
					return nil, false
				}
				i += n
				if utf16.IsSurrogate(r) {
					if r2, n2 := hex4(d.line[min(i+2, len(d.line)):]); n2 > 0 &&
						i+1 < len(d.line) && d.line[i] == '\\' && d.line[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							i += 2 + n2
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				*buf = out
				return nil, false
			}
		default:
			// A run of plain bytes up to the next quote or backslash.
			j := i + 1
			for j < len(d.line) && d.line[j] != '"' && d.line[j] != '\\' {
				j++
			}
			out = append(out, d.line[i:j]...)
			i = j
		}
	}
}

// hex4 decodes four hex digits; n is 4, or 0 when they are not.
func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}

// maxDepth bounds the nesting skip accepts (journalctl nests two levels).
const maxDepth = 32

// skip skips one value of a field not kept.
func (d *jsonDecoder) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := d.peek(); {
	case c == '"':
		return d.skipStr()
	case c == '[' || c == '{':
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		d.i++
		if d.peek() == closer {
			d.i++
			return true
		}
		for {
			if c == '{' {
				if d.peek() != '"' {
					return false
				}
				if !d.skipStr() || d.peek() != ':' {
					return false
				}
				d.i++
			}
			if !d.skip(depth + 1) {
				return false
			}
			switch d.peek() {
			case ',':
				d.i++
			case closer:
				d.i++
				return true
			default:
				return false
			}
		}
	case c == 'n' || c == 't' || c == 'f':
		for _, lit := range []string{"null", "true", "false"} {
			if bytes.HasPrefix(d.line[d.i:], []byte(lit)) {
				d.i += len(lit)
				return true
			}
		}
		return false
	case c == '-' || (c >= '0' && c <= '9'):
		d.i++
		for d.i < len(d.line) && strings.IndexByte("0123456789.eE+-", d.line[d.i]) >= 0 {
			d.i++
		}
		return true
	}
	return false
}

// skipStr passes a string (at its opening quote) without decoding it.
func (d *jsonDecoder) skipStr() bool {
	for i := d.i + 1; i < len(d.line); i++ {
		switch d.line[i] {
		case '\\':
			i++
		case '"':
			d.i = i + 1
			return true
		}
	}
	return false
}
