package builder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"travelkit/drive"
	"travelkit/image"
	"travelkit/kit"
)

// toolsSet is everything the tools partition of a kit holds: the binaries, the RESTORE
// pages, the escrow files and encrypted header backups (which cannot be made again, and
// are copied from the trusted state), and the manifest over all of them.
type toolsSet struct {
	Manifest *kit.Manifest // everything but Files, which files fills in
	Binaries []Binary
	Pages    map[string][]byte
	Copies   map[string][]byte // escrow files, kept in the trusted state too
	Headers  map[string][]byte // the encrypted header backups, made anew each time
	Extra    []File            // more files to carry as they are (the boot bundle)
}

// files hashes every file into the manifest and returns the list to write, manifest.json
// and SHA256SUMS last.
func (t *toolsSet) files() ([]File, []byte, []byte, error) {
	var files []File
	for _, b := range t.Binaries {
		files = append(files, File{Path: kit.BinaryPath(b.Platform), Size: b.Size, Source: b.Path})
	}
	for p, b := range t.Pages {
		files = append(files, File{Path: p, Size: int64(len(b)), data: b})
	}
	for _, m := range []map[string][]byte{t.Copies, t.Headers} {
		for p, b := range m {
			files = append(files, File{Path: p, Size: int64(len(b)), data: b})
		}
	}
	files = append(files, t.Extra...)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	m := t.Manifest
	m.Files = nil
	for i, f := range files {
		if i > 0 && files[i-1].Path == f.Path {
			return nil, nil, nil, fmt.Errorf("%s listed twice on the tools partition", f.Path)
		}
		r, closer, err := f.open()
		if err != nil {
			return nil, nil, nil, err
		}
		err = m.Add(f.Path, r)
		closer()
		if err != nil {
			return nil, nil, nil, err
		}
	}
	mj, sums, err := m.Encode()
	if err != nil {
		return nil, nil, nil, err
	}
	files = append(files, File{Path: kit.ManifestName, Size: int64(len(mj)), data: mj},
		File{Path: kit.SumsName, Size: int64(len(sums)), data: sums})
	return files, mj, sums, nil
}

// writeTools writes a new FAT32 tools partition holding files, through drive.WriteTools
// (the one writer whose output verify rebuilds from the trusted manifest: files in
// canonical order, mtime as every timestamp, so mtime must be the manifest's
// ToolsWritten, or its Created when that is not set).
func writeTools(ctx context.Context, tools *image.Section, files []File, mtime time.Time, prog Progress) error {
	tf := make([]drive.ToolsFile, 0, len(files))
	for _, f := range files {
		tf = append(tf, drive.ToolsFile{Path: f.Path, Size: f.Size, Open: f.openCloser})
	}
	err := drive.WriteTools(ctx, tools, mtime, tf, func(done, total int64) { prog("writing the tools partition", done, total) })
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// openCloser opens the file's content.
func (f File) openCloser() (io.ReadCloser, error) {
	r, closer, err := f.open()
	if err != nil {
		return nil, err
	}
	return readCloser{r, closer}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

// ageSize is the size of an age file holding n bytes, given the size of the same file
// holding nothing (the header depends on the recipients only): the payload is cut into
// 64 KiB chunks, each with a 16-byte tag.
func ageSize(empty int64, n int64) int64 {
	chunks := max(1, (n+65535)/65536)
	return empty + n + 16*(chunks-1)
}

// dataFile is a generated file of the tools partition.
func dataFile(p string, b []byte) File { return File{Path: p, Size: int64(len(b)), data: b} }

// readerOf returns the content of a File as bytes (small generated files only).
func readerOf(f File) ([]byte, error) {
	r, closer, err := f.open()
	if err != nil {
		return nil, err
	}
	defer closer()
	var b bytes.Buffer
	_, err = io.Copy(&b, r)
	return b.Bytes(), err
}
