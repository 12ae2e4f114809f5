package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
)

// command is one command line of the CLI as the man page and the shell
// completion describe it. Its flag set is the one the command parses, built
// by the same constructor, so documentation and behaviour cannot drift.
type command struct {
	name  string // "report", "influxql install"
	flags func(e env) *flag.FlagSet
}

// commands lists every command with flags, in the order of the usage text.
// TestCommandsCoverUsage checks that every command the usage names is here.
var commands = []command{
	{"report", func(e env) *flag.FlagSet { fs, _ := newReportFlags(e); return fs }},
	{"backfill", func(e env) *flag.FlagSet { fs, _ := newBackfillFlags(e); return fs }},
	{"influxql install", func(e env) *flag.FlagSet { fs, _ := newInfluxQLFlags(e, "install"); return fs }},
	{"influxql print", func(e env) *flag.FlagSet { fs, _ := newInfluxQLFlags(e, "print"); return fs }},
	{"influxql uninstall", func(e env) *flag.FlagSet { fs, _ := newInfluxQLFlags(e, "uninstall"); return fs }},
}

// flagSet builds c's flag set with its output discarded.
func (c command) flagSet() *flag.FlagSet {
	return c.flags(env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
}

// header returns what c's -h prints before its flags: the usage lines and
// the description (fs.Usage up to "Flags:").
func (c command) header() string {
	fs := c.flagSet()
	var b bytes.Buffer
	fs.SetOutput(&b)
	fs.Usage()
	h, _, _ := strings.Cut(b.String(), "\nFlags:\n")
	return strings.TrimRight(h, "\n")
}

// flagInfo is one flag as documented: name, the value's placeholder
// ("" for a boolean), usage and default ("" when it is the zero value).
type flagInfo struct {
	name, arg, usage, def string
}

// describeFlags lists fs's flags in lexical order, as fs.PrintDefaults does.
func describeFlags(fs *flag.FlagSet) []flagInfo {
	var out []flagInfo
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		fi := flagInfo{name: f.Name, arg: arg, usage: usage}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			fi.arg = ""
		}
		switch f.DefValue {
		case "", "0", "false", "[]":
		default:
			fi.def = f.DefValue
		}
		out = append(out, fi)
	})
	return out
}
