package main

import (
	"flag"
	"os"
	"strings"

	"github.com/courier-traffic/courier-traffic/flush"
)

// configFlags registers one string flag per plugin configuration key in
// keys, named like the key with "-" for "_" (influx_url: --influx-url). The
// value stays a string: flush.LoadConfig parses and validates it exactly as
// it does the plugin's, so the CLI and the plugin cannot drift apart.
type configFlags struct {
	fs       *flag.FlagSet
	values   map[string]*string
	defaults map[string]string // CLI-specific defaults for keys the user did not set
}

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

func newConfigFlags(fs *flag.FlagSet, keys []string, usage map[string]string) *configFlags {
	c := &configFlags{fs: fs, values: make(map[string]*string), defaults: make(map[string]string)}
	for _, k := range keys {
		u := usage[k]
		if u == "" {
			u = "plugin key " + k + " (same meaning and default)"
		}
		c.values[k] = fs.String(flagName(k), "", u)
	}
	return c
}

// Get implements flush.Getter over the flags: the value set on the command
// line, else the CLI's own default for the key, else "" (the plugin's
// default). The token falls back to $INFLUX_TOKEN.
func (c *configFlags) Get(key string) string {
	key = strings.ToLower(key)
	if v, ok := c.values[key]; ok && *v != "" {
		return *v
	}
	if key == flush.KeyInfluxToken && c.Get(flush.KeyInfluxTokenFile) == "" {
		if v := os.Getenv("INFLUX_TOKEN"); v != "" {
			return v
		}
	}
	return c.defaults[key]
}

// isSet reports whether the flag of key was given on the command line.
func (c *configFlags) isSet(key string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) {
		if f.Name == flagName(key) {
			set = true
		}
	})
	return set
}

// parseInterspersed parses flags that may come before, between or after the
// file arguments (`report mail.log --date today` works like the script's
// argument order would suggest); "--" ends the flags. It returns the files.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(files, rest...), nil
		}
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}
