package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/report"
	"github.com/schollz/progressbar/v3"
)

// backfillKeys are the plugin keys backfill reads: everything but the
// record keys of structured inputs (backfill reads raw lines only).
var backfillKeys = []string{
	flush.KeyInfluxURL, flush.KeyInfluxOrg, flush.KeyInfluxBucket, flush.KeyInfluxToken,
	flush.KeyInfluxTokenFile, flush.KeyInfluxTimeout, flush.KeyInfluxTLSCAFile,
	flush.KeyInfluxTLSInsecure, flush.KeyInfluxGzip, flush.KeyBatchSize, flush.KeyMeasurement,
	flush.KeyDedup, flush.KeyDedupWindow, flush.KeyDedupMaxEntries, flush.KeyDedupTolerance, flush.KeyTimeZone,
	flush.KeyIdentifiers, flush.KeyUserCase, flush.KeyCountUnauthenticated, flush.KeyExcludeIPs,
	flush.KeyStatsInterval, flush.KeyStatsMeasurement,
}

// arenaSize bounds the raw line bytes one batch holds: the Batch keeps the
// lines' strings without copying until Write returns, so they live in this
// arena, which is reused after each Write. Memory stays flat whatever the
// input size.
const arenaSize = 8 << 20

// backfillFlags are backfill's flags, before parsing.
type backfillFlags struct {
	tz                  *string
	verbose, noProgress *bool
	year                *int
	journal             *journalFlags
	cfg                 *configFlags
}

func newBackfillFlags(e env) (*flag.FlagSet, *backfillFlags) {
	fs := flag.NewFlagSet("courier-traffic backfill", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	tz := fs.String("tz", "", "short for --time-zone")
	verbose := fs.Bool("verbose", false, "log at info and debug level too (per-batch details, skipped lines)")
	noProgress := fs.Bool("no-progress", false, "no progress bar even on a terminal")
	year := fs.Int("year", 0, "year of year-less (classic syslog) stamps (default: inferred from each file's modification time)")
	jf := addJournalFlags(fs, true)
	cf := newConfigFlags(fs, backfillKeys, keyUsage)
	// The plugin logs statistics every minute; a CLI run prints its summary
	// at the end instead.
	cf.defaults[flush.KeyStatsInterval] = "0"
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: courier-traffic backfill [flags] FILE...\n"+
			"       courier-traffic backfill --journal [--journal-dir DIR | --journal-file FILE...] [--since T] [--until T] [flags]\n"+
			"Writes the sessions of log files (gzip included; - is standard input), or of the systemd journal's\n"+
			"Courier records with --journal (runs journalctl), into InfluxDB through the plugin's own code:\n"+
			"same points, same dedup, so back-filled and live data never double-count.\n"+
			"Re-running over the same input changes nothing.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, &backfillFlags{tz: tz, verbose: verbose, noProgress: noProgress, year: year, journal: jf, cfg: cf}
}

func runBackfill(ctx context.Context, args []string, e env) error {
	fs, bf := newBackfillFlags(e)
	tz, verbose, noProgress, year, jf, cf := bf.tz, bf.verbose, bf.noProgress, bf.year, bf.journal, bf.cfg
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsageShown
	}
	if err := jf.check(files); err != nil {
		return err
	}
	if len(files) == 0 && !jf.enabled() {
		return usageError(errors.New("no files: give the logs to back-fill (mail.log.*, gzip included; - for stdin), or --journal"))
	}
	cfg, err := loadConfig(cf, *tz)
	if err != nil {
		return err
	}
	var jopts report.JournalOptions
	if jf.enabled() {
		jopts = jf.options(cfg)
		loc := cfg.Location
		if loc == nil {
			loc = time.Local
		}
		var leadIn time.Duration
		if cfg.Dedup {
			leadIn = cfg.DedupWindow
		}
		if err := jf.journalRange(&jopts, loc, e.now(), leadIn); err != nil {
			return err
		}
		if err := jf.statInputs(); err != nil {
			return err
		}
	}
	if *year < 0 || *year > 9999 {
		return usageError(fmt.Errorf("--year %d: want 1..9999 (0: infer)", *year))
	}
	cfg.Year = *year

	start := time.Now()
	var (
		mu      sync.Mutex
		lastErr string
	)
	logger := func(level flush.Level, msg string) {
		if level == flush.LevelError {
			mu.Lock()
			lastErr = msg
			mu.Unlock()
		}
		// Errors are the failure's reason, printed once at the end; the
		// CLI does not retry (a re-run does, idempotently).
		if level == flush.LevelWarn || *verbose {
			fmt.Fprintf(e.stderr, "courier-traffic backfill: %s: %s\n", level, msg)
		}
	}
	if *verbose {
		fmt.Fprintf(e.stderr, "courier-traffic backfill: config: %s\n", cfg)
	}
	// The CLI never retries a write (a failure ends the run; a re-run
	// rewrites the same points), so the seen-set needs no clock: it keeps
	// dedup_window of event time, not the whole run.
	cfg.DedupClock = false
	f, err := flush.New(cfg, logger)
	if err != nil {
		return err
	}
	defer f.Close()

	var bar *progressbar.ProgressBar
	var count func(int)
	// The journal's size is not known beforehand: no bar.
	if !*noProgress && !jf.enabled() && e.isTerminal(e.stderr) {
		bar = newBar(e.stderr, totalSize(files))
		count = func(n int) { _ = bar.Add(n) }
	}

	b := &backfiller{ctx: ctx, f: f, batchSize: cfg.BatchSize, arena: make([]byte, 0, arenaSize)}
	b.batch = f.NewBatch()
	var js report.JournalStats
	if jf.enabled() {
		js, err = b.journal(jopts)
	}
	for _, name := range files {
		if err = b.file(name, e, count); err != nil {
			break
		}
	}
	if err == nil {
		err = b.write()
	}
	// After a failure the current batch is abandoned unwritten: the run
	// stops with the reason, and a re-run writes everything again.
	if bar != nil {
		_ = bar.Finish()
	}
	s := f.Stats()
	fmt.Fprintf(e.stdout, "backfill: %d lines, %d sessions, %d repeats dropped, %d points written, %s\n",
		s.Records, s.Traffic, s.Repeats, s.PointsWritten, time.Since(start).Round(time.Millisecond))
	fmt.Fprint(e.stderr, garbledWarning("backfill", js))
	if *verbose {
		fmt.Fprintf(e.stderr, "courier-traffic backfill: stats: %s\n", s)
		if jf.enabled() {
			fmt.Fprintf(e.stderr, "courier-traffic backfill: %s\n", js)
		}
	}
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			mu.Lock()
			reason := lastErr
			mu.Unlock()
			if reason == "" {
				reason = "no server message"
			}
			reason = strings.TrimSuffix(strings.TrimSuffix(reason, ": will retry"), ": dropped")
			return fmt.Errorf("%w: %s (back-fill is idempotent: fix the cause and run it again)", err, reason)
		}
		return err
	}
	return nil
}

