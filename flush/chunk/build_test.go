package chunk

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// Helpers that build chunks with msgp's Append* writers, plus the header
// encodings msgp never picks by itself (array16/array32 for 2 elements, as
// Fluent Bit 4.2.8 writes them).

type arrayForm int

const (
	fixArray arrayForm = iota // 0x92
	array16                   // dc 00 02
	array32                   // dd 00 00 00 02
)

func (f arrayForm) String() string { return [...]string{"fixarray", "array16", "array32"}[f] }

func appendArray(b []byte, f arrayForm, n uint32) []byte {
	switch f {
	case array16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	case array32:
		return binary.BigEndian.AppendUint32(append(b, 0xdd), n)
	}
	return msgp.AppendArrayHeader(b, n)
}

// eventTime encodes an EventTime as fixext8 (d7 00) or, with ext8, as c7 08 00.
func eventTime(sec, nsec uint32, ext8 bool) []byte {
	var b []byte
	if ext8 {
		b = []byte{0xc7, 8, 0}
	} else {
		b = []byte{0xd7, 0}
	}
	b = binary.BigEndian.AppendUint32(b, sec)
	return binary.BigEndian.AppendUint32(b, nsec)
}

func intTime(sec int64) []byte     { return msgp.AppendInt64(nil, sec) }
func uintTime(sec uint64) []byte   { return msgp.AppendUint64(nil, sec) }
func floatTime(f float64) []byte   { return msgp.AppendFloat64(nil, f) }
func float32Time(f float32) []byte { return msgp.AppendFloat32(nil, f) }

// bin marks a record value or key to be written as msgpack bin, not str.
type bin string

// record encodes a map from alternating keys and values: string -> str,
// bin -> bin, int/int64 -> int, uint64 -> uint, float64, bool, nil,
// []byte -> raw msgpack inserted as is.
func record(kv ...any) []byte {
	if len(kv)%2 != 0 {
		panic("record: odd number of arguments")
	}
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for _, x := range kv {
		b = appendAny(b, x)
	}
	return b
}

func appendAny(b []byte, x any) []byte {
	switch v := x.(type) {
	case string:
		return msgp.AppendString(b, v)
	case bin:
		return msgp.AppendBytes(b, []byte(v))
	case int:
		return msgp.AppendInt64(b, int64(v))
	case int64:
		return msgp.AppendInt64(b, v)
	case uint64:
		return msgp.AppendUint64(b, v)
	case float64:
		return msgp.AppendFloat64(b, v)
	case bool:
		return msgp.AppendBool(b, v)
	case nil:
		return msgp.AppendNil(b)
	case []byte:
		return append(b, v...)
	}
	panic(fmt.Sprintf("appendAny: unsupported %T", x))
}

// v1 appends [ts, rec].
func v1(b []byte, f arrayForm, ts, rec []byte) []byte {
	b = appendArray(b, f, 2)
	return append(append(b, ts...), rec...)
}

// v2 appends [[ts, meta], rec].
func v2(b []byte, f arrayForm, ts, meta, rec []byte) []byte {
	b = appendArray(b, f, 2)
	b = appendArray(b, f, 2)
	b = append(b, ts...)
	b = append(b, meta...)
	return append(b, rec...)
}

// describe renders a value for comparisons: "str:abc", "bin:abc", "int:-3",
// "uint:7", "other:<hex>".
func describe(v Value) string {
	switch v.Type {
	case String, Binary:
		return v.Type.String() + ":" + string(v.Bytes)
	case Int:
		return "int:" + strconv.FormatInt(v.Int, 10)
	case Uint:
		return "uint:" + strconv.FormatUint(v.Uint, 10)
	case Other:
		return fmt.Sprintf("other:%x", v.Bytes)
	}
	return v.Type.String()
}

// courierLine returns a realistic Courier session-end line, varied by i.
func courierLine(i int) string {
	users := []string{"alice", "bob@example.org", "carol", "dave.smith", "erin"}
	return fmt.Sprintf("Jul %2d %02d:%02d:%02d mail imapd-ssl: LOGOUT, user=%s, ip=[::ffff:192.0.2.%d], port=[%d], headers=%d, body=%d, rcvd=%d, sent=%d, time=%d, starttls=1",
		1+i/86400%28, i/3600%24, i/60%60, i%60, users[i%len(users)], i%250+1, 40000+i%20000, i%5000, i*37%900000, 100+i%4000, 300+i*13%100000, i%3600)
}

// bigChunk builds n tail-style records {"log": line} in Fluent Bit 4.2.8's
// layout: array32 headers, EventTime, empty metadata.
func bigChunk(n int) []byte {
	var b []byte
	meta := msgp.AppendMapHeader(nil, 0)
	for i := 0; i < n; i++ {
		ts := eventTime(1720000000+uint32(i), uint32(i*7919%1e9), false)
		b = v2(b, array32, ts, meta, record("log", courierLine(i)))
	}
	return b
}
