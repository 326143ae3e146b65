package caller

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"
)

// fakeProc is a /proc with the given files whose getppid returns ppids in
// turn (the last one from then on).
func fakeProc(files map[string]string, ppids ...int) Proc {
	calls := 0
	return Proc{
		Getppid: func() int {
			p := ppids[min(calls, len(ppids)-1)]
			calls++
			return p
		},
		ReadFile: func(path string) ([]byte, error) {
			if s, ok := files[path]; ok {
				return []byte(s), nil
			}
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
		},
	}
}

// status is a /proc/<pid>/status as Linux 6.1 writes it, cut short.
func status(name, uids string) string {
	return "Name:\t" + name + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\nPid:\t100\nPPid:\t99\n" +
		"Uid:\t" + uids + "\nGid:\t0\t0\t0\t0\nGroups:\t\n"
}

func TestReadProcess(t *testing.T) {
	sudo := status("sudo", "2001\t0\t0\t0")
	tests := []struct {
		name  string
		uid   int
		files map[string]string
		ppids []int
		want  Process
		err   string
	}{
		{name: "sudo as alice, no login uid", files: map[string]string{"/proc/100/status": sudo, "/proc/self/loginuid": "4294967295"},
			ppids: []int{100}, want: Process{ParentPID: 100, ParentUID: 2001, ParentName: "sudo"}},
		{name: "login uid set", files: map[string]string{"/proc/100/status": sudo, "/proc/self/loginuid": "2001"},
			ppids: []int{100}, want: Process{ParentPID: 100, ParentUID: 2001, ParentName: "sudo", LoginUID: 2001, LoginUIDSet: true}},
		{name: "login uid 0", files: map[string]string{"/proc/100/status": status("bash", "0\t0\t0\t0"), "/proc/self/loginuid": "0"},
			ppids: []int{100}, want: Process{ParentPID: 100, ParentName: "bash", LoginUIDSet: true}},
		{name: "no audit support: no loginuid file", files: map[string]string{"/proc/100/status": sudo},
			ppids: []int{100}, want: Process{ParentPID: 100, ParentUID: 2001, ParentName: "sudo"}},
		{name: "malformed loginuid counts as unset", files: map[string]string{"/proc/100/status": sudo, "/proc/self/loginuid": "x"},
			ppids: []int{100}, want: Process{ParentPID: 100, ParentUID: 2001, ParentName: "sudo"}},
		{name: "not root reads nothing", uid: 2001, files: map[string]string{}, ppids: []int{100}, want: Process{UID: 2001}},

		{name: "parent exited before it was read", files: map[string]string{"/proc/1/status": status("systemd", "0\t0\t0\t0")},
			ppids: []int{100, 1}, err: ErrParentGone.Error()},
		{name: "parent exited after it was read: its pid may be another process's", files: map[string]string{"/proc/100/status": status("bash", "0\t0\t0\t0")},
			ppids: []int{100, 1}, err: ErrParentGone.Error()},
		{name: "parent unreadable", files: map[string]string{}, ppids: []int{100},
			err: "read the parent process: open /proc/100/status: no such file or directory"},
		{name: "no Uid line", files: map[string]string{"/proc/100/status": "Name:\tsudo\n"}, ppids: []int{100},
			err: "/proc/100/status: no Uid line"},
		{name: "short Uid line", files: map[string]string{"/proc/100/status": "Uid:\t2001\t0\n"}, ppids: []int{100},
			err: `/proc/100/status: Uid line "\t2001\t0": want 4 uids`},
		{name: "bad uid", files: map[string]string{"/proc/100/status": "Uid:\tx\t0\t0\t0\n"}, ppids: []int{100},
			err: `/proc/100/status: Uid line "\tx\t0\t0\t0": strconv.ParseUint: parsing "x": invalid syntax`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadProcess(tc.uid, fakeProc(tc.files, tc.ppids...))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ReadProcess = %+v\nwant          %+v", got, tc.want)
			}
		})
	}
}

func TestParentGoneIsAnIdentityRefusal(t *testing.T) {
	_, err := ReadProcess(0, fakeProc(nil, 100, 1))
	var ie *IdentityError
	if !errors.Is(err, ErrParentGone) || !errors.As(err, &ie) || ie.KernelUID != nil {
		t.Errorf("error = %#v, want an *IdentityError for ErrParentGone that names no one", err)
	}
}

// TestSystemProc reads this test's own parent: the go command or a shell,
// never this process itself.
func TestSystemProc(t *testing.T) {
	p, err := ReadProcess(0, SystemProc())
	if err != nil {
		t.Fatal(err)
	}
	if p.ParentPID <= 0 || p.ParentName == "" {
		t.Errorf("ReadProcess(SystemProc()) = %+v", p)
	}
}
