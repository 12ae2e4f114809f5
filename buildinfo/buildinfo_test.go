package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestReadAndFormat(t *testing.T) {
	in := Read()
	if in.Version != Version || in.GoVersion != runtime.Version() {
		t.Fatalf("Read() = %+v; want Version %q and Go %q", in, Version, runtime.Version())
	}
	if in.Module != "" && in.Module != "github.com/courier-traffic/courier-traffic" {
		t.Errorf("module %q", in.Module)
	}
	fixed := Info{Version: "1.2.3-1", Module: "m", ModuleVersion: "(devel)", Commit: "abc", Modified: true,
		Date: "2026-07-23T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"}
	if got, want := fixed.String(), "courier-traffic 1.2.3-1 (commit abc+modified, 2026-07-23T00:00:00Z, go1.26.8 linux/arm64)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	long := fixed.Long()
	for _, want := range []string{"courier-traffic 1.2.3-1\n", "module:  m (devel)\n", "commit:  abc+modified\n", "date:    2026-07-23T00:00:00Z\n", "go:      go1.26.8 linux/arm64\n"} {
		if !strings.Contains(long, want) {
			t.Errorf("Long() lacks %q:\n%s", want, long)
		}
	}
	if got := (Info{Version: "dev", GoVersion: "go1", Platform: "p"}).String(); got != "courier-traffic dev (commit unknown, unknown, go1 p)" {
		t.Errorf("empty Info: %q", got)
	}
}
