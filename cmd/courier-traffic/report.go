package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/report"
)

// defaultLog is the classic script's LOGFILE.
const defaultLog = "/var/log/mail.log"

// reportKeys are the plugin keys report reads: how lines are parsed,
// filtered and deduplicated (the same as the plugin, so that the report from
// files and the one from InfluxDB agree), and where InfluxDB is.
var reportKeys = []string{
	flush.KeyTimeZone, flush.KeyIdentifiers, flush.KeyUserCase, flush.KeyExcludeIPs,
	flush.KeyDedup, flush.KeyDedupWindow, flush.KeyDedupMaxEntries, flush.KeyDedupTolerance,
	flush.KeyInfluxURL, flush.KeyInfluxOrg, flush.KeyInfluxBucket, flush.KeyInfluxToken,
	flush.KeyInfluxTokenFile, flush.KeyInfluxTimeout, flush.KeyInfluxTLSCAFile,
	flush.KeyInfluxTLSInsecure, flush.KeyMeasurement,
}

var keyUsage = map[string]string{
	flush.KeyTimeZone:             "time zone of year-less stamps and of the report's day: IANA name, UTC or Local (default Local)",
	flush.KeyIdentifiers:          "comma list of the syslog identifiers that are Courier (default imapd,imapd-ssl,pop3d,pop3d-ssl,imaplogin,courierpop3login,couriertcpd)",
	flush.KeyUserCase:             "keep or lower: lower-case user names before summing (default keep)",
	flush.KeyExcludeIPs:           "comma list of CIDRs or addresses whose sessions are not counted",
	flush.KeyDedup:                "drop repeated records (default true)",
	flush.KeyDedupWindow:          "event-time window of the dedup seen-set (default 10m)",
	flush.KeyDedupMaxEntries:      "maximum entries of the dedup seen-set (default 1000000)",
	flush.KeyDedupTolerance:       "copies of a session less than this apart count once (default 1s)",
	flush.KeyInfluxURL:            "InfluxDB base URL (default http://127.0.0.1:8086); for report: read from InfluxDB instead of files",
	flush.KeyInfluxOrg:            "InfluxDB organisation (InfluxDB 2.x; ignored by 1.8)",
	flush.KeyInfluxBucket:         `bucket ("bucket" for 2.x, "db/rp" or "db" for 1.8; default courier/autogen)`,
	flush.KeyInfluxToken:          `API token ("user:password" for 1.8); prefer --influx-token-file or $INFLUX_TOKEN, which ps(1) does not show`,
	flush.KeyInfluxTokenFile:      "file holding the token (a trailing newline is trimmed)",
	flush.KeyInfluxTimeout:        "timeout of one HTTP request (default 10s)",
	flush.KeyInfluxTLSCAFile:      "PEM file of extra trusted CA certificates",
	flush.KeyInfluxTLSInsecure:    "do not verify the server's TLS certificate (default false)",
	flush.KeyMeasurement:          "measurement of the session points (default courier_session)",
	flush.KeyBatchSize:            "points per write request (default 5000)",
	flush.KeyCountUnauthenticated: `write pre-login sessions as user "(none)" (default false)`,
	flush.KeyStatsInterval:        "period of the statistics log line (default 0 for the CLI: only the summary at the end)",
	flush.KeyStatsMeasurement:     `also write the statistics as points of this measurement ("" = off)`,
}

// reportFlags are report's own flags, after parsing.
type reportFlags struct {
	date, threshold, unit, service, format, tz string
	top, year                                  int
	verbose                                    bool
	cfg                                        *configFlags
	journal                                    *journalFlags
	alert                                      *alertFlags
	influxLang                                 *string
}

func newReportFlags(e env) (*flag.FlagSet, *reportFlags) {
	fs := flag.NewFlagSet("courier-traffic report", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &reportFlags{}
	fs.StringVar(&f.date, "date", "yesterday", "the day: today, yesterday, YYYY-MM-DD or the script's Mon D (\"Jul 23\", \"Jul  3\")")
	fs.StringVar(&f.threshold, "threshold", "2900000", "users above this many bytes get a row: bytes or a number with a unit (3MB, 2.9MB, 1GiB)")
	fs.StringVar(&f.unit, "unit", "MB", "unit of the text table: B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024)")
	fs.StringVar(&f.service, "service", "imap", "sessions to count: imap, pop3 or all")
	fs.StringVar(&f.format, "format", "text", "output: text (the classic report), json or csv (byte counts)")
	fs.IntVar(&f.top, "top", 0, "print at most N rows (0: all); the total row still covers every user")
	fs.IntVar(&f.year, "year", 0, "year of year-less (classic syslog) stamps and of a Mon D --date (default: inferred from each file's modification time)")
	fs.StringVar(&f.tz, "tz", "", "short for --time-zone")
	f.journal = addJournalFlags(fs, false)
	fs.BoolVar(&f.verbose, "verbose", false, "print what was read and skipped to stderr")
	f.alert = addAlertFlags(fs)
	f.influxLang = addInfluxLanguageFlag(fs)
	f.cfg = newConfigFlags(fs, reportKeys, keyUsage)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: courier-traffic report [flags] [FILE...]\n"+
			"       courier-traffic report --journal [--journal-dir DIR | --journal-file FILE...] [flags]\n"+
			"Prints the classic per-user traffic report of one day from log files (default %s;\n"+
			"gzip files are read as such; - is standard input), from the systemd journal with --journal\n"+
			"(Debian 12+ without rsyslog; runs journalctl), or from InfluxDB with --influx-url.\n\nFlags:\n", defaultLog)
		fs.PrintDefaults()
	}
	return fs, f
}

