// Package buildinfo says which build of courier-traffic is running: the
// package version (set at link time by `make package`), the module version,
// the commit and its time, and the Go toolchain. The CLI prints it
// (`courier-traffic version`) and the plugin logs it at start, so a bug
// report names the exact build on both sides.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the package version (Debian-style, "0.1.0-1"), set with
//
//	-ldflags "-X github.com/courier-traffic/courier-traffic/buildinfo.Version=0.1.0-1"
//
// by `make package` (packaging/build.sh). A plain `go build` leaves "dev".
var Version = "dev"

// Date is the build date (RFC 3339), set with -X like Version. When empty,
// the commit time from the Go build information stands in: packages are
// built with it (SOURCE_DATE_EPOCH), which keeps them reproducible.
var Date = ""

// Info is what is known about the running build. Fields the toolchain did
// not record are "" (a build outside a git checkout has no commit).
type Info struct {
	Version       string // package version (Version)
	Module        string // main module path
	ModuleVersion string // main module version as the go command stamped it ("(devel)" in a checkout)
	Commit        string // vcs.revision
	Modified      bool   // vcs.modified: the work tree had uncommitted changes
	Date          string // Date, else vcs.time
	GoVersion     string // runtime.Version()
	Platform      string // GOOS/GOARCH
}

// Read returns the running build's Info.
func Read() Info {
	in := Info{Version: Version, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return in
	}
	in.Module, in.ModuleVersion = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		case "vcs.time":
			if in.Date == "" {
				in.Date = s.Value
			}
		}
	}
	return in
}

// orUnknown returns s, or "unknown" for "".
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// commit returns the commit with "+modified" for a dirty work tree.
func (in Info) commit() string {
	c := orUnknown(in.Commit)
	if in.Commit != "" && in.Modified {
		c += "+modified"
	}
	return c
}

// String is the one-line form the plugin logs:
// "courier-traffic 0.1.0-1 (commit 413627e..., 2026-12-05T03:49:00Z, go1.26.8 linux/amd64)".
func (in Info) String() string {
	return fmt.Sprintf("courier-traffic %s (commit %s, %s, %s %s)",
		in.Version, in.commit(), orUnknown(in.Date), in.GoVersion, in.Platform)
}

// Long is the multi-line form `courier-traffic version` prints.
func (in Info) Long() string {
	var b strings.Builder
	fmt.Fprintf(&b, "courier-traffic %s\n", in.Version)
	fmt.Fprintf(&b, "module:  %s %s\n", orUnknown(in.Module), orUnknown(in.ModuleVersion))
	fmt.Fprintf(&b, "commit:  %s\n", in.commit())
	fmt.Fprintf(&b, "date:    %s\n", orUnknown(in.Date))
	fmt.Fprintf(&b, "go:      %s %s\n", in.GoVersion, in.Platform)
	return b.String()
}
