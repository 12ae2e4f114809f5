package main

import "C"

import (
	"unsafe"

	"github.com/courier-traffic/courier-traffic/flush"

	"github.com/fluent/fluent-bit-go/output"
)

// The exported functions only adapt: every decision lives in instance.go
// and records.go (pure Go, tested without cgo).

// Compile-time check that our codes are Fluent Bit's.
var _ = [1]struct{}{}[output.FLB_ERROR-codeError]
var _ = [1]struct{}{}[output.FLB_OK-codeOK]
var _ = [1]struct{}{}[output.FLB_RETRY-codeRetry]

// propGetter reads Fluent Bit properties (case-insensitive; missing and
// empty both read ""). Valid only during FLBPluginInit: the plugin struct is
// re-pointed at the next instance afterwards.
type propGetter struct{ plugin unsafe.Pointer }

func (g propGetter) Get(key string) string { return output.FLBPluginConfigKey(g.plugin, key) }

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (code int) {
	// A failed registration answers -1 (the plugin is then unknown to
	// Fluent Bit); 0 is success. FLB_ERROR (0) would mean success here.
	defer recovered("FLBPluginRegister", &code, -1)
	if def == nil {
		return -1
	}
	return output.FLBPluginRegister(def, pluginName,
		"Courier IMAP/POP3 traffic per user to InfluxDB")
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (code int) {
	defer recovered("FLBPluginInit", &code, output.FLB_ERROR)
	in, err := newInstance(propGetter{plugin})
	if err != nil {
		return output.FLB_ERROR
	}
	output.FLBPluginSetContext(plugin, in)
	return output.FLB_OK
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (code int) {
	defer recovered("FLBPluginFlushCtx", &code, output.FLB_ERROR)
	defer enterFlush()() // one Go P until two flushes overlap (procs.go)
	in, ok := output.FLBPluginGetContext(ctx).(*instance)
	if !ok {
		logf(pluginName, flush.LevelError, "flush with an unknown context: chunk dropped")
		return output.FLB_ERROR
	}
	if length < 0 || (data == nil && length > 0) {
		in.log(flush.LevelError, "flush with an invalid chunk pointer or length: chunk dropped")
		return output.FLB_ERROR
	}
	var buf []byte
	if length > 0 {
		// No copy: Fluent Bit keeps the chunk alive until we return, and
		// nothing below keeps a view after that (see records.go).
		buf = unsafe.Slice((*byte)(data), int(length))
	}
	return in.flushChunk(buf)
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (code int) {
	defer recovered("FLBPluginExitCtx", &code, output.FLB_ERROR)
	// Fluent Bit also calls this for instances whose init never ran or
	// failed: the context is then unknown (nil). Nothing to close.
	if in, ok := output.FLBPluginGetContext(ctx).(*instance); ok {
		in.close()
		stopCPUProfile() // once the last instance is closed (profile.go)
	}
	return output.FLB_OK
}

//export FLBPluginExit
func FLBPluginExit() (code int) {
	defer recovered("FLBPluginExit", &code, output.FLB_ERROR)
	closeAll()
	stopCPUProfile()
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	var code int
	defer recovered("FLBPluginUnregister", &code, 0)
	if def != nil {
		output.FLBPluginUnregister(def)
	}
}

func main() {}
