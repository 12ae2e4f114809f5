// Package faultproxy is a loopback HTTP proxy that injects faults between a
// client and a real server: added latency, connection resets, and HTTP error
// answers (429, 503, ...) for a number of requests or until told otherwise.
//
// It exists for the stress and fault tests: the plugin writes to the proxy,
// the proxy forwards to a real InfluxDB, and the tests change the fault plan
// while data flows. It listens on 127.0.0.1 only.
//
// A Proxy is safe for concurrent use; Set and Plan may be called while
// requests are in flight (a request sees the plan in force when it arrives).
package faultproxy
