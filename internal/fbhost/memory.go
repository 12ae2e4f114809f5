package fbhost

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory in bytes, from /proc/PID/status:
// HWM is VmHWM, the peak ("high water mark"), RSS is VmRSS, the current
// size.
type Memory struct{ HWM, RSS int64 }

// ProcMemory reads pid's Memory from /proc/PID/status (Linux only).
func ProcMemory(pid int) (Memory, error) {
	name := "/proc/" + strconv.Itoa(pid) + "/status"
	b, err := os.ReadFile(name)
	if err != nil {
		return Memory{}, fmt.Errorf("fbhost: reading the host's memory: %w", err)
	}
	return parseStatus(name, string(b))
}

// parseStatus reads VmHWM and VmRSS ("VmRSS:	   1234 kB") of a status
// file; both must be there and non-zero.
func parseStatus(name, status string) (Memory, error) {
	var m Memory
	for _, l := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmHWM":
			dst = &m.HWM
		case "VmRSS":
			dst = &m.RSS
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("fbhost: %s %s %q: %w", name, k, v, err)
		}
		if kb < 0 || kb > 1<<50 {
			return Memory{}, fmt.Errorf("fbhost: %s %s %q: out of range", name, k, v)
		}
		*dst = kb << 10
	}
	if m.HWM == 0 || m.RSS == 0 {
		return Memory{}, fmt.Errorf("fbhost: %s has no VmHWM/VmRSS", name)
	}
	return m, nil
}
