package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

type luksWriteOptions struct {
	passFile string
	offset   int64
}

func newLuksWriteCmd() *cobra.Command {
	var o luksWriteOptions
	cmd := &cobra.Command{
		Use:  "write DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksWrite(&o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.passFile, "passphrase-file", "", "")
	f.Int64Var(&o.offset, "offset", 0, "")
	return cmd
}

func runLuksWrite(o *luksWriteOptions, args []string) error {
	path := args[0]
	if o.offset < 0 {
		return usageErrorT("cli.luks.io.offset_negative", num(o.offset))
	}
	if o.passFile == "-" {
		return usageErrorT("cli.luks.io.pass_stdin")
	}
	if o.passFile == "" && isTerminal() {
		// the prompt needs the terminal, but so would the data
		return usageErrorT("cli.luks.io.stdin_terminal")
	}
	var inSize int64 = -1
	if st, err := os.Stdin.Stat(); err == nil && st.Mode().IsRegular() {
		if pos, err := os.Stdin.Seek(0, io.SeekCurrent); err == nil {
			inSize = st.Size() - pos
		}
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if o.offset > c.PayloadSize() {
		return usageErrorT("cli.luks.io.offset_past", num(o.offset), num(c.PayloadSize()))
	}
	if inSize > c.PayloadSize()-o.offset {
		return usageErrorT("cli.luks.io.too_much", num(inSize), num(c.PayloadSize()-o.offset), num(o.offset))
	}
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	v, err := c.OpenVolume(vk)
	vk.Wipe()
	if err != nil {
		return wrapT(err, "cli.luks.io.open_failed", path, describeError(err))
	}
	n, err := copyIn(v, os.Stdin, o.offset, v.Size(), inSize)
	if ferr := v.Flush(); err == nil && ferr != nil {
		err = wrapT(ferr, "cli.luks.io.flush_failed", path, describeError(ferr))
	}
	if cerr := v.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, tr.T("cli.luks.io.written", num(n), path, num(o.offset)))
	return nil
}

// copyIn copies r into w from off up to size; total is the input size when known (-1 otherwise).
func copyIn(w io.WriterAt, r io.Reader, off, size, total int64) (int64, error) {
	bar := newProgress(tr.T("cli.luks.io.writing"), total)
	defer bar.Done()
	buf := make([]byte, ioBufSize)
	pos := off
	for {
		n := min(size, (pos/ioBufSize+1)*ioBufSize) - pos
		if n == 0 {
			var one [1]byte
			if k, _ := io.ReadFull(r, one[:]); k > 0 {
				return pos - off, errorT("cli.luks.io.more", num(size-off), num(off), num(pos-off))
			}
			return pos - off, nil
		}
		got, err := io.ReadFull(r, buf[:n])
		if got > 0 {
			if _, werr := w.WriteAt(buf[:got], pos); werr != nil {
				return pos - off, wrapT(werr, "cli.luks.io.write_failed", num(pos), describeError(werr))
			}
			pos += int64(got)
			bar.Add(int64(got))
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return pos - off, nil
		case err != nil:
			return pos - off, wrapT(err, "cli.luks.io.stdin_failed", describeError(err))
		}
	}
}
