// Package conf carries the shipped files that a command needs at run time, so that a binary
// installed without the repository has them: the InfluxQL continuous queries that
// `courier-traffic influxql install` creates on InfluxDB 1.x. The files stay the documentation
// (read them in conf/); this package only embeds them.
package conf

import _ "embed"

// ContinuousQueries is conf/influxql/courier_daily_cq.influxql: comment lines starting with
// "--" and one CREATE CONTINUOUS QUERY statement per line, with {{name}} placeholders.
//
//go:embed influxql/courier_daily_cq.influxql
var ContinuousQueries string
