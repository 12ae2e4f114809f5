package loggen

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// Line is one generated syslog entry, for tests that build Fluent Bit
// records (syslog or systemd input) instead of reading a file.
type Line struct {
	// Time is the timestamp as logged, in Options.Location: whole seconds for
	// Classic and ShortISO lines, microseconds for RFC3339, RFC5424, Forward
	// and Export lines (Export: _SOURCE_REALTIME_TIMESTAMP). With
	// CopyReception it is each copy's own reception time.
	Time  time.Time
	Host  string // syslog host
	Ident string // syslog identifier without [pid]: imapd, pop3d-ssl, postfix/smtpd, ...
	// PID is the sending process: courierlogger's (one per host and daemon)
	// for Courier lines, the program's own for postfix, cron, sshd and
	// UW-IMAP lines. Raw shows it only where that transport does (ShortISO,
	// Classic-with-pid in Mixed, Export's _PID, and always for the programs
	// that log their own PID).
	PID int
	// Message is the syslog MESSAGE (what follows "ident: " in Raw; the
	// MESSAGE field of an Export entry).
	Message string
	// Raw is the full line in the chosen Format, without newline; for
	// Export the whole entry, every field ending in "\n" (WriteLog adds the
	// empty line that ends an entry).
	Raw string
}

// Generate produces the log of opts and calls emit once per line, in
// output order. The Line's strings are new for every call and may be kept.
// Memory is bounded by the number of concurrently open sessions, not by
// Days. An error from emit stops generation; Generate then returns the
// truth of the lines written so far together with that error (unwrapped
// in the chain, %w). An invalid opts returns an error naming the field.
func Generate(opts Options, emit func(Line) error) (Truth, error) {
	o, err := opts.Resolved()
	if err != nil {
		return Truth{}, err
	}
	var g *gen
	g = newGen(o, func(it *item, raw []byte, lo, hi int) error {
		s := string(raw)
		t := it.t
		if !it.fm.micro() {
			t = floorDiv(t, usPerSec) * usPerSec
		}
		return emit(Line{
			Time:    time.UnixMicro(t).In(g.loc),
			Host:    g.o.Hosts[it.host],
			Ident:   idents[it.daemon],
			PID:     int(it.pid),
			Message: s[lo:hi],
			Raw:     s,
		})
	})
	g.run()
	if g.err != nil {
		return g.truth(), fmt.Errorf("loggen: emit: %w", g.err)
	}
	return g.truth(), nil
}

// WriteLog writes the log of opts to w, one Raw line plus "\n" per entry
// (for Export: the entry's fields and the empty line that ends it),
// through its own buffer (flushed before it returns). It allocates nothing
// per line. Errors are those of Generate, or w's write error wrapped.
func WriteLog(w io.Writer, opts Options) (Truth, error) {
	o, err := opts.Resolved()
	if err != nil {
		return Truth{}, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	g := newGen(o, func(_ *item, raw []byte, _, _ int) error {
		if _, err := bw.Write(raw); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	g.run()
	if g.err == nil {
		g.err = bw.Flush()
	}
	if g.err != nil {
		return g.truth(), fmt.Errorf("loggen: write log: %w", g.err)
	}
	return g.truth(), nil
}
