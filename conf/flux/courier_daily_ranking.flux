// courier_daily_ranking.flux: the daily Courier IMAP/POP3 traffic ranking, as an InfluxDB 2.x task.
//
// What it does, every hour:
//   - For the local calendar days "yesterday" and "today" in time_zone, it sums rcvd and sent
//     of every session point (measurement `measurement` in bucket `influx_bucket`, written by
//     the Fluent Bit plugin or by `courier-traffic backfill`) per user and per service.
//   - It keeps the users whose rcvd+sent is above `threshold` bytes (strictly, like the classic
//     courier-traffic-imap script), ranks them by total (descending, ties by user name) and
//     writes `courier_daily` points (docs/design.md, Schema) into `daily_bucket`:
//       tags   user, service ("imap", "pop3", or "all" for the sum over both)
//       fields rcvd, sent, total, sessions, rank (int64; rank is the user's rank on the
//              service="all" total and is repeated on the user's per-service rows)
//       time   the local day's start (midnight in time_zone)
//     plus a user="-- total --" row per service with the day's totals over ALL users (below the
//     threshold too) and rank 0, like the classic report's last line.
//   - It writes per-domain daily totals (`domain_measurement`, tags domain and service, fields
//     rcvd, sent, total, sessions, users, rank) over all users: the domain is the part of the
//     user after the last "@" ("(none)" for users without one), because hosting providers bill
//     per domain.
//   - It writes today's running total of every ranked user once more, stamped at the run's
//     now() instead of local midnight (`running_measurement`, tag user, fields rcvd, sent,
//     total, sessions, rank; the sum over both services): the threshold check of the template
//     (conf/influxdb/courier-traffic.yml, CheckThreshold) reads the points of its last period,
//     and courier_daily's midnight points are older than that for all but the first hour of a
//     day. One point per ranked user and run (24 a day), kept with the daily bucket.
//   - Fleet view: the `host` tag is deliberately not part of any grouping. Several mail hosts
//     may write into one bucket; a user whose sessions are spread over several hosts (IMAP on
//     one, POP3 on another, a mailbox migrated during the day) is ranked once, on the fleet's
//     total. A per-host view is a dashboard query over the raw bucket.
//
// Idempotent: a point is identified by measurement + tags + time, and every run writes exactly
// the same identities (same tags, _time = local day start) with the values recomputed from the
// raw data, so a re-run, a delayed run or a manual run overwrites the earlier points instead of
// adding to them. Totals only grow during a day, so a user once above the threshold stays above
// it; deleting raw data is the only way to leave a stale user row behind.
//
// Why hourly runs in UTC are fine (tasks are scheduled in UTC; `every: 1h` fires at hh:05 UTC
// because of the offset):
//   - No run has to coincide with local midnight. Every run recomputes the whole local day from
//     its midnight (computed with the IANA zone, so 23- and 25-hour DST days are right) up to
//     now(), and the whole previous local day, from the raw data. Whatever UTC instant a run
//     fires at, it writes the correct partial "today" and the complete "yesterday".
//   - The first run after local midnight finalises yesterday; the runs in the following 24 hours
//     rewrite it, so data that arrives late (Fluent Bit retrying after an InfluxDB outage,
//     a backfill) is still counted. Missed or delayed runs heal at the next run.
//   - now() in a task is the scheduled time, not the wall-clock time of the execution, so a run
//     that is executed late still works on the days of its schedule.
//   - Zones with half-hour offsets need nothing special for the same reason.
//   - Data older than yesterday is not revisited: after a longer outage, or for history, run
//     `courier-traffic backfill` or this script with `option now = () => <a time in that day>`.
//
// Versions: needs InfluxDB 2.x with Flux 0.174 or newer (InfluxDB 2.7: timezone, date.add/sub
// with location, influxdb.wideTo). InfluxDB 3 has no Flux: use conf/sql/. InfluxDB 1.x: use
// conf/influxql/.
//
// Tests: the section between the "BEGIN ranking pipeline" and "END ranking pipeline" marker
// lines is written for Flux 0.65 as well (no timezone, no date.add/sub, no to()). conf/conftest
// extracts it together with the settings section, replaces influx_bucket and threshold with
// its test database and a threshold between the generated users' totals, appends a driver that computes one day's [start, stop) with a fixed UTC offset and
// experimental.addDuration, yields userRanking() and domainTotals(), and runs that on a real
// InfluxDB 1.8.10, comparing the rows with the counts computed from the generated log. The
// full file (and the query of the template in conf/influxdb/) is checked with the real Flux
// parser.
//
// The template conf/influxdb/courier-traffic.yml carries this file minus its `option task`
// line (influx apply generates that line from the Task's name/every/offset); a test keeps the
// two identical (`go test ./conf/conftest -run Template -update` rewrites the template).
import "date"
import "regexp"
import "strings"
import "timezone"
import "influxdata/influxdb"

