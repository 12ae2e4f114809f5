package report

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// DecodeJournalExport decodes `journalctl -o export` output (the journal
// export format: entries of "NAME=value\n" text fields, or "NAME\n", a
// 64-bit little-endian length, the value and "\n" for a value that is not
// printable UTF-8 or holds a newline; an empty line ends an entry),
// calling fn for every entry that has a MESSAGE and a timestamp (the
// first value of a field given twice). It streams with a fixed buffer;
// only the kept fields are copied. An entry that is not well-formed, or
// lacks MESSAGE or both timestamps, counts as garbled; after a framing
// error (a field name that is not one, a binary length over 16 MiB, a
// binary value not followed by a newline) the decoder skips to the next
// empty line and decodes from there. It stops at the first error of r or
// fn and returns it (io.EOF is not an error: an entry cut by the end of
// the stream is decoded as if it ended there). The record's strings
// alias reused buffers: they are valid only during the call.
func DecodeJournalExport(r io.Reader, fn func(*JournalRecord) error) (JournalStats, error) {
	d := exportDecoder{br: bufio.NewReaderSize(r, 256<<10)}
	err := d.run(fn)
	return d.st, err
}

type exportDecoder struct {
	br *bufio.Reader
	st JournalStats
	journalFields
	fields int  // fields of the current entry
	broken bool // the current entry is garbled: skip to its end
	long   []byte
	lenBuf [8]byte
	rec    JournalRecord
}

// line reads one line, newline included, of up to maxJournalLine bytes;
// a longer line is returned cut, with tooLong set (the rest is consumed).
func (d *exportDecoder) line() (b []byte, tooLong bool, err error) {
	b, err = d.br.ReadSlice('\n')
	d.st.Bytes += int64(len(b))
	if !errors.Is(err, bufio.ErrBufferFull) {
		return b, false, err
	}
	d.long = append(d.long[:0], b...)
	for errors.Is(err, bufio.ErrBufferFull) {
		b, err = d.br.ReadSlice('\n')
		d.st.Bytes += int64(len(b))
		if len(d.long)+len(b) > maxJournalLine {
			tooLong = true
			continue
		}
		d.long = append(d.long, b...)
	}
	b = d.long
	if cap(d.long) > 1<<20 {
		d.long = nil // do not keep an exceptional line's buffer
	}
	return b, tooLong, err
}

func (d *exportDecoder) run(fn func(*JournalRecord) error) error {
	for {
		b, tooLong, err := d.line()
		if len(b) > 0 {
			if ferr := d.handle(b, tooLong, fn); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			if err == io.EOF {
				return d.end(fn)
			}
			return err
		}
	}
}

// handle takes one line of the stream.
func (d *exportDecoder) handle(b []byte, tooLong bool, fn func(*JournalRecord) error) error {
	if len(b) == 1 && b[0] == '\n' {
		return d.end(fn)
	}
	if d.broken {
		return nil
	}
	d.fields++
	if tooLong {
		d.broken = true
		return nil
	}
	if b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	} // else the stream's last line, cut by its end

	name := b
	eq := -1
	for i, c := range b {
		if c == '=' {
			eq = i
			break
		}
	}
	if eq >= 0 {
		name = b[:eq]
	}
	if !validFieldName(name) {
		d.broken = true
		return nil
	}
	k := fieldIndex(name)
	if eq >= 0 {
		if k >= 0 && !d.have[k] {
			d.val[k] = append(d.val[k][:0], b[eq+1:]...)
			d.have[k] = true
		}
		return nil
	}
	// The binary form: the name was the whole line.
	got, err := io.ReadFull(d.br, d.lenBuf[:])
	d.st.Bytes += int64(got)
	if err != nil {
		d.broken = true
		return nil
	}
	n := binary.LittleEndian.Uint64(d.lenBuf[:])
	if n > maxJournalLine {
		d.broken = true
		return nil
	}
	keep := k >= 0 && !d.have[k]
	if keep {
		d.val[k] = grow(d.val[k][:0], int(n))
		got, err = io.ReadFull(d.br, d.val[k])
	} else {
		got, err = d.br.Discard(int(n))
	}
	d.st.Bytes += int64(got)
	if err != nil {
		d.broken = true
		return nil
	}
	nl, err := d.br.ReadByte()
	if err != nil || nl != '\n' {
		if err == nil {
			d.st.Bytes++
		}
		d.broken = true
		return nil
	}
	d.st.Bytes++
	if keep {
		d.have[k] = true
	}
	return nil
}

// grow returns b resized to n bytes (contents undefined).
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// validFieldName: journal field names are upper-case letters, digits and
// underscores (the trusted ones start with "_", the journal's own "__").
func validFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// end finishes the current entry: a record, a garbled entry, or nothing
// for an empty one (several empty lines in a row).
func (d *exportDecoder) end(fn func(*JournalRecord) error) error {
	defer func() {
		d.have = [nFields]bool{}
		d.fields, d.broken = 0, false
	}()
	if d.fields == 0 && !d.broken {
		return nil
	}
	if d.broken || !d.record(&d.rec) {
		d.st.Garbled++
		return nil
	}
	d.st.Records++
	return fn(&d.rec)
}
