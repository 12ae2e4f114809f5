package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	// time_zone takes IANA names; the zone database is embedded so that they
	// resolve inside Fluent Bit images without /usr/share/zoneinfo (distroless).
	_ "time/tzdata"

	"github.com/courier-traffic/courier-traffic/buildinfo"
	"github.com/courier-traffic/courier-traffic/flush"
)

// pluginName is the name users write in [OUTPUT] Name.
const pluginName = "courier_influxdb"

// Return codes, equal to fluent-bit's FLB_ERROR/FLB_OK/FLB_RETRY (checked
// against the output package in exports.go).
const (
	codeError = 0
	codeOK    = 1
	codeRetry = 2
)

// logLevelEnv sets the most verbose level the plugin logs (error, warn,
// info, debug; default info). Fluent Bit consumes an output's log_level key
// itself and gives Go plugins no access to it, hence an environment variable.
const logLevelEnv = "COURIER_TRAFFIC_LOG_LEVEL"

var (
	stderrMu  sync.Mutex
	initCount atomic.Int64 // instance numbers, in init order, like Fluent Bit's name.N
	maxLevel  = levelFromEnv()

	registryMu sync.Mutex
	registry   = map[*instance]struct{}{}
)

func levelFromEnv() flush.Level {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(logLevelEnv))) {
	case "error":
		return flush.LevelError
	case "warn", "warning":
		return flush.LevelWarn
	case "debug", "trace":
		return flush.LevelDebug
	}
	return flush.LevelInfo
}

// logf writes one line to stderr in Fluent Bit's format:
// "[2024/07/03 06:36:47] [error] [output:courier_influxdb:courier_influxdb.0] msg".
// The level is right-aligned in 5 columns as flb_log.c does ("[ warn]").
// One write per line so lines of concurrent flushes do not interleave.
func logf(name string, level flush.Level, msg string) {
	if level > maxLevel {
		return
	}
	lv := level.String()
	if len(lv) < 5 {
		lv = strings.Repeat(" ", 5-len(lv)) + lv
	}
	var b []byte
	b = append(b, '[')
	b = time.Now().AppendFormat(b, "2006/01/02 15:04:05")
	b = append(b, "] ["...)
	b = append(b, lv...)
	b = append(b, "] [output:"+pluginName+":"...)
	b = append(b, name...)
	b = append(b, "] "...)
	// A message never spans lines: Fluent Bit's log readers are line based.
	b = append(b, strings.ReplaceAll(msg, "\n", " | ")...)
	b = append(b, '\n')
	stderrMu.Lock()
	os.Stderr.Write(b)
	stderrMu.Unlock()
}

// instance is one [OUTPUT] section: its own configuration and Flusher.
// FlushCtx may run on several worker threads at once for one instance.
type instance struct {
	name string // courier_influxdb.N
	f    *flush.Flusher
	keys keyTable

	// mu: flushes hold it shared, close exclusively, so Exit waits for
	// in-flight flushes and no flush uses a closed Flusher.
	mu     sync.RWMutex
	closed bool
}

func (in *instance) log(level flush.Level, msg string) { logf(in.name, level, msg) }

// newInstance loads the configuration from src and builds the Flusher.
// Errors are logged here (naming the key, never the token) and returned.
func newInstance(src flush.Getter) (*instance, error) {
	n := initCount.Add(1) - 1
	in := &instance{name: pluginName + "." + strconv.FormatInt(n, 10)}
	cfg, err := flush.LoadConfig(src)
	if err != nil {
		in.log(flush.LevelError, "invalid configuration: "+err.Error())
		return nil, err
	}
	in.f, err = flush.New(cfg, in.log)
	if err != nil {
		in.log(flush.LevelError, "cannot start: "+err.Error())
		return nil, err
	}
	in.keys = newKeyTable(cfg)
	in.log(flush.LevelInfo, "started; configuration: "+cfg.String()+"; build: "+buildinfo.Read().String())
	registryMu.Lock()
	registry[in] = struct{}{}
	registryMu.Unlock()
	return in, nil
}

// flushChunk decodes one chunk, writes its points and returns the Fluent
// Bit code: Delivered -> FLB_OK, Retry -> FLB_RETRY, Drop -> FLB_ERROR.
//
// A corrupt chunk: the records before the corruption are written first,
// then FLB_ERROR (the rest cannot be decoded, and Fluent Bit would hand the
// same bytes again on a retry). Writing them keeps what can be kept; it is
// safe because points are idempotent. If that write needs a retry, the
// answer is FLB_RETRY: the retried chunk is decoded again, the same good
// records are rewritten onto the same points, and the corruption then
// ends in FLB_ERROR. Never FLB_OK for part of a chunk.
//
// data must stay valid until flushChunk returns (Fluent Bit's chunk does).
func (in *instance) flushChunk(data []byte) int {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if in.closed {
		in.log(flush.LevelError, "flush after exit: chunk dropped")
		return codeError
	}
	b := in.f.NewBatch()
	res := addChunk(b, &in.keys, data)
	out := in.f.Write(context.Background(), b)
	if res.groups > 0 {
		in.log(flush.LevelDebug, fmt.Sprintf("skipped %d group marker(s)", res.groups))
	}
	if res.err != nil {
		msg := fmt.Sprintf("corrupt chunk of %d bytes: %v; %d record(s) before it", len(data), res.err, res.records)
		if out == flush.Retry {
			in.log(flush.LevelError, msg+" could not be written yet: will retry")
			return codeRetry
		}
		done := "were written"
		if out == flush.Drop {
			done = "were rejected by the server"
		}
		in.log(flush.LevelError, msg+" "+done+"; the rest of the chunk is dropped")
		return codeError
	}
	switch out {
	case flush.Delivered:
		return codeOK
	case flush.Retry:
		return codeRetry
	}
	return codeError
}

// close stops the instance once; later flushes answer FLB_ERROR.
func (in *instance) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.closed = true
	in.f.Close()
	registryMu.Lock()
	delete(registry, in)
	registryMu.Unlock()
	in.log(flush.LevelInfo, "stopped")
}

// closeAll closes every instance still open (FLBPluginExit, the fallback
// Fluent Bit calls when a plugin has no FLBPluginExitCtx).
func closeAll() {
	registryMu.Lock()
	all := make([]*instance, 0, len(registry))
	for in := range registry {
		all = append(all, in)
	}
	registryMu.Unlock()
	for _, in := range all {
		in.close()
	}
}

// recovered turns a panic in an exported function into a log line (with
// the stack) and the failure code (FLB_ERROR; -1 for Register): a panic must
// never cross into Fluent Bit, which it would kill.
// Use as: defer recovered("FLBPluginX", &code, codeError).
func recovered(export string, code *int, fail int) {
	if r := recover(); r != nil {
		logf(pluginName, flush.LevelError, fmt.Sprintf("panic in %s: %v; stack: %s", export, r, debug.Stack()))
		*code = fail
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
