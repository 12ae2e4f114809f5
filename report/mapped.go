package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// The mapped path of Read's pipeline (ReadInput of a plain regular file):
// the reader maps the file block by block instead of reading it, so that a
// block is a view of the page cache: no read(2) copy into the process, no
// copy at all. The blocks are the ones produceRead cuts from the same bytes
// (whole lines, a long line alone and cut at maxLine), so the workers and
// the consumer see no difference. At most inflight blocks are mapped at a
// time (the memory stays flat): a block's mapping is removed when the
// reader reuses the block or when Read ends, by then nothing refers to it
// (records point to interned copies of the user names, the dedup-off
// previous line is a copy, and the parser keeps no view of a line).
//
// Only the size seen by Open is mapped: a log that grows meanwhile is read
// up to that size (its last line possibly cut, as a read at that moment
// would see it), and nothing past it is ever touched. A file that shrinks
// while mapped (truncated, copytruncate of logrotate) turns the pages past
// its new end into SIGBUS. The goroutines that touch mapped bytes, the
// reader and the workers (the consumer reads records only), run with
// debug.SetPanicOnFault and recover such a fault into errShrank, after
// checking that the file did shrink (any other fault is a bug and panics
// on). Read then stops accounting at the block that faulted and returns
// the error, as for a failed read. If a mapping fails (mmap(2) errors), the
// rest of the file, from a line start, is read instead.

// errShrank is the error of a mapped file that shrank while being read.
var errShrank = errors.New("file shrank while being read (truncated?)")

// mappedFile is a plain regular file read through mapFile.
type mappedFile struct {
	in   *Input
	size int64                                                            // at Open: never map past it
	mmap func(f *os.File, off int64, n int) (mem, data []byte, err error) // mapFile; tests make it fail
}

// mappable returns in as a mappedFile, or nil when it is read instead:
// stdin, pipes, gzip, empty files, systems without mapFile.
func mappable(in *Input) *mappedFile {
	if !canMap || !in.plain || in.f == nil {
		return nil
	}
	return &mappedFile{in: in, size: in.Size, mmap: mapFile}
}

// counted passes the raw bytes up to off to Open's count callback, once.
func (m *mappedFile) counted(off int64) {
	if in := m.in; in.count != nil && off > in.counted {
		in.addCount(int(off - in.counted))
	}
}

// reader returns the rest of the file from off (a line start) for the read
// path, when mapping failed.
func (m *mappedFile) reader(off int64) io.Reader {
	var r io.Reader = io.NewSectionReader(m.in.f, off, m.size-off)
	if m.in.count != nil {
		r = countingReader{r, m.in.addCount}
	}
	return r
}

// mapBlock maps n bytes at off as b's storage and data (b holds no
// mapping).
func (m *mappedFile) mapBlock(b *block, off int64, n int) error {
	mem, data, err := m.mmap(m.in.f, off, n)
	if err != nil {
		return err
	}
	b.mem, b.data = mem, data[:n]
	return nil
}

// unmap removes b's mapping, if any.
func (b *block) unmap() {
	if b.mem != nil {
		unmapFile(b.mem) // fails only for a bad mapping: nothing to do then
		b.mem = nil
	}
}

// catch, deferred by a goroutine that touches mapped bytes, recovers a
// fault of a shrunk file into *err. Any other panic goes on.
func (m *mappedFile) catch(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		if st, serr := m.in.f.Stat(); serr == nil && st.Size() < m.size {
			*err = fmt.Errorf("%w: %d bytes at open, %d now", errShrank, m.size, st.Size())
			return
		}
	}
	panic(r)
}

// produceMapped is produce for a mapped file. It reports false when a
// mapping failed: s.r then reads the rest of the file from a line start,
// nothing of which was handed on yet.
func (s *stream) produceMapped() bool {
	m := s.mf
	for off := int64(0); off < m.size; {
		b := s.a.getBlock()
		s.cur = b // for produce: put back if a fault ends the reader
		b.unmap()
		n := min(int64(s.a.blockSize), m.size-off)
		if err := m.mapBlock(b, off, int(n)); err != nil {
			return s.fallBack(b, off)
		}
		next := off + n
		if next < m.size {
			if i := bytes.LastIndexByte(b.data, '\n'); i >= 0 {
				b.data, next = b.data[:i+1], off+int64(i)+1
			} else if next = s.longMapped(b, off); next < 0 {
				return s.fallBack(b, off)
			}
		}
		s.emit(b, b.data)
		s.cur = nil
		m.counted(next)
		off = next
	}
	return true
}

// longMapped is long for a mapped file: the line at off fills b's whole
// block; it maps the line's first maxLine bytes (with the newline if it is
// within them) as b's data and returns the offset after the line (after
// its newline, or the file's size): -1 when a mapping failed.
func (s *stream) longMapped(b *block, off int64) int64 {
	m := s.mf
	b.unmap()
	n := min(maxLine, m.size-off)
	if err := m.mapBlock(b, off, int(n)); err != nil {
		return -1
	}
	if j := bytes.IndexByte(b.data, '\n'); j >= 0 {
		b.data = b.data[:j+1]
		return off + int64(j) + 1
	}
	next, ok := m.lineEnd(off + n)
	if !ok {
		b.unmap()
		return -1
	}
	return next
}

// fallBack releases b and switches to reading the file from off.
func (s *stream) fallBack(b *block, off int64) bool {
	s.cur = nil
	b.unmap()
	s.a.putBlock(b)
	s.r = s.mf.reader(off)
	return false
}

// lineEnd returns the offset after the first newline at or after off (the
// file's size if there is none), mapping a block at a time; false when a
// mapping failed.
func (m *mappedFile) lineEnd(off int64) (int64, bool) {
	for off < m.size {
		n := min(maxLine, m.size-off)
		mem, data, err := m.mmap(m.in.f, off, int(n))
		if err != nil {
			return 0, false
		}
		if j := indexUnmap(mem, data[:n], '\n'); j >= 0 {
			return off + int64(j) + 1, true
		}
		off += n
	}
	return m.size, true
}

// indexUnmap is bytes.IndexByte(data, c), then unmapFile(mem), even when
// a fault (a shrunk file) ends the search.
func indexUnmap(mem, data []byte, c byte) int {
	defer unmapFile(mem)
	return bytes.IndexByte(data, c)
}

// unmapPool removes the mappings of the blocks in the pool (all of them,
// once Read's goroutines ended).
func (a *Aggregator) unmapPool() {
	for range len(a.pool) {
		b := <-a.pool
		b.unmap()
		a.pool <- b
	}
}
