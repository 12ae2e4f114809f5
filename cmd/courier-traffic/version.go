package main

import (
	"fmt"

	"github.com/courier-traffic/courier-traffic/buildinfo"
)

// runVersion prints the build: package version, module version, commit,
// date and Go version (`courier-traffic version`, `--version`).
func runVersion(args []string, e env) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", args[0]))
	}
	fmt.Fprint(e.stdout, buildinfo.Read().Long())
	return nil
}
