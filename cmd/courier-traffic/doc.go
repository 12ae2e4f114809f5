// Command courier-traffic prints the classic per-user Courier IMAP/POP3
// traffic report straight from log files, prints the same report from
// InfluxDB, and back-fills log history into InfluxDB through the plugin's
// own flush code.
//
//	courier-traffic report [--date D] [--threshold N] [--unit U] [--service S]
//	                       [--format F] [--top N] [--year Y] [--tz Z] [FILE...]
//	courier-traffic report --journal [--journal-dir DIR | --journal-file FILE...] [--date D] ...
//	courier-traffic report --influx-url URL [--influx-bucket B] ... [--date D] ...
//	courier-traffic backfill [--influx-url URL] [--influx-bucket B] ... FILE...
//	courier-traffic backfill --journal [--journal-dir DIR | --journal-file FILE...]
//	                         [--since T] [--until T] [--influx-url URL] ...
//	courier-traffic report ... --alert-above N
//	courier-traffic influxql install|print|uninstall --tz Z [--influx-url URL] [--database DB] ...
//
// The defaults of report are the classic script's (date yesterday, file
// /var/log/mail.log, threshold 2900000 bytes, unit MB, service imap), so a
// cron line that ran the script can run this instead and print the same
// bytes. Files may be gzip-compressed; "-" is standard input; several files
// are read in the order given as one stream (the dedup seen-set spans them).
//
// With --journal (Debian 12 and later install no rsyslog, so there is no
// mail.log) both commands read Courier's records from the systemd journal
// instead: they run journalctl (no shell) with -o export, matches on the
// configured identifiers and a time range, and stream its output through
// report.DecodeJournalExport into the same code as log lines (report: one
// day, read from dedup_window before it to seed the repeat set and until
// 10 minutes after it for late receptions; backfill: --since/--until,
// parsed here in the configured zone, with a dedup_window lead-in before
// --since). --journal-dir and --journal-file read saved journals
// (journalctl --directory, --file) and imply --journal. Files and the
// journal in one run are a usage error. No journalctl, no permission to
// read the journal (including journalctl's hint that only the user's own
// messages are visible) and journalctl failing are errors (exit 1) naming
// the cause; a record that cannot be decoded is skipped and counted, with
// a warning. docs/journal.md is the user's guide.
//
// Flags named like the plugin's configuration keys (influx_url becomes
// --influx-url, time_zone --time-zone or --tz, ...) mean the same and are
// validated by the same code (flush.LoadConfig). The token may also come
// from the INFLUX_TOKEN environment variable, which keeps it out of ps(1).
//
// report --alert-above N is the alert mode for cron and monitoring: it
// prints only the users above N bytes and exits 3, or prints nothing and
// exits 0 (alert.go). report --influx-query-language influxql reads with
// InfluxQL instead of Flux (InfluxDB 1.x without Flux, InfluxDB 3). The
// influxql command installs the continuous queries of
// conf/influxql/courier_daily_cq.influxql on InfluxDB 1.x (cq.go);
// docs/influxdb-versions.md is the user's guide to both.
//
// Exit status: 0 on success; 1 when the work failed (unreadable file,
// unreadable journal, InfluxDB refused a write or a query), with the
// reason on standard error; 2 for a usage error; 3 when report
// --alert-above found users above the limit.
//
// All of the logic lives in package report (the report engine) and package
// flush (parsing, dedup, writing); this package only wires flags to them.
package main
