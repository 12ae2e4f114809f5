package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// The end-to-end tests build the real plugin (.so, -buildmode=c-shared) and
// the C host in plugin/testhost, which loads it with dlopen and drives it
// through Fluent Bit's proxy ABI (see host.c for the script language). The
// driver is internal/fbhost; this file only turns its errors into t.Fatal.

func TestMain(m *testing.M) {
	os.Exit(fbhost.Main(func() int { return influxtest.Main(m) }))
}

// result is one "result ..." line of the host.
type result = fbhost.Result

// rec is one record for the host's record-file format.
type rec = fbhost.Record

// hostTimeout bounds one command: a hung plugin fails the test with its log
// instead of running into the test binary's timeout.
const hostTimeout = 3 * time.Minute

// host is a running testhost process with the plugin loaded; its methods
// fail the test on any error.
type host struct {
	t testing.TB
	*fbhost.Host
}

func startHost(t testing.TB, env ...string) *host {
	t.Helper()
	root, err := fbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	so, bin, err := fbhost.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := fbhost.Start(fbhost.Options{Plugin: so, Binary: bin, Dir: t.TempDir(), Env: env, Timeout: hostTimeout})
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, Host: fh}
	t.Cleanup(h.close)
	return h
}

// log returns the plugin's output so far.
func (h *host) log() string { return h.Log() }

// do sends one command and returns its results.
func (h *host) do(format string, args ...any) []result {
	h.t.Helper()
	res, err := h.Do(fmt.Sprintf(format, args...))
	if err != nil {
		h.t.Fatalf("%v\nplugin log:\n%s", err, h.Log())
	}
	return res
}

// one runs a command that answers exactly one result and returns its name
// (FLB_OK, FLB_ERROR, FLB_RETRY).
func (h *host) one(format string, args ...any) string {
	h.t.Helper()
	r, _, err := h.One(fmt.Sprintf(format, args...))
	if err != nil {
		h.t.Fatalf("%v\nplugin log:\n%s", err, h.Log())
	}
	return r.Name
}

// configure sets the properties of instance inst (in the given order).
func (h *host) configure(inst string, props ...string) {
	h.t.Helper()
	if err := h.Configure(inst, props...); err != nil {
		h.t.Fatalf("%v\nplugin log:\n%s", err, h.Log())
	}
}

// init configures instance inst and runs FLBPluginInit, which must
// answer FLB_OK.
func (h *host) init(inst string, props ...string) {
	h.t.Helper()
	if err := h.Init(inst, props...); err != nil {
		h.t.Fatalf("%v\nplugin log:\n%s", err, h.Log())
	}
}

// close quits the host and checks it exits 0 (dlclose included).
func (h *host) close() {
	if err := h.Close(); err != nil {
		h.t.Errorf("%v\nplugin log:\n%s", err, h.Log())
	}
}

// file writes data to a new file in the host's directory.
func (h *host) file(data []byte) string {
	h.t.Helper()
	p, err := h.File(data)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// records writes recs in the host's record format and returns the path.
func (h *host) records(recs []rec) string {
	h.t.Helper()
	p, err := h.Records(recs)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}
