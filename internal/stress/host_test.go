package stress

import (
	"testing"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
)

// The scenarios drive the real plugin through internal/fbhost, whose
// methods return errors instead of calling t.Fatal: the fault scenarios
// drive a host from one goroutine while the test goroutine kills and
// restarts InfluxDB. This file holds the thin testing.TB wrappers.

// moduleRoot is the module's directory, where the builds run.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := fbhost.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// cliBinary returns cmd/courier-traffic, built once per test binary.
func cliBinary(tb testing.TB) string {
	tb.Helper()
	cli, err := fbhost.BuildBinary(moduleRoot(tb), "./cmd/courier-traffic")
	if err != nil {
		tb.Fatal(err)
	}
	return cli
}

// startHost starts the C host with the real plugin (both built once per
// test binary) in a new directory under tb.TempDir, with fbhost's default
// command timeout (far above any flush bound the scenarios check). A
// registered cleanup closes it; the caller may close it earlier.
func startHost(tb testing.TB, env ...string) *fbhost.Host {
	tb.Helper()
	so, bin, err := fbhost.Build(moduleRoot(tb))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := fbhost.Start(fbhost.Options{Plugin: so, Binary: bin, Dir: tb.TempDir(), Env: env})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("%v\nplugin log:\n%s", err, h.Log())
		}
	})
	return h
}
