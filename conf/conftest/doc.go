// Package conftest holds the tests of the files shipped under conf/ and docker/: the Flux task,
// the InfluxDB template, the InfluxQL and SQL queries, the Fluent Bit configurations, the
// Grafana provisioning, the Dockerfile and the compose file. It has no non-test code.
//
// What the tests establish, and what they need:
//
//   - Flux syntax: every Flux text we ship (the task file, the template's task, variable and
//     dashboard queries, the Grafana dashboard's queries) parses with the real Flux parser:
//     libflux compiled to WebAssembly in the npm package @influxdata/flux@0.5.1, loaded by
//     fluxparse.mjs under node. The package is installed on first use with npm into
//     $COURIER_FLUX_NPM_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/courier-traffic/flux-npm),
//     never into the repository. node and npm missing is a test failure naming the install
//     command (apt-get install -y nodejs npm), not a skip.
//
//   - Flux semantics: the ranking pipeline section of conf/flux/courier_daily_ranking.flux,
//     extracted between its marker comments, runs on the real InfluxDB 1.8.10 test server
//     (internal/influxtest, Flux 0.65) over sessions written there, and returns exactly the
//     rows computed in Go from the same sessions; the InfluxQL query returns the same rows, and
//     the CLI's report (package report) over the same log gives the same users, sums and order.
//
//   - Template: the task query in conf/influxdb/courier-traffic.yml is the .flux file minus
//     its option-task line (-update rewrites it), and every bucket and measurement name agrees
//     with the plugin's defaults (flush.DefaultConfig) and the task's settings.
//
//   - Alerts (alerts_test.go): the template's threshold check reads what the task writes for
//     it (courier_running in the daily bucket, field total) with the task's threshold, after
//     the task's run; its Flux, and the task InfluxDB generates from a threshold check, parse;
//     the rule reaches the check by tag and the endpoint by name; the task's running-total
//     block runs on the test server's Flux engine and gives the ranked users' sums.
//
//   - Chronograf (chronograf_test.go): conf/chronograf/courier-traffic.json has what
//     Chronograf's dashboard import reads (meta, cells with id, grid position, name, type and
//     InfluxQL queries, templates with tempVar, type, values and query), and every query reads
//     the plugin's database and retention policies and a measurement that something writes.
//     Its queries run against the continuous queries' output in cmd/courier-traffic (cq_test.go).
//
//   - Fluent Bit: the courier_influxdb output section of conf/fluent-bit.conf and
//     conf/fluent-bit.yaml (and of each commented alternative input block, uncommented) is
//     fed, with ${VAR} replaced from a fixed map, to flush.LoadConfig without error; every key
//     named there is a key of flush.Keys() or one the Fluent Bit core consumes.
//
//   - Docker: docker-compose (Debian package docker-compose) validates docker/compose.yaml;
//     the go build commands of docker/Dockerfile are run as written (output directory
//     replaced) and the plugin library needs no glibc symbol newer than bookworm's 2.36.
//
//   - README: the quick-start commands are the ones documented (make demo, make test), .ci/run
//     runs make test, and make demo prints exactly the report the README shows.
//
//   - Standalone: no file of the repository refers to the workspace's design or research notes
//     outside it (standalone_test.go), and every relative link in README.md, CONTRIBUTING.md
//     and docs/*.md names a file that exists.
//
// Run: go test ./conf/conftest   (regenerate the template's task query: add -update)
package conftest
