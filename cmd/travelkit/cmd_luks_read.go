package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"travelkit/internal/bytesize"
)

// ioBufSize is the chunk size of luks read and write: large enough that the volume
// decrypts each chunk on every core, and a multiple of every sector size.
const ioBufSize = 8 << 20

type luksReadOptions struct {
	passFile       string
	offset, length int64
}

func newLuksReadCmd() *cobra.Command {
	var o luksReadOptions
	cmd := &cobra.Command{
		Use:  "read DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksRead(&o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.passFile, "passphrase-file", "", "")
	f.Int64Var(&o.offset, "offset", 0, "")
	f.Int64Var(&o.length, "length", -1, "")
	hideDefault(cmd.Flags(), "length")
	return cmd
}

func runLuksRead(o *luksReadOptions, args []string) error {
	path := args[0]
	if o.offset < 0 {
		return usageErrorT("cli.luks.io.offset_negative", num(o.offset))
	}
	if o.length < -1 {
		return usageErrorT("cli.luks.io.length_negative", num(o.length))
	}
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	v, err := c.OpenVolume(vk)
	vk.Wipe()
	if err != nil {
		return wrapT(err, "cli.luks.io.open_failed", path, describeError(err))
	}
	defer v.Close()
	size := v.Size()
	if o.offset > size {
		return usageErrorT("cli.luks.io.offset_past", num(o.offset), num(size))
	}
	if o.length == -1 || o.length > size-o.offset {
		if o.length > size-o.offset {
			return usageErrorT("cli.luks.io.length_past", num(o.offset), num(o.length), num(size))
		}
		o.length = size - o.offset
	}
	if o.length > 64<<10 && term.IsTerminal(int(os.Stdout.Fd())) {
		return usageErrorT("cli.luks.io.terminal", bytesize.Format(o.length))
	}
	return copyOut(os.Stdout, v, o.offset, o.length)
}

// copyOut copies length bytes of r from off to w, decrypting the next chunk while the
// previous one is written.
func copyOut(w io.Writer, r io.ReaderAt, off, length int64) error {
	type chunk struct {
		b   []byte
		err error
	}
	bar := newProgress(tr.T("cli.luks.io.reading"), length)
	defer bar.Done()
	free := make(chan []byte, 2)
	free <- make([]byte, ioBufSize)
	free <- make([]byte, ioBufSize)
	full := make(chan chunk, 2)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(full)
		pos, end := off, off+length
		for pos < end {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			// chunk boundaries at multiples of the buffer size keep later reads aligned
			n := min(end, (pos/ioBufSize+1)*ioBufSize) - pos
			got, err := r.ReadAt(b[:n], pos)
			if err == io.EOF && int64(got) == n {
				err = nil
			}
			full <- chunk{b[:got], err}
			if err != nil {
				return
			}
			pos += n
		}
	}()
	for c := range full {
		if c.err != nil {
			return wrapT(c.err, "cli.luks.io.read_failed", describeError(c.err))
		}
		if _, err := w.Write(c.b); err != nil {
			return wrapT(err, "cli.luks.io.stdout_failed", describeError(err))
		}
		bar.Add(int64(len(c.b)))
		free <- c.b[:cap(c.b)]
	}
	return nil
}
