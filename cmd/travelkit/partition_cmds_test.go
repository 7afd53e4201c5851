package main

import (
	"io"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/image/gpt"
)

// Script commands for tests that hand a kit's partition to a stock tool (cryptsetup works
// on files, not on a partition inside an image file without a loop device):
//
//	partcopy IMG N OUT        copy partition N of the image IMG to the file OUT
//	partput IN IMG N LEN      write the first LEN bytes of IN at the start of partition N
//	zero FILE OFF LEN         overwrite LEN bytes at OFF with zeros (OFF may be pN+X: X
//	                          bytes into partition N of FILE)

func partition(ts *testscript.TestScript, img string, n int) (off, size int64) {
	f, err := os.Open(ts.MkAbs(img))
	ts.Check(err)
	defer f.Close()
	st, err := f.Stat()
	ts.Check(err)
	t, err := gpt.Read(f, st.Size(), 512)
	ts.Check(err)
	for _, p := range t.Partitions {
		if p.Index == n {
			return t.Offset(p), t.Length(p)
		}
	}
	ts.Fatalf("%s has no partition %d", img, n)
	return 0, 0
}

func cmdPartcopy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: partcopy IMG N OUT")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	off, size := partition(ts, args[0], n)
	in, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer in.Close()
	out, err := os.Create(ts.MkAbs(args[2]))
	ts.Check(err)
	defer out.Close()
	ts.Check(out.Truncate(size))
	// sparse: only blocks that are not all zero are written
	buf := make([]byte, 1<<20)
	for pos := int64(0); pos < size; pos += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), size-pos)]
		_, err := in.ReadAt(b, off+pos)
		if err != nil && err != io.EOF {
			ts.Fatalf("%v", err)
		}
		for _, c := range b {
			if c != 0 {
				_, err := out.WriteAt(b, pos)
				ts.Check(err)
				break
			}
		}
	}
}

func cmdPartput(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: partput IN IMG N LEN")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	length, err := strconv.ParseInt(args[3], 0, 64)
	ts.Check(err)
	off, size := partition(ts, args[1], n)
	if length > size {
		ts.Fatalf("%d bytes do not fit partition %d", length, n)
	}
	b := make([]byte, length)
	in, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer in.Close()
	_, err = io.ReadFull(in, b)
	ts.Check(err)
	out, err := os.OpenFile(ts.MkAbs(args[1]), os.O_RDWR, 0)
	ts.Check(err)
	defer out.Close()
	_, err = out.WriteAt(b, off)
	ts.Check(err)
}

func cmdZero(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: zero FILE OFF LEN (OFF: bytes, or pN+X for X bytes into partition N)")
	}
	var off int64
	if s := args[1]; len(s) > 1 && s[0] == 'p' {
		var n int
		var x int64
		i := 1
		for i < len(s) && s[i] != '+' {
			i++
		}
		n, err := strconv.Atoi(s[1:i])
		ts.Check(err)
		if i < len(s) {
			x, err = strconv.ParseInt(s[i+1:], 0, 64)
			ts.Check(err)
		}
		po, _ := partition(ts, args[0], n)
		off = po + x
	} else {
		var err error
		off, err = strconv.ParseInt(s, 0, 64)
		ts.Check(err)
	}
	length, err := strconv.ParseInt(args[2], 0, 64)
	ts.Check(err)
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_RDWR, 0)
	ts.Check(err)
	defer f.Close()
	_, err = f.WriteAt(make([]byte, length), off)
	ts.Check(err)
}
