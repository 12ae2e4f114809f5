//go:build cgo

package chunk

import (
	"testing"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

// BenchmarkFluentBitGoDecoder: fluent-bit-go's own decoder (the pinned
// a7a013e) over the same chunk as BenchmarkDecode, reading the "log" value
// of every record the way existing Go plugins do. Needs cgo because
// output.NewDecoder copies the chunk with C.GoBytes.
func BenchmarkFluentBitGoDecoder(b *testing.B) {
	data := bigChunk(benchRecords)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dec := output.NewDecoder(unsafe.Pointer(&data[0]), len(data))
		records := 0
		for {
			ret, ts, rec := output.GetRecord(dec)
			if ret != 0 {
				break
			}
			if _, ok := ts.(output.FLBTime); !ok {
				b.Fatalf("timestamp %T", ts)
			}
			if v, ok := rec["log"].([]byte); ok {
				n += len(v)
			}
			records++
		}
		if records != benchRecords {
			b.Fatalf("decoded %d records, want %d", records, benchRecords)
		}
	}
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n == 0 {
		b.Fatal("no log values found")
	}
}
