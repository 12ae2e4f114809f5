//go:build !linux

package report

import (
	"errors"
	"os"
)

// canMap says whether mapFile works here (else ReadInput reads files).
const canMap = false

func mapFile(f *os.File, off int64, n int) (mem, data []byte, err error) {
	return nil, nil, errors.ErrUnsupported
}

func unmapFile(mem []byte) error { return errors.ErrUnsupported }
