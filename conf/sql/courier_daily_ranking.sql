-- courier_daily_ranking.sql: the daily Courier traffic ranking for InfluxDB 3 (SQL; InfluxDB 3
-- has no Flux and no tasks). The same rows as conf/flux/courier_daily_ranking.flux writes as
-- courier_daily with service "all": ranked users above the threshold, then "-- total --".
--
-- The plugin writes to InfluxDB 3 through its v2-compatible /api/v2/write endpoint; the bucket
-- name "courier/autogen" maps to the database "courier" (InfluxDB 3 accepts one "/" as db/rp).
-- Run:  influxdb3 query --database courier --file courier_daily_ranking.sql
-- Edit: the zone ('UTC' below: use the plugin's time_zone, e.g. 'Europe/Vienna'), the days
-- (yesterday and today, local) and the threshold (2900000 bytes, strictly above).
-- Schedule it (Processing Engine trigger, cron) and write the rows back if the ranking should be
-- stored; a re-run gives the same rows, so writing them again overwrites the same points.
WITH sessions AS (
    SELECT
        date_trunc('day', tz("time", 'UTC')) AS day,
        "user",
        "rcvd",
        "sent"
    FROM courier_session
    WHERE tz("time", 'UTC') >= date_trunc('day', tz(now(), 'UTC')) - INTERVAL '1 day'
),
per_user AS (
    SELECT
        day,
        "user",
        SUM("rcvd") AS rcvd,
        SUM("sent") AS sent,
        SUM("rcvd") + SUM("sent") AS total,
        COUNT(*) AS sessions
    FROM sessions
    GROUP BY day, "user"
),
ranked AS (
    SELECT
        day,
        "user",
        rcvd,
        sent,
        total,
        sessions,
        ROW_NUMBER() OVER (PARTITION BY day ORDER BY total DESC, "user" ASC) AS rank
    FROM per_user
    WHERE total > 2900000
),
totals AS (
    SELECT
        day,
        '-- total --' AS "user",
        SUM(rcvd) AS rcvd,
        SUM(sent) AS sent,
        SUM(total) AS total,
        SUM(sessions) AS sessions,
        0 AS rank
    FROM per_user
    GROUP BY day
)
SELECT day, "user", rcvd, sent, total, sessions, rank FROM ranked
UNION ALL
SELECT day, "user", rcvd, sent, total, sessions, rank FROM totals
ORDER BY day, rank = 0, rank;
