package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfileEnv: with COURIER_TRAFFIC_CPUPROFILE the .so writes a
// (gzipped protobuf) CPU profile once the last open instance exits, and
// nothing before.
func TestCPUProfileEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	h := startHost(t, cpuProfileEnv+"="+path)
	props := []string{"influx_url", "http://127.0.0.1:9", "stats_interval", "0"}
	h.init("a", props...)
	h.init("b", props...)
	if got := h.one("exit a"); got != "FLB_OK" {
		t.Fatalf("exit a: %s", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("after the first of two exits: %v, %v; want an empty file", fi, err)
	}
	if got := h.one("exit b"); got != "FLB_OK" {
		t.Fatalf("exit b: %s", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("profile of %d bytes is not gzip: %v\n%s", len(data), err, h.log())
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
		t.Fatalf("profile: %d bytes, %v", len(b), err)
	}
}
