package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/report"
)

// journalMargin widens the journal read of a report's day on both sides.
// Before the day: the Aggregator reads the dedup window before midnight
// (dedup_window, 10 minutes by default) to seed its repeat set, so that
// the copies after midnight of a burst that began before it are repeats
// (a session counts on the day of its first copy); it counts nothing of
// that window. The read starts at the day's start less the larger of the
// two. After the day: journalctl selects by the receive time
// (__REALTIME_TIMESTAMP) while a session counts by its source time
// (_SOURCE_REALTIME_TIMESTAMP), which is earlier; a record logged at
// 23:59:59.9999 and received after midnight still belongs to the day, and
// the Aggregator drops the rest. The default costs 20 minutes of journal
// read in a day's 1440.
const journalMargin = 10 * time.Minute

// journalFlags are the flags that make report and backfill read the
// journal instead of files.
type journalFlags struct {
	journal      bool
	dir          string
	files        stringList
	since, until string // backfill only
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func addJournalFlags(fs *flag.FlagSet, withRange bool) *journalFlags {
	j := &journalFlags{}
	fs.BoolVar(&j.journal, "journal", false, "read Courier's records from the systemd journal (runs journalctl) instead of log files")
	fs.StringVar(&j.dir, "journal-dir", "", "read the journal files in `DIR` (journalctl --directory; a saved /var/log/journal); implies --journal")
	fs.Var(&j.files, "journal-file", "read the journal `FILE` (journalctl --file; repeatable, globs allowed); implies --journal")
	if withRange {
		fs.StringVar(&j.since, "since", "", "with --journal: records received at or after this instant: YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" (in --time-zone), RFC 3339, today or yesterday;\n"+
			"the read starts --dedup-window earlier, so that a burst of copies in progress is one session (that lead-in's sessions are written too, idempotently)")
		fs.StringVar(&j.until, "until", "", "with --journal: records received before this instant (same forms as --since)")
	}
	return j
}

// enabled reports whether the journal is the input.
func (j *journalFlags) enabled() bool { return j.journal || j.dir != "" || len(j.files) > 0 }

// check rejects file arguments with the journal: the two would be read
// in two different orders of time (journalctl interleaves its files by
// time, log files are read in the order given), and a file argument next
// to --journal is more likely a mistake than a wish. Run the command twice
// instead: dedup makes the second run add nothing the first had.
func (j *journalFlags) check(files []string) error {
	if j.enabled() && len(files) > 0 {
		return usageError(fmt.Errorf("--journal reads the journal, not files: drop %q (or run once for the files and once for the journal)", files[0]))
	}
	if !j.enabled() && (j.since != "" || j.until != "") {
		return usageError(errors.New("--since and --until select journal records: give --journal (for files, give the files of the period)"))
	}
	return nil
}

// options returns what to ask journalctl for: Courier's identifiers in the
// journal or files chosen.
func (j *journalFlags) options(cfg *flush.Config) report.JournalOptions {
	return report.JournalOptions{Directory: j.dir, Files: j.files, Identifiers: cfg.Identifiers}
}

// statInputs checks --journal-dir and the --journal-file names that are
// not globs before journalctl runs, so that a missing one is named as a
// missing log file is ("open x: no such file or directory"), where
// journalctl would only say "Failed to open files".
func (j *journalFlags) statInputs() error {
	if j.dir != "" {
		st, err := os.Stat(j.dir)
		if err != nil {
			return asOpen(err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--journal-dir %s: not a directory", j.dir)
		}
	}
	for _, f := range j.files {
		if strings.ContainsAny(f, "*?[") {
			continue // journalctl expands it
		}
		st, err := os.Stat(f)
		if err != nil {
			return asOpen(err)
		}
		if st.IsDir() {
			return fmt.Errorf("--journal-file %s: is a directory (use --journal-dir)", f)
		}
	}
	return nil
}

// asOpen words a Stat error as Open's, the message of a missing log file.
func asOpen(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Op = "open"
	}
	return err
}

// journalError turns ReadJournal's errors into the command's messages.
func journalError(err error) error {
	if errors.Is(err, report.ErrNoJournalctl) {
		return errors.New("--journal needs journalctl (not found in PATH)")
	}
	return err
}

// parseInstant reads --since and --until: "today" and "yesterday" (that
// day's midnight), YYYY-MM-DD (midnight), "YYYY-MM-DD HH:MM[:SS]" or with
// a T, all in loc, or RFC 3339 with its own offset (fractions allowed).
// They are parsed here, not by journalctl, so that the zone is the
// configured one (journalctl would take the machine's) and the bound is
// passed as an exact instant.
func parseInstant(s string, loc *time.Location, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	now = now.In(loc)
	switch strings.ToLower(t) {
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	case "yesterday":
		y, m, d := now.Date()
		return time.Date(y, m, d-1, 0, 0, 0, 0, loc), nil
	}
	if v, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return v, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if v, err := time.ParseInLocation(layout, t, loc); err == nil {
			return v, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\", RFC 3339 (2026-07-03T06:00:00+02:00), today or yesterday", s)
}

// journalRange parses --since and --until for backfill. With dedup on,
// the read starts leadIn (dedup_window) before --since: a run that
// started inside a burst of copies would anchor the session at its first
// copy after --since, on another point than the run over the period
// before it wrote (flush's one documented way to double). Reading the
// lead-in, this run sees the burst's first copy and writes the same
// point; the sessions of the lead-in are written too, on the points a run
// over that period writes (idempotent).
func (j *journalFlags) journalRange(o *report.JournalOptions, loc *time.Location, now time.Time, leadIn time.Duration) error {
	var err error
	if j.since != "" {
		if o.Since, err = parseInstant(j.since, loc, now); err != nil {
			return usageError(fmt.Errorf("--since %w", err))
		}
	}
	if j.until != "" {
		if o.Until, err = parseInstant(j.until, loc, now); err != nil {
			return usageError(fmt.Errorf("--until %w", err))
		}
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		return usageError(fmt.Errorf("--since %s is not before --until %s", j.since, j.until))
	}
	if !o.Since.IsZero() {
		o.Since = o.Since.Add(-leadIn)
	}
	return nil
}

// readJournalDay feeds the records of the report's day (with the margin)
// into agg.
func readJournalDay(ctx context.Context, agg *report.Aggregator, o report.JournalOptions, date report.Date, cfg *flush.Config) (report.JournalStats, error) {
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	start, end := date.Bounds(loc)
	o.Since, o.Until = start.Add(-max(journalMargin, cfg.DedupWindow)), end.Add(journalMargin)
	st, err := report.ReadJournal(ctx, o, func(r *report.JournalRecord) error {
		agg.AddMessage(r.Ident, r.Host, r.Time, report.JournalPrecision, r.Message)
		return nil
	})
	return st, journalError(err)
}

// garbledWarning is the stderr note for journal lines that were skipped.
func garbledWarning(cmd string, st report.JournalStats) string {
	if st.Garbled == 0 {
		return ""
	}
	return fmt.Sprintf("courier-traffic %s: warning: %d journal record(s) could not be decoded and were skipped\n", cmd, st.Garbled)
}