option task = {name: "courier-daily-ranking", every: 1h, offset: 5m}

// BEGIN settings (named like the plugin's keys where one exists)
// time_zone: IANA name of the zone whose calendar days are ranked; set it to the zone of the
// mail hosts (the plugin's time_zone), e.g. "Europe/Vienna".
time_zone = "UTC"
// influx_bucket: the bucket the plugin writes sessions to (plugin key influx_bucket).
influx_bucket = "courier/autogen"
// measurement: the session measurement (plugin key measurement).
measurement = "courier_session"
// daily_bucket: where the ranking points go; give it a longer retention than the raw bucket.
daily_bucket = "courier/daily"
// daily_measurement: the per-user ranking measurement (docs/design.md, Schema).
daily_measurement = "courier_daily"
// domain_measurement: the per-domain totals measurement.
domain_measurement = "courier_daily_domain"
// running_measurement: today's running total per ranked user at the run's time (for alerts).
running_measurement = "courier_running"
// threshold: users whose rcvd+sent for the day is above this many bytes are ranked
// (2900000, "almost 3 MB", is the classic script's value).
threshold = 2900000
// END settings

// BEGIN ranking pipeline (Flux 0.65-compatible: extracted and run on InfluxDB 1.8.10 by the tests)
// sessionsIn returns one row per session point in [start, stop) with its rcvd and sent as
// columns. Every caller starts from its own from(): Flux 0.65's planner fails on a from()
// shared by several branches.
sessionsIn = (start, stop) =>
    from(bucket: influx_bucket)
        |> range(start: start, stop: stop)
        |> filter(fn: (r) => r._measurement == measurement and (r._field == "rcvd" or r._field == "sent"))
        |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")

// summarize turns session rows into one row per user and service with the sums of rcvd and
// sent, their total and the number of sessions.
summarize = (tables=<-) =>
    tables
        |> group(columns: ["user", "service"])
        |> reduce(
            identity: {rcvd: 0, sent: 0, sessions: 0},
            fn: (r, accumulator) => ({
                rcvd: accumulator.rcvd + r.rcvd,
                sent: accumulator.sent + r.sent,
                sessions: accumulator.sessions + 1,
            }),
        )
        |> map(fn: (r) => ({r with total: r.rcvd + r.sent}))

// rankBy numbers the rows of one table 1, 2, ... by total descending, ties by column `by`
// ascending. Flux's sort is not stable and has one direction, so it sorts ascending on the
// negated total and the name together.
rankBy = (tables=<-, by) =>
    tables
        |> group()
        |> map(fn: (r) => ({r with _negtotal: 0 - r.total, rank: 1}))
        |> sort(columns: ["_negtotal", by])
        |> cumulativeSum(columns: ["rank"])
        |> drop(columns: ["_negtotal"])

// userRows returns one row per user and service ("imap", "pop3" and "all") for [start, stop).
userRows = (start, stop) =>
    union(
        tables: [
            sessionsIn(start: start, stop: stop)
                |> summarize(),
            sessionsIn(start: start, stop: stop)
                |> set(key: "service", value: "all")
                |> summarize(),
        ],
    )

// totalRows returns the "-- total --" rows over all users for [start, stop), one per service
// ("imap", "pop3" and "all").
totalRows = (start, stop) =>
    union(
        tables: [
            sessionsIn(start: start, stop: stop)
                |> set(key: "user", value: "-- total --")
                |> summarize(),
            sessionsIn(start: start, stop: stop)
                |> set(key: "service", value: "all")
                |> set(key: "user", value: "-- total --")
                |> summarize(),
        ],
    )