// writeError is a Write that did not deliver.
type writeError struct{ outcome flush.Outcome }

func (e *writeError) Error() string {
	if e.outcome == flush.Retry {
		return "write failed (InfluxDB unreachable, overloaded, or refusing the token or bucket)"
	}
	return "write rejected by InfluxDB (bad points, field type conflict or outside retention)"
}

type backfiller struct {
	ctx       context.Context
	f         *flush.Flusher
	batch     *flush.Batch
	batchSize int
	arena     []byte // raw bytes of the lines the current batch references
}

func (b *backfiller) file(name string, e env, count func(int)) error {
	in, err := report.Open(name, e.stdin, e.now(), count)
	if err != nil {
		return err
	}
	defer in.Close()
	var werr error
	err = in.Lines(func(line []byte) {
		if werr != nil {
			return
		}
		if len(b.arena)+len(line) > cap(b.arena) && len(b.arena) > 0 {
			if werr = b.write(); werr != nil {
				return
			}
		}
		off := len(b.arena)
		b.arena = append(b.arena, line...) // grows only for a line longer than the arena
		// The Batch keeps this view until Write returns; the arena is not
		// overwritten before then.
		s := unsafe.String(unsafe.SliceData(b.arena[off:]), len(line))
		b.batch.AddLine(s, in.Ref)
		if b.batch.Len() >= b.batchSize {
			werr = b.write()
		}
	})
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return b.ctx.Err()
}

// journal adds the journal records of o to batches, as file does with
// lines: the record's strings are copied into the arena, which the
// batch's views keep until its Write.
func (b *backfiller) journal(o report.JournalOptions) (report.JournalStats, error) {
	st, err := report.ReadJournal(b.ctx, o, func(r *report.JournalRecord) error {
		need := len(r.Ident) + len(r.Host) + len(r.Message)
		if len(b.arena)+need > cap(b.arena) && len(b.arena) > 0 {
			if err := b.write(); err != nil {
				return err
			}
		}
		ident, host, msg := b.keep(r.Ident), b.keep(r.Host), b.keep(r.Message)
		b.batch.AddMessage(ident, host, r.Time, report.JournalPrecision, msg)
		if b.batch.Len() >= b.batchSize {
			return b.write()
		}
		return nil
	})
	if err != nil {
		return st, journalError(err)
	}
	return st, b.ctx.Err()
}

// keep copies s into the arena and returns the copy. The arena grows only
// for a record longer than it; earlier views keep the old array alive.
func (b *backfiller) keep(s string) string {
	if s == "" {
		return ""
	}
	off := len(b.arena)
	b.arena = append(b.arena, s...)
	return unsafe.String(unsafe.SliceData(b.arena[off:]), len(s))
}

// write writes the current batch and starts the next one.
func (b *backfiller) write() error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	out := b.f.Write(b.ctx, b.batch)
	b.batch = b.f.NewBatch()
	b.arena = b.arena[:0]
	if out != flush.Delivered {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		return &writeError{out}
	}
	return nil
}

func totalSize(files []string) int64 {
	var total int64
	for _, name := range files {
		if name == "-" {
			return -1
		}
		st, err := os.Stat(name)
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		total += st.Size()
	}
	return total
}

func newBar(w io.Writer, total int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription("backfill"),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		progressbar.OptionFullWidth(),
	)
}
