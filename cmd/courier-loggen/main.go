package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // -tz works on machines without zoneinfo

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say, before it becomes loggen.Options.
type config struct {
	opts      loggen.Options
	out       string
	truth     string
	quiet     bool
	sessions  int
	lines     int64
	explicitS bool
}

// parseFlags maps the flags onto Options. Flag defaults are the library's
// defaults, so an explicit 0 means "none" (the library's negative).
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("courier-loggen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: courier-loggen [flags]\n\nWrites a deterministic Courier IMAP/POP3 syslog file and, with -truth, its exact per-day,\nper-user traffic totals as JSON.\n\nflags:\n")
		fs.PrintDefaults()
	}
	seed := fs.Int64("seed", 1, "random seed: equal flags give byte-identical output")
	start := fs.String("start", loggen.DefaultStart.Format("2006-01-02"), "first local day, YYYY-MM-DD")
	days := fs.Int("days", loggen.DefaultDays, "number of local days (with -lines: only used to size -sessions)")
	users := fs.Int("users", loggen.DefaultUsers, "number of distinct users")
	fs.IntVar(&c.sessions, "sessions", loggen.DefaultSessionsPerDay, "authenticated sessions starting per day")
	format := fs.String("format", "classic", "line format: classic, rfc3339, shortiso, mixed (per line), rfc5424, forward (RSYSLOG_ForwardFormat) or export (journal export stream)")
	copyStamps := fs.String("copy-stamps", "auto", "time on repeat copies: original (byte-identical copies), reception (each copy its own µs stamp; needs rfc3339, rfc5424, forward or export) or auto (reception for rfc5424, forward and export)")
	boundary := fs.Bool("boundary-bursts", false, "add two sessions a day ending just before a minute boundary and local midnight, each with a long repeat burst across it (needs reception stamps)")
	twins := fs.Float64("twins", 0, "probability per session of a twin: a distinct session with every field but the time equal, 1-4 s after the original's last copy")
	eras := fs.String("eras", "509", "courier-imap eras, comma-separated: 30, 41, 42, 509, 60, plesk, or all")
	tz := fs.String("tz", "UTC", "IANA time zone of the local days and the printed times (e.g. Europe/Berlin)")
	hosts := fs.String("host", loggen.DefaultHost, "syslog host; several comma-separated hosts spread sessions over them")
	pop3 := fs.Float64("pop3", loggen.DefaultPOP3Share, "share of POP3 sessions, 0-1")
	noise := fs.Float64("noise", loggen.DefaultNoiseRatio, "non-traffic lines per session")
	pre := fs.Float64("prelogin", loggen.DefaultPreLogin, "probability per session of a pre-login IMAP session with counters")
	repeats := fs.Float64("repeats", loggen.DefaultRepeatBursts, "probability per traffic line of the Courier repeated-line bug (1-20 copies)")
	markers := fs.Float64("markers", 0, "probability per traffic line of an rsyslog 'message repeated N times' marker")
	big := fs.Int("big", loggen.DefaultBigUsers, "users with huge (up to ~1 GB) transfers")
	fs.Int64Var(&c.lines, "lines", 0, "generate exactly this many lines (sizes -sessions from -days unless -sessions is given)")
	fs.StringVar(&c.out, "o", "-", "log output file; - is standard output")
	fs.StringVar(&c.truth, "truth", "", "write the truth as JSON to this file")
	fs.BoolVar(&c.quiet, "q", false, "no summary on standard error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { c.explicitS = c.explicitS || f.Name == "sessions" })

	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return c, fmt.Errorf("-tz %q: %w", *tz, err)
	}
	st, err := time.Parse("2006-01-02", *start)
	if err != nil {
		return c, fmt.Errorf("-start %q: want YYYY-MM-DD: %w", *start, err)
	}
	f, err := loggen.ParseFormat(*format)
	if err != nil {
		return c, fmt.Errorf("-format: %w", err)
	}
	cs, err := loggen.ParseCopyStamps(*copyStamps)
	if err != nil {
		return c, fmt.Errorf("-copy-stamps: %w", err)
	}
	es, err := loggen.ParseEras(*eras)
	if err != nil {
		return c, fmt.Errorf("-eras: %w", err)
	}
	if *days < 1 || *users < 1 || c.sessions < 1 || c.lines < 0 {
		return c, errors.New("-days, -users and -sessions must be at least 1, -lines not negative")
	}
	none := func(v float64) float64 { // the library reads 0 as "default"
		if v == 0 {
			return -1
		}
		return v
	}
	c.opts = loggen.Options{
		Seed: *seed, Start: st, Days: *days, Location: loc, Hosts: strings.Split(*hosts, ","),
		Users: *users, SessionsPerDay: c.sessions, Format: f, Eras: es,
		POP3Share: none(*pop3), NoiseRatio: none(*noise), PreLogin: none(*pre),
		RepeatBursts: none(*repeats), RsyslogMarkers: *markers, MaxLines: c.lines,
		CopyStamps: cs, BoundaryBursts: *boundary, Twins: *twins,
	}
	c.opts.BigUsers = *big
	if *big == 0 {
		c.opts.BigUsers = -1
	}
	if c.lines > 0 && !c.explicitS {
		// Size the day so that -days days hold about -lines lines; the
		// generator then stops at exactly -lines.
		r, err := c.opts.Resolved()
		if err != nil {
			return c, err
		}
		per := float64(*days) * r.EstimatedLinesPerSession()
		c.opts.SessionsPerDay = int(math.Min(math.Ceil(float64(c.lines)/per), 100_000_000))
	}
	if _, err := c.opts.Resolved(); err != nil {
		return c, err
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "courier-loggen: %v\n", err)
		return 2
	}
	if err := generate(c, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "courier-loggen: %v\n", err)
		return 1
	}
	return 0
}

func generate(c config, stdout, stderr io.Writer) (err error) {
	w := stdout
	if c.out != "-" {
		f, err := os.Create(c.out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = cerr
			}
		}()
		w = f
	}
	t0 := time.Now()
	tr, err := loggen.WriteLog(w, c.opts)
	if err != nil {
		return err
	}
	el := time.Since(t0)
	if c.truth != "" {
		if err := writeTruth(c.truth, tr); err != nil {
			return err
		}
	}
	if !c.quiet {
		fmt.Fprintf(stderr, "courier-loggen: %d lines (%d traffic, %d repeat copies, %d markers, %d noise), %d users, %d days with sessions, in %v (%.0f lines/s)\n",
			tr.Lines, tr.TrafficLines, tr.RepeatLines, tr.MarkerLines, tr.NoiseLines, len(tr.Users()), len(tr.Days()),
			el.Round(time.Millisecond), float64(tr.Lines)/el.Seconds())
	}
	return nil
}

func writeTruth(path string, tr loggen.Truth) error {
	js, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return fmt.Errorf("-truth: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-truth: %w", err)
	}
	bw := bufio.NewWriter(f)
	bw.Write(js)
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("-truth %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-truth %s: %w", path, err)
	}
	return nil
}
