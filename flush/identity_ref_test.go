package flush

import (
	"encoding/binary"
	"math/bits"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// identityRef is the original Identity, kept as the reference the faster
// one must equal bit for bit (point times derive from it): it materialises
// the hash input with appends and hashes it with murmur3x64Ref. Its time is
// truncated to the second (or a coarser precision) since repeats are
// chains (RepeatSet); before, to the precision, which for second-precision
// lines is the same.
func identityRef(ev *parser.Event) ID {
	sec, nsec := truncTime(ev.Time, max(ev.Precision, time.Second))
	return hashRef(ev, identityVersion, sec, nsec)
}

// keyRef is Key's reference: the same input with keyVersion and time zero.
func keyRef(ev *parser.Event) ID { return hashRef(ev, keyVersion, 0, 0) }

func hashRef(ev *parser.Event, version byte, sec, nsec int64) ID {
	var arr [256]byte
	b := arr[:0]
	b = append(b, version, byte(ev.Service), byte(ev.Kind), ev.Has)
	if ev.TLS {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(sec))
	b = binary.LittleEndian.AppendUint32(b, uint32(nsec))
	for _, n := range [...]int64{ev.Rcvd, ev.Sent, ev.Headers, ev.Body, ev.Top, ev.Retr, ev.Duration} {
		b = binary.LittleEndian.AppendUint64(b, uint64(n))
	}
	for _, s := range [...]string{ev.Host, ev.Daemon, ev.Keyword, ev.User, ev.IP, ev.Port} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	h1, h2 := murmur3x64Ref(b)
	return ID{Hi: h1, Lo: h2}
}

// murmur3x64Ref is the original murmur3x64, byte loop tail and all.
func murmur3x64Ref(data []byte) (h1, h2 uint64) {
	const (
		c1 = 0x87c37b91114253d5
		c2 = 0x4cf5ad432745937f
	)
	n := len(data)
	for len(data) >= 16 {
		k1 := binary.LittleEndian.Uint64(data)
		k2 := binary.LittleEndian.Uint64(data[8:])
		data = data[16:]

		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft64(h1, 27)
		h1 += h2
		h1 = h1*5 + 0x52dce729

		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft64(h2, 31)
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}
	var k1, k2 uint64
	switch len(data) {
	case 15:
		k2 ^= uint64(data[14]) << 48
		fallthrough
	case 14:
		k2 ^= uint64(data[13]) << 40
		fallthrough
	case 13:
		k2 ^= uint64(data[12]) << 32
		fallthrough
	case 12:
		k2 ^= uint64(data[11]) << 24
		fallthrough
	case 11:
		k2 ^= uint64(data[10]) << 16
		fallthrough
	case 10:
		k2 ^= uint64(data[9]) << 8
		fallthrough
	case 9:
		k2 ^= uint64(data[8])
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		fallthrough
	case 8:
		k1 ^= uint64(data[7]) << 56
		fallthrough
	case 7:
		k1 ^= uint64(data[6]) << 48
		fallthrough
	case 6:
		k1 ^= uint64(data[5]) << 40
		fallthrough
	case 5:
		k1 ^= uint64(data[4]) << 32
		fallthrough
	case 4:
		k1 ^= uint64(data[3]) << 24
		fallthrough
	case 3:
		k1 ^= uint64(data[2]) << 16
		fallthrough
	case 2:
		k1 ^= uint64(data[1]) << 8
		fallthrough
	case 1:
		k1 ^= uint64(data[0])
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}
