// Command courier-traffic prints the classic per-user Courier IMAP/POP3
// traffic report straight from log files, prints the same report from
// InfluxDB, and back-fills log history into InfluxDB through the plugin's
// own flush code.
//
//	courier-traffic report [--date D] [--threshold N] [--unit U] [--service S]
//	                       [--format F] [--top N] [--year Y] [--tz Z] [FILE...]
//	courier-traffic report --influx-url URL [--influx-bucket B] ... [--date D] ...
//	courier-traffic backfill [--influx-url URL] [--influx-bucket B] ... FILE...
//
// The defaults of report are the classic script's (date yesterday, file
// /var/log/mail.log, threshold 2900000 bytes, unit MB, service imap), so a
// cron line that ran the script can run this instead and print the same
// bytes. Files may be gzip-compressed; "-" is standard input; several files
// are read in the order given as one stream (the dedup seen-set spans them).
//
// Flags named like the plugin's configuration keys (influx_url becomes
// --influx-url, time_zone --time-zone or --tz, ...) mean the same and are
// validated by the same code (flush.LoadConfig). The token may also come
// from the INFLUX_TOKEN environment variable, which keeps it out of ps(1).
//
// Exit status: 0 on success; 1 when the work failed (unreadable file,
// InfluxDB refused a write or a query), with the reason on standard error;
// 2 for a usage error.
//
// All of the logic lives in package report (the report engine) and package
// flush (parsing, dedup, writing); this package only wires flags to them.
package main
