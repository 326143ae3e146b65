//go:build integration

package integration

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileWatch asks the kernel (fanotify) which processes open or execute some
// files: whoever starts them, slurmd included, however briefly they run.
// The kernel queues the events until they are read.
type fileWatch struct{ fd int }

// eventSize is the size of the fixed part of a fanotify event.
const eventSize = int(unsafe.Sizeof(unix.FanotifyEventMetadata{}))

// fileEvent is one open or exec of a watched file.
type fileEvent struct {
	Path string
	PID  int
}

// watchFiles watches paths (each file's inode: a file renamed over the
// path later is not watched) for the events of mask, such as
// unix.FAN_OPEN_EXEC. Needs root.
func watchFiles(mask uint64, paths ...string) (*fileWatch, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_LARGEFILE)
	if err != nil {
		return nil, fmt.Errorf("fanotify_init: %w", err)
	}
	for _, p := range paths {
		if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, mask, unix.AT_FDCWD, p); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("fanotify_mark %s: %w", p, err)
		}
	}
	return &fileWatch{fd}, nil
}

func (w *fileWatch) close() { unix.Close(w.fd) }

// events returns the events queued since the last call, without waiting.
func (w *fileWatch) events() ([]fileEvent, error) {
	var out []fileEvent
	buf := make([]byte, 64*1024)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read fanotify events: %w", err)
		}
		for off := 0; off+eventSize <= n; {
			m := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
			if int(m.Event_len) < eventSize {
				return out, fmt.Errorf("fanotify event of %d bytes", m.Event_len)
			}
			if m.Fd >= 0 {
				path, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(m.Fd)))
				unix.Close(int(m.Fd))
				out = append(out, fileEvent{Path: path, PID: int(m.Pid)})
			}
			off += int(m.Event_len)
		}
	}
}
