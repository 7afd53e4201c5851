package bootenv

import (
	"fmt"
	"os"
	"path"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux console ioctls (linux/kd.h).
const (
	kdFontOp      = 0x4B72 // KDFONTOP
	kdFontOpSet   = 0      // KD_FONT_OP_SET
	pioUnimapClr  = 0x4B68 // PIO_UNIMAPCLR
	pioUnimap     = 0x4B67 // PIO_UNIMAP
	unimapEntries = 4096   // per PIO_UNIMAP call, well under the kernel's limit
)

// consoleFontOp is struct console_font_op.
type consoleFontOp struct {
	op, flags, width, height, charcount uint32
	_                                   uint32
	data                                *byte
}

type unimapInit struct{ hashsize, hashstep, hashlevel uint16 }

type unipair struct{ unicode, fontpos uint16 }

type unimapDesc struct {
	count   uint16
	_       [3]uint16
	entries *unipair
}

// loadFont loads the first font that parses into the screen's console, with its Unicode
// map, so that Cyrillic menu text is drawn. A console without a font (no screen, or a
// serial-only machine) is fine: the serial console shows UTF-8 itself.
func loadFont(log *consoleLog, tty *os.File, fonts []string) {
	if tty == nil {
		return
	}
	for _, p := range fonts {
		b, err := os.ReadFile(p)
		if err != nil {
			log.printf("font %s: %v", p, err)
			continue
		}
		f, err := ParseFont(b)
		if err != nil {
			log.printf("font %s: %v", p, err)
			continue
		}
		if err := setFont(int(tty.Fd()), f); err != nil {
			log.printf("console font %s: %v", path.Base(p), err)
			return
		}
		log.printf("console font %s loaded (%d glyphs, %d Unicode mappings, Cyrillic: %v)", path.Base(p), len(f.Glyphs), len(f.Map), f.Covers("Русский"))
		return
	}
}

func setFont(fd int, f *Font) error {
	data := f.kernelData()
	op := consoleFontOp{op: kdFontOpSet, width: uint32(f.Width), height: uint32(f.Height), charcount: uint32(len(f.Glyphs)), data: &data[0]}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kdFontOp, uintptr(unsafe.Pointer(&op))); e != 0 {
		return fmt.Errorf("KDFONTOP: %w", e)
	}
	runtime.KeepAlive(data)
	if len(f.Map) == 0 {
		return nil
	}
	ui := unimapInit{}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), pioUnimapClr, uintptr(unsafe.Pointer(&ui))); e != 0 {
		return fmt.Errorf("PIO_UNIMAPCLR: %w", e)
	}
	pairs := make([]unipair, 0, len(f.Map))
	for _, m := range f.Map {
		if m.Rune <= 0xffff {
			pairs = append(pairs, unipair{unicode: uint16(m.Rune), fontpos: uint16(m.Glyph)})
		}
	}
	for len(pairs) > 0 {
		n := min(len(pairs), unimapEntries)
		d := unimapDesc{count: uint16(n), entries: &pairs[0]}
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), pioUnimap, uintptr(unsafe.Pointer(&d))); e != 0 {
			return fmt.Errorf("PIO_UNIMAP: %w", e)
		}
		runtime.KeepAlive(pairs)
		pairs = pairs[n:]
	}
	return nil
}