// loadConfig resolves --tz against --time-zone and validates the plugin
// keys with the plugin's own code.
func loadConfig(f *configFlags, tz string) (*flush.Config, error) {
	if tz != "" {
		if f.isSet(flush.KeyTimeZone) && f.Get(flush.KeyTimeZone) != tz {
			return nil, usageError(errors.New("--tz and --time-zone differ: give one"))
		}
		f.defaults[flush.KeyTimeZone] = tz
	}
	cfg, err := flush.LoadConfig(f)
	if err != nil {
		return nil, usageError(err)
	}
	return cfg, nil
}

func runReport(ctx context.Context, args []string, e env) error {
	fs, f := newReportFlags(e)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsageShown
	}
	cfg, err := loadConfig(f.cfg, f.tz)
	if err != nil {
		return err
	}
	p := report.Params{Top: f.top}
	if p.Threshold, err = report.ParseThreshold(f.threshold); err != nil {
		return usageError(fmt.Errorf("--threshold: %w", err))
	}
	if err := f.alert.apply(fs, &p); err != nil {
		return err
	}
	if p.Unit, err = report.ParseUnit(f.unit); err != nil {
		return usageError(fmt.Errorf("--unit: %w", err))
	}
	if p.Service, err = report.ParseService(f.service); err != nil {
		return usageError(fmt.Errorf("--service: %w", err))
	}
	format, err := report.ParseFormat(f.format)
	if err != nil {
		return usageError(fmt.Errorf("--format: %w", err))
	}
	if f.top < 0 {
		return usageError(fmt.Errorf("--top %d: want 0 (all) or more", f.top))
	}
	if f.year < 0 || f.year > 9999 {
		return usageError(fmt.Errorf("--year %d: want 1..9999 (0: infer)", f.year))
	}
	now := e.now().In(cfg.Location)
	if p.Date, err = report.ParseDate(f.date, now, f.year); err != nil {
		return usageError(fmt.Errorf("--date: %w", err))
	}

	if err := f.journal.check(files); err != nil {
		return err
	}

	var users map[string]report.Sums
	if f.cfg.isSet(flush.KeyInfluxURL) {
		if len(files) > 0 {
			return usageError(errors.New("--influx-url reads from InfluxDB: give no files"))
		}
		if f.journal.enabled() {
			return usageError(errors.New("--influx-url reads from InfluxDB, --journal from the journal: give one"))
		}
		if users, err = queryInfluxIn(ctx, *f.influxLang, cfg, p.Date, p.Service); err != nil {
			return err
		}
	} else if f.journal.enabled() {
		if err := f.journal.statInputs(); err != nil {
			return err
		}
		agg, err := report.NewAggregator(cfg, p.Date, p.Service, f.year)
		if err != nil {
			return usageError(err)
		}
		js, err := readJournalDay(ctx, agg, f.journal.options(cfg), p.Date, cfg)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stderr, garbledWarning("report", js))
		if f.verbose {
			fmt.Fprintf(e.stderr, "courier-traffic report: %s %s\n", js, agg.Stats())
		}
		users = agg.Users()
	} else {
		if len(files) == 0 {
			files = []string{defaultLog}
		}
		agg, err := report.NewAggregator(cfg, p.Date, p.Service, f.year)
		if err != nil {
			return usageError(err)
		}
		for _, name := range files {
			if err := readInto(agg, name, e, nil); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if f.verbose {
			fmt.Fprintf(e.stderr, "courier-traffic report: %s\n", agg.Stats())
		}
		users = agg.Users()
	}
	if f.alert.on {
		return f.alert.finish(e, p, users, format)
	}
	w := bufio.NewWriter(e.stdout)
	if err := report.NewTable(p, users).Write(w, format); err != nil {
		return err
	}
	return w.Flush()
}

func readInto(agg *report.Aggregator, name string, e env, count func(int)) error {
	in, err := report.Open(name, e.stdin, e.now(), count)
	if err != nil {
		return err
	}
	defer in.Close()
	return agg.ReadInput(in)
}
