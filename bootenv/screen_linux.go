package bootenv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path"
	"unsafe"

	"golang.org/x/sys/unix"

	"travelkit/menu"
	"travelkit/menu/graphic"
)

// Linux framebuffer and console ioctls (linux/fb.h, linux/kd.h).
const (
	fbioGetVScreenInfo = 0x4600
	fbioGetFScreenInfo = 0x4602
	kdSetMode          = 0x4B3A
	kdGraphics         = 0x01
	maxScreenFont      = 32 << 20
	maxScreenPixels    = 8192 * 8192
)

// openScreen draws the menu on the framebuffer (/dev/fb0) with the screen fonts, so that
// it can speak Arabic and Persian; the serial console keeps its text. The screen's
// console is put in graphics mode (the kernel stops drawing its text over the picture)
// and still gives the keys. Without a framebuffer (a computer started with no graphics,
// or a console that refuses graphics mode) or without fonts, nil: the text console.
func openScreen(log *consoleLog, cons *consoles, fonts []string) menu.Display {
	if cons.screenFile == nil || len(fonts) == 0 {
		return nil
	}
	var data [][]byte
	for _, p := range fonts {
		b, err := readBounded(p, maxScreenFont)
		if err != nil {
			log.printf("screen font %s: %v", path.Base(p), err)
			continue
		}
		data = append(data, b)
	}
	if len(data) == 0 {
		return nil
	}
	r, err := graphic.NewRenderer(data...)
	if err != nil {
		log.printf("screen fonts: %v", err)
		return nil
	}
	fb, err := openFramebuffer("/dev/fb0")
	if err != nil {
		log.printf("framebuffer: %v (the menu stays on the text console)", err)
		return nil
	}
	if err := unix.IoctlSetInt(int(cons.screenFile.Fd()), kdSetMode, kdGraphics); err != nil {
		log.printf("framebuffer: console graphics mode: %v (the menu stays on the text console)", err)
		fb.f.Close()
		return nil
	}
	var others []io.Writer
	for _, w := range cons.outputs {
		if w != io.Writer(cons.screenFile) {
			others = append(others, w)
		}
	}
	log.printf("screen: framebuffer %dx%d, %d bits a pixel; the menu draws there (Arabic and Persian: %v)", fb.w, fb.h, fb.bpp, r.DrawsArabic())
	return graphic.NewDisplay(r, fb, menu.NewTextDisplay(others...))
}

func readBounded(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b, nil
}

// framebuffer is /dev/fb0, written with pwrite (no mmap: a frame is written whole).
type framebuffer struct {
	f          *os.File
	w, h       int
	bpp        int // bits a pixel: 16, 24 or 32
	lineLength int // bytes a row
	offset     int64
	// each colour's bit offset and length in a pixel
	rOff, rLen, gOff, gLen, bOff, bLen uint32
	buf                                []byte
}

func openFramebuffer(p string) (*framebuffer, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	var v [40]uint32 // struct fb_var_screeninfo
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fbioGetVScreenInfo, uintptr(unsafe.Pointer(&v[0]))); e != 0 {
		f.Close()
		return nil, fmt.Errorf("FBIOGET_VSCREENINFO: %w", e)
	}
	var fix [80]byte // struct fb_fix_screeninfo (64-bit layout)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fbioGetFScreenInfo, uintptr(unsafe.Pointer(&fix[0]))); e != 0 {
		f.Close()
		return nil, fmt.Errorf("FBIOGET_FSCREENINFO: %w", e)
	}
	fb := &framebuffer{f: f, w: int(v[0]), h: int(v[1]), bpp: int(v[6]),
		rOff: v[8], rLen: v[9], gOff: v[11], gLen: v[12], bOff: v[14], bLen: v[15],
		lineLength: int(binary.LittleEndian.Uint32(fix[48:]))}
	fb.offset = int64(v[5])*int64(fb.lineLength) + int64(v[4])*int64(fb.bpp/8)
	if err := fb.check(); err != nil {
		f.Close()
		return nil, err
	}
	fb.buf = make([]byte, fb.lineLength*fb.h)
	return fb, nil
}

func (fb *framebuffer) check() error {
	switch {
	case fb.w <= 0 || fb.h <= 0 || fb.w*fb.h > maxScreenPixels:
		return fmt.Errorf("odd size %dx%d", fb.w, fb.h)
	case fb.bpp != 16 && fb.bpp != 24 && fb.bpp != 32:
		return fmt.Errorf("%d bits a pixel: not drawn", fb.bpp)
	case fb.lineLength < fb.w*fb.bpp/8:
		return fmt.Errorf("rows of %d bytes for %d pixels", fb.lineLength, fb.w)
	case fb.rLen == 0 || fb.rLen > 8 || fb.gLen == 0 || fb.gLen > 8 || fb.bLen == 0 || fb.bLen > 8 ||
		fb.rOff+fb.rLen > uint32(fb.bpp) || fb.gOff+fb.gLen > uint32(fb.bpp) || fb.bOff+fb.bLen > uint32(fb.bpp):
		return errors.New("not a true-colour framebuffer")
	}
	return nil
}

func (fb *framebuffer) Bounds() image.Rectangle { return image.Rect(0, 0, fb.w, fb.h) }

// Put converts img to the framebuffer's pixel format and writes it.
func (fb *framebuffer) Put(img *image.RGBA) error {
	bytesPP := fb.bpp / 8
	fast := fb.bpp == 32 && fb.rOff == 16 && fb.gOff == 8 && fb.bOff == 0 && fb.rLen == 8 && fb.gLen == 8 && fb.bLen == 8
	for y := 0; y < fb.h; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+fb.w*4]
		dst := fb.buf[y*fb.lineLength:]
		for x := 0; x < fb.w; x++ {
			r, g, b := src[4*x], src[4*x+1], src[4*x+2]
			if fast {
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = b, g, r, 0
				continue
			}
			px := uint32(r)>>(8-fb.rLen)<<fb.rOff | uint32(g)>>(8-fb.gLen)<<fb.gOff | uint32(b)>>(8-fb.bLen)<<fb.bOff
			for i := 0; i < bytesPP; i++ {
				dst[bytesPP*x+i] = byte(px >> (8 * i))
			}
		}
	}
	_, err := fb.f.WriteAt(fb.buf, fb.offset)
	return err
}
