package bootenv

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// consoles are the menu's terminals: the screen (tty1) and the first serial port.
type consoles struct {
	inputs     []io.Reader
	outputs    []io.Writer
	serial     io.Writer // log lines go here
	screenFile *os.File
}

// openConsoles opens the screen and the serial port, raw (no echo, no line editing, no
// signals: the menu reads every key itself). A console that cannot be opened is left out.
func openConsoles(log *consoleLog) *consoles {
	c := &consoles{}
	for _, p := range []string{"/dev/ttyS0", "/dev/tty1"} {
		f, err := os.OpenFile(p, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			log.printf("console %s: %v", p, err)
			continue
		}
		if err := makeRaw(int(f.Fd())); err != nil {
			// A serial port with no UART behind it: no terminal at all.
			log.printf("console %s: %v", p, err)
			f.Close()
			continue
		}
		c.inputs = append(c.inputs, f)
		c.outputs = append(c.outputs, f)
		if p == "/dev/ttyS0" {
			c.serial = f
		} else {
			c.screenFile = f
		}
	}
	if c.serial == nil {
		c.serial = os.Stderr
	}
	return c
}

// makeRaw sets the terminal as cfmakeraw(3) does, keeping the line speed.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
