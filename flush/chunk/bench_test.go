package chunk

import "testing"

// benchRecords is the size of a large chunk Fluent Bit hands over under
// load (seen with Fluent Bit 4.2.8: ~2 MB, ~20,700 records).
const benchRecords = 20000

// BenchmarkDecode: our decoder walking a ~2 MB chunk and looking up the keys
// the plugin looks up per record. Compare with BenchmarkFluentBitGoDecoder.
func BenchmarkDecode(b *testing.B) {
	data := bigChunk(benchRecords)
	keys := []string{"log", "ident", "SYSLOG_IDENTIFIER", "host", "_HOSTNAME", "message", "MESSAGE", "_SOURCE_REALTIME_TIMESTAMP"}
	vals := make([]Value, len(keys))
	d := NewDecoder(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		d.Reset(data)
		for d.Next() {
			d.Event().Record.Lookup(keys, vals)
			n += len(vals[0].Bytes)
		}
		if d.Err() != nil {
			b.Fatal(d.Err())
		}
	}
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n == 0 {
		b.Fatal("no log values found")
	}
}
