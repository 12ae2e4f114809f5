//go:build linux

package report

import (
	"os"
	"syscall"
)

// canMap says whether mapFile works here (else ReadInput reads files).
const canMap = true

var pageSize = int64(os.Getpagesize())

// mapFile maps the n bytes of f at off, which need not be page-aligned:
// data is those bytes, mem the whole mapping, for unmapFile. The mapping is
// read-only, shared (the page cache's own pages, no copy) and populated:
// the pages are mapped now, in one go, not faulted in one by one by
// whoever touches them first.
func mapFile(f *os.File, off int64, n int) (mem, data []byte, err error) {
	delta := off % pageSize
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	cerr := rc.Control(func(fd uintptr) {
		mem, err = syscall.Mmap(int(fd), off-delta, int(delta)+n,
			syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, os.NewSyscallError("mmap", err)
	}
	return mem, mem[delta:], nil
}

// unmapFile removes a mapping of mapFile.
func unmapFile(mem []byte) error {
	return os.NewSyscallError("munmap", syscall.Munmap(mem))
}
