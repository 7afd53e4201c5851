package wizard

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

func realDeps() deps {
	return deps{
		goos:       "windows",
		lookPath:   exec.LookPath,
		getenv:     os.Getenv,
		isTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		run: func(ctx context.Context, interactive bool, name string, args ...string) error {
			return exec.CommandContext(ctx, name, args...).Run()
		},
		start: func(name string, args ...string) error {
			c := exec.Command(name, args...)
			c.SysProcAttr = &syscall.SysProcAttr{HideWindow: true}
			if err := c.Start(); err != nil {
				return err
			}
			go c.Wait()
			return nil
		},
		shellExecute: shellExecuteWait,
	}
}

// shellExecuteInfo is SHELLEXECUTEINFOW (shellapi.h), laid out as C lays it out on
// 64-bit Windows.
type shellExecuteInfo struct {
	cbSize         uint32
	fMask          uint32
	hwnd           uintptr
	lpVerb         *uint16
	lpFile         *uint16
	lpParameters   *uint16
	lpDirectory    *uint16
	nShow          int32
	hInstApp       uintptr
	lpIDList       uintptr
	lpClass        *uint16
	hkeyClass      uintptr
	dwHotKey       uint32
	hIconOrMonitor uintptr
	hProcess       windows.Handle
}

const (
	seeMaskNoCloseProcess = 0x00000040
	seeMaskNoAsync        = 0x00000100
	swHide                = 0
)

var procShellExecuteExW = windows.NewLazySystemDLL("shell32.dll").NewProc("ShellExecuteExW")

// shellExecuteWait starts file with ShellExecuteEx and the verb ("runas": UAC asks the
// person), hidden, and waits for it to end. The person's No is ERROR_CANCELLED.
func shellExecuteWait(verb, file, params string) error {
	v, err := windows.UTF16PtrFromString(verb)
	if err != nil {
		return err
	}
	f, err := windows.UTF16PtrFromString(file)
	if err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(params)
	if err != nil {
		return err
	}
	info := shellExecuteInfo{fMask: seeMaskNoCloseProcess | seeMaskNoAsync, lpVerb: v, lpFile: f, lpParameters: p, nShow: swHide}
	info.cbSize = uint32(unsafe.Sizeof(info))
	if r, _, e := procShellExecuteExW.Call(uintptr(unsafe.Pointer(&info))); r == 0 {
		if errors.Is(e, windows.ERROR_CANCELLED) {
			return errCancelled
		}
		return e
	}
	if info.hProcess == 0 {
		return nil
	}
	defer windows.CloseHandle(info.hProcess)
	if _, err := windows.WaitForSingleObject(info.hProcess, windows.INFINITE); err != nil {
		return err
	}
	var code uint32
	if err := windows.GetExitCodeProcess(info.hProcess, &code); err == nil && code != 0 {
		return &exitCodeError{code: int(code)}
	}
	return nil
}

type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return "the relaunched travelkit exited with an error" }
