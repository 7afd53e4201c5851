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
	"travelkit/image/fat32"
	"travelkit/internal/killpoint"
	"travelkit/kit"
)

// toolsSet is everything the tools partition of a kit holds: the binaries, the RESTORE
// pages, the escrow files and encrypted header backups (which cannot be made again, and
// are copied from the trusted state), and the manifest over all of them.
type toolsSet struct {
	Manifest *kit.Manifest // everything but Files, which files fills in
	Binaries []Binary
	Pages    map[string][]byte
	Copies   map[string][]byte
	Extra    []File // more files to carry as they are (the boot bundle)
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
	for p, b := range t.Copies {
		files = append(files, File{Path: p, Size: int64(len(b)), data: b})
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

// Offsets of the FAT32 boot sector and its backup (sector 6), cleared before the tools
// partition is written again so that an interrupted write leaves no filesystem rather
// than one whose files are half overwritten.
const (
	bootSector       = 0
	backupBootSector = 6 * 512
)

// writeTools writes a new FAT32 tools partition holding files. When it replaces an
// existing one, its boot sectors are cleared and flushed first: until Close writes the new
// ones, the partition holds no filesystem, which verify reports as an unfinished write.
func writeTools(ctx context.Context, tools *image.Section, hiddenStart uint32, files []File, mtime time.Time, prog Progress) error {
	zero := make([]byte, 512)
	for _, off := range []int64{bootSector, backupBootSector} {
		if _, err := tools.WriteAt(zero, off); err != nil {
			return fmt.Errorf("clearing the tools partition's boot sector: %w", err)
		}
	}
	if err := image.Flush(tools); err != nil {
		return err
	}
	w, err := fat32.Format(tools, tools.Size(), fat32.Options{Label: drive.ToolsLabel, Time: mtime, HiddenStart: hiddenStart})
	if err != nil {
		return fmt.Errorf("creating the tools partition: %w", err)
	}
	var total, done int64
	for _, f := range files {
		total += f.Size
	}
	for _, f := range files {
		if ctx.Err() != nil {
			return errInterrupted
		}
		prog("writing the tools partition", done, total)
		r, closer, err := f.open()
		if err != nil {
			return err
		}
		err = w.WriteFile(f.Path, r, f.Size, mtime)
		closer()
		if err != nil {
			return fmt.Errorf("writing %s to the tools partition: %w", f.Path, err)
		}
		done += f.Size
		killpoint.Here("tools: " + f.Path)
	}
	prog("writing the tools partition", total, total)
	if err := w.Close(); err != nil {
		return err
	}
	return image.Flush(tools)
}

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
