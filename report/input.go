package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"time"
)

// Input is one log source: a file (plain or gzip, detected by its magic
// bytes, not its name) or standard input ("-").
type Input struct {
	Name string    // as given on the command line; "-" is standard input
	Ref  time.Time // reference time for year-less stamps: the file's mtime (stdin: now)
	Size int64     // bytes on disk (compressed size for gzip); -1 when unknown (stdin, pipes)

	f  *os.File
	r  io.Reader // decompressed stream
	gz *gzip.Reader

	// A plain regular file (not stdin, not gzip, not empty): ReadInput maps
	// it instead of reading r (see mappedFile). count is Open's callback
	// and counted the raw bytes passed to it so far (Open's peek included).
	plain   bool
	count   func(n int)
	counted int64
}

// Open opens name for reading. Counting reads the raw (on-disk) bytes through
// count, for progress bars; it may be nil. The caller must Close the Input.
func Open(name string, stdin io.Reader, now time.Time, count func(n int)) (*Input, error) {
	in := &Input{Name: name, Ref: now, Size: -1}
	var raw io.Reader
	if name == "-" {
		raw = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s: is a directory", name)
		}
		in.f, in.Ref = f, st.ModTime()
		if st.Mode().IsRegular() {
			in.Size = st.Size()
		}
		raw = f
	}
	if count != nil {
		in.count = count
		raw = countingReader{raw, in.addCount}
	}
	// A small buffer serves the magic peek: Read's pipeline reads whole
	// blocks, which bufio passes straight to the file once the peeked
	// bytes are consumed (no second copy), and EachLine adds its own
	// buffer. gzip reads through it byte-wise, for which 64 KiB is plenty.
	br := bufio.NewReaderSize(raw, peekSize)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.gz, in.r = gz, gz
	} else {
		in.r = br
		in.plain = in.Size > 0
	}
	return in, nil
}

// addCount passes n raw bytes to Open's count callback.
func (in *Input) addCount(n int) {
	in.counted += int64(n)
	in.count(n)
}

// Lines calls EachLine over the decompressed stream; a read or decompression
// error names the input. An Input is read once: by Lines or by
// Aggregator.ReadInput.
func (in *Input) Lines(fn func(line []byte)) error {
	if err := EachLine(in.r, fn); err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	return nil
}

// Close closes the file (never standard input).
func (in *Input) Close() error {
	var err error
	if in.gz != nil {
		err = in.gz.Close()
	}
	if in.f != nil {
		if cerr := in.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

type countingReader struct {
	r     io.Reader
	count func(int)
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.count(n)
	}
	return n, err
}

// peekSize is the buffer of Open's magic-byte peek (see Open).
const peekSize = 64 << 10

// bufSize is the line reader's buffer: large enough that refills are rare
// and that every line Courier can log (courierlogger cuts at 511 bytes)
// fits many times over.
const bufSize = 1 << 20

// maxLine bounds the memory one line may take: the rest of a longer line
// (never Courier traffic) is discarded, not buffered, so memory stays flat
// on hostile input.
const maxLine = 4 << 20

// EachLine calls fn for every line of r, without its "\n" or "\r\n". The
// slice aliases the reader's buffer: it is valid only during the call, and fn
// must copy whatever it keeps. A last line without a newline is passed too.
// Lines longer than 4 MiB are cut to their first 4 MiB (no Courier line comes
// near; this keeps memory flat on hostile input). It returns the first read
// error other than io.EOF.
func EachLine(r io.Reader, fn func(line []byte)) error {
	br := bufio.NewReaderSize(r, bufSize)
	var long []byte // the head of a line longer than the buffer
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) < maxLine {
				long = append(long, line[:min(len(line), maxLine-len(long))]...)
			}
			continue
		}
		if len(long) > 0 {
			if len(long) < maxLine {
				long = append(long, line[:min(len(line), maxLine-len(long))]...)
			}
			line, long = long, long[:0]
		}
		if len(line) > 0 {
			fn(trimEOL(line))
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