// userRanking returns the courier_daily rows of the day [start, stop): the ranked users
// (service all, imap, pop3) and the "-- total --" rows (rank 0), stamped at start.
userRanking = (start, stop) => {
    ranked = sessionsIn(start: start, stop: stop)
        |> set(key: "service", value: "all")
        |> summarize()
        |> filter(fn: (r) => r.total > threshold)
        |> rankBy(by: "user")
        |> keep(columns: ["user", "rank"])
    rankedRows = join(tables: {ranked: ranked, rows: userRows(start: start, stop: stop) |> group()}, on: ["user"])
    totals = totalRows(start: start, stop: stop)
        |> group()
        |> map(fn: (r) => ({r with rank: 0}))

    return union(tables: [rankedRows, totals])
        |> map(
            fn: (r) => ({
                _time: start,
                _measurement: daily_measurement,
                user: r.user,
                service: r.service,
                rcvd: r.rcvd,
                sent: r.sent,
                total: r.total,
                sessions: r.sessions,
                rank: r.rank,
            }),
        )
        |> group(columns: ["_measurement", "user", "service"])
}

// domainOf is the part of a user name after the last "@", or "(none)".
domainOf = (user) => {
    d = regexp.replaceAllString(r: /^.*@/, v: user, t: "")

    return if strings.containsStr(v: user, substr: "@") and d != "" then d else "(none)"
}

// domainTotals returns the courier_daily_domain rows of the day [start, stop): per domain and
// service (imap, pop3, all) the sums over all its users, the number of users with traffic,
// and the domain's rank by total within its service, stamped at start.
domainTotals = (start, stop) =>
    userRows(start: start, stop: stop)
        |> map(fn: (r) => ({r with domain: domainOf(user: r.user)}))
        |> group(columns: ["domain", "service"])
        |> reduce(
            identity: {rcvd: 0, sent: 0, total: 0, sessions: 0, users: 0},
            fn: (r, accumulator) => ({
                rcvd: accumulator.rcvd + r.rcvd,
                sent: accumulator.sent + r.sent,
                total: accumulator.total + r.total,
                sessions: accumulator.sessions + r.sessions,
                users: accumulator.users + 1,
            }),
        )
        |> group(columns: ["service"])
        |> map(fn: (r) => ({r with _negtotal: 0 - r.total, rank: 1}))
        |> sort(columns: ["_negtotal", "domain"])
        |> cumulativeSum(columns: ["rank"])
        |> map(
            fn: (r) => ({
                _time: start,
                _measurement: domain_measurement,
                domain: r.domain,
                service: r.service,
                rcvd: r.rcvd,
                sent: r.sent,
                total: r.total,
                sessions: r.sessions,
                users: r.users,
                rank: r.rank,
            }),
        )
        |> group(columns: ["_measurement", "domain", "service"])
// END ranking pipeline

// The local days: date.truncate, date.sub and date.add with the zone's location give the
// local midnights, so DST days have 23 or 25 hours.
zone = timezone.location(name: time_zone)
today = date.truncate(t: now(), unit: 1d, location: zone)
yesterday = date.sub(d: 1d, from: today, location: zone)
tomorrow = date.add(d: 1d, to: today, location: zone)

// The ranking rows are wide (one column per field); wideTo writes the group key columns
// (user or domain, service) as tags and the other columns as fields.
union(
    tables: [
        userRanking(start: yesterday, stop: today),
        userRanking(start: today, stop: tomorrow),
    ],
)
    |> influxdb.wideTo(bucket: daily_bucket)
    |> yield(name: "users")

union(
    tables: [
        domainTotals(start: yesterday, stop: today),
        domainTotals(start: today, stop: tomorrow),
    ],
)
    |> influxdb.wideTo(bucket: daily_bucket)
    |> yield(name: "domains")

// Today's running totals of the ranked users (service "all"), stamped at now(): what the
// template's threshold check compares with its limit, one hour after the run.
userRanking(start: today, stop: tomorrow)
    |> filter(fn: (r) => r.service == "all" and r.user != "-- total --")
    |> drop(columns: ["_measurement", "service"])
    |> map(fn: (r) => ({r with _time: now(), _measurement: running_measurement}))
    |> group(columns: ["_measurement", "user"])
    |> influxdb.wideTo(bucket: daily_bucket)
    |> yield(name: "running")
