package fbhost

import (
	"fmt"
	"strconv"
	"strings"
)

// Names of FLBPluginFlushCtx's (and Init's, Exit's) return codes as the
// host prints them in Result.Name. Register answers "ok" or "failure",
// an unknown code is "other".
const (
	OK    = "FLB_OK"
	Retry = "FLB_RETRY"
	Error = "FLB_ERROR"
)

// Result is one "result ..." line of the host:
//
//	result op=OP inst=INST [thread=N] rc=RC name=NAME [more=...]
//
// Thread is 0 when the line has no thread (only parflush numbers its
// threads, from 0). Other keys (register's type, proxy, plugin) are
// ignored.
type Result struct {
	Op, Inst string
	Thread   int
	RC       int
	Name     string
}

// ParseResult parses one result line. It returns an error naming the
// field when the line does not start with "result ", a field is not
// key=value, a key repeats, thread or rc is not an integer, or op, inst,
// rc or name is missing.
func ParseResult(line string) (Result, error) {
	rest, ok := strings.CutPrefix(line, "result ")
	if !ok {
		return Result{}, fmt.Errorf("fbhost: not a result line: %q", line)
	}
	var r Result
	var seen [4]bool // op, inst, rc, name
	var thread bool
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return Result{}, fmt.Errorf("fbhost: result field %q: want key=value in %q", f, line)
		}
		var err error
		var slot *bool
		switch k {
		case "op":
			r.Op, slot = v, &seen[0]
		case "inst":
			r.Inst, slot = v, &seen[1]
		case "rc":
			r.RC, err = strconv.Atoi(v)
			slot = &seen[2]
		case "name":
			r.Name, slot = v, &seen[3]
		case "thread":
			r.Thread, err = strconv.Atoi(v)
			slot = &thread
		default:
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("fbhost: result field %s: %w in %q", k, err, line)
		}
		if *slot {
			return Result{}, fmt.Errorf("fbhost: result field %s repeats in %q", k, line)
		}
		*slot = true
	}
	for i, k := range []string{"op", "inst", "rc", "name"} {
		if !seen[i] {
			return Result{}, fmt.Errorf("fbhost: result without %s: %q", k, line)
		}
	}
	return r, nil
}
