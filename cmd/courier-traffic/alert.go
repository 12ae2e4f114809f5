package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/courier-traffic/courier-traffic/report"
)

// report --alert-above N: the alert mode for cron and monitoring systems, on any InfluxDB
// version (and on log files and the journal too). It prints the report's table restricted to
// the users whose traffic of the day is above N bytes and exits with exitAlert; when nobody is
// above N it prints nothing and exits 0, so that cron mails only when there is something to say.

// exitAlert is report's exit status when --alert-above found users above the limit. Not 1
// (the work failed) nor 2 (usage error), so that a script can tell "alert" from "broken".
const exitAlert = 3

// errAlert is returned by report when --alert-above found users; run maps it to exitAlert.
// The users are already printed.
var errAlert = errors.New("users above --alert-above")

// alertFlags holds --alert-above.
type alertFlags struct {
	raw   string
	limit int64
	on    bool
}

func addAlertFlags(fs *flag.FlagSet) *alertFlags {
	a := &alertFlags{}
	fs.StringVar(&a.raw, "alert-above", "", "alert mode: print only the users above this many bytes (3MB, 1GiB, ...) and exit 3 if there are any; exit 0 and print nothing if not (use with --date today for the running day)")
	return a
}

// apply validates --alert-above and makes it the table's threshold. It is exclusive with
// --threshold: in alert mode the rows are exactly the users above the limit.
func (a *alertFlags) apply(fs *flag.FlagSet, p *report.Params) error {
	if a.raw == "" {
		return nil
	}
	thresholdSet := false
	fs.Visit(func(f *flag.Flag) { thresholdSet = thresholdSet || f.Name == "threshold" })
	if thresholdSet {
		return usageError(errors.New("--alert-above sets the rows' threshold: give it or --threshold, not both"))
	}
	limit, err := report.ParseThreshold(a.raw)
	if err != nil {
		return usageError(fmt.Errorf("--alert-above: %w", err))
	}
	a.limit, a.on, p.Threshold = limit, true, limit
	return nil
}

// finish prints the alert: nothing and nil when no user is above the limit; else the table
// (in the chosen format, --top applied), a summary naming every user above the limit on
// stderr, and errAlert.
func (a *alertFlags) finish(e env, p report.Params, users map[string]report.Sums, format report.Format) error {
	all := p
	all.Top = 0
	above := report.NewTable(all, users).Rows
	if len(above) == 0 {
		return nil
	}
	w := bufio.NewWriter(e.stdout)
	if err := report.NewTable(p, users).Write(w, format); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	names := make([]string, len(above))
	for i, r := range above {
		names[i] = fmt.Sprintf("%s (%d)", r.User, r.Total())
	}
	fmt.Fprintf(e.stderr, "courier-traffic report: %d user(s) above %d bytes on %s (%s): %s\n",
		len(above), a.limit, p.Date, p.Service, strings.Join(names, ", "))
	return errAlert
}
