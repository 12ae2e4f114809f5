package fbconf

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	beginRe = regexp.MustCompile(`^\s*# --- BEGIN alternative: ([a-z]+) ---\s*$`)
	endRe   = regexp.MustCompile(`^\s*# --- END alternative ---\s*$`)
)

// Alternatives returns the names of the commented alternative blocks in
// src, in order.
func Alternatives(src string) []string {
	var names []string
	for _, l := range strings.Split(src, "\n") {
		if m := beginRe.FindStringSubmatch(l); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

// Enable returns src with the alternative block name switched on. It fails
// when there is no such block, or when a line inside it is not commented
// (the file no longer reads as its comments say).
func Enable(src, name string) (string, error) {
	lines := strings.Split(src, "\n")
	in, found := false, false
	for i, l := range lines {
		if m := beginRe.FindStringSubmatch(l); m != nil {
			in = m[1] == name
			found = found || in
			continue
		}
		if endRe.MatchString(l) {
			in = false
			continue
		}
		if in {
			j := strings.IndexByte(l, '#')
			if j < 0 || strings.TrimSpace(l[:j]) != "" {
				return "", fmt.Errorf("alternative %q: line %d is not commented: %q", name, i+1, l)
			}
			lines[i] = l[:j] + l[j+1:]
		}
	}
	if !found {
		return "", fmt.Errorf("alternative %q not found", name)
	}
	return strings.Join(lines, "\n"), nil
}
