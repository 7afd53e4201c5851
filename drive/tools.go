package drive

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"travelkit/image"
	"travelkit/image/fat32"
	"travelkit/internal/durable"
	"travelkit/internal/killpoint"
	"travelkit/kit"
)

// The tools partition is written by one function, WriteTools, in one canonical way, so
// that `verify` can rebuild its expected metadata (boot sector, FATs, folders) from the
// trusted manifest inside the encrypted volume and compare it byte for byte (CheckTools).

// ToolsFile is one file of the tools partition.
type ToolsFile struct {
	Path string
	Size int64
	Open func() (io.ReadCloser, error)
}

// toolsOrder sorts files canonically: by path, then manifest.json and SHA256SUMS last.
func toolsOrder[T any](files []T, pathOf func(T) string) []T {
	rank := func(p string) int {
		switch p {
		case kit.ManifestName:
			return 1
		case kit.SumsName:
			return 2
		}
		return 0
	}
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b T) int {
		pa, pb := pathOf(a), pathOf(b)
		if ra, rb := rank(pa), rank(pb); ra != rb {
			return ra - rb
		}
		return strings.Compare(pa, pb)
	})
	return out
}

func toolsOptions(tools *image.Section, when time.Time) fat32.Options {
	return fat32.Options{Label: ToolsLabel, Time: when.UTC().Truncate(time.Second), HiddenStart: uint32(tools.Off / 512)}
}

// Offsets of the FAT32 boot sector and its backup (sector 6), cleared before the tools
// partition is written again so that an interrupted write leaves no filesystem rather
// than one whose files are half overwritten.
const (
	bootSectorOff       = 0
	backupBootSectorOff = 6 * 512
)

// WriteTools formats the tools partition and writes the files in canonical order, with
// when as every timestamp; prog (optional) gets the bytes written so far. When it
// replaces an existing partition, the boot sectors are cleared and flushed first: until
// the new ones are written last, the partition holds no filesystem, which verify reports
// as an unfinished write. It returns ctx.Err() when ctx is cancelled between files.
func WriteTools(ctx context.Context, tools *image.Section, when time.Time, files []ToolsFile, prog func(done, total int64)) error {
	if prog == nil {
		prog = func(int64, int64) {}
	}
	zero := make([]byte, 512)
	for _, off := range []int64{bootSectorOff, backupBootSectorOff} {
		if _, err := tools.WriteAt(zero, off); err != nil {
			return fmt.Errorf("clearing the tools partition's boot sector: %w", err)
		}
	}
	if err := durable.Flush(tools); err != nil {
		return err
	}
	opt := toolsOptions(tools, when)
	w, err := fat32.Format(tools, tools.Size(), opt)
	if err != nil {
		return fmt.Errorf("creating the tools partition: %w", err)
	}
	var total, done int64
	for _, f := range files {
		total += f.Size
	}
	for _, f := range toolsOrder(files, func(f ToolsFile) string { return f.Path }) {
		if err := ctx.Err(); err != nil {
			return err
		}
		prog(done, total)
		r, err := f.Open()
		if err != nil {
			return err
		}
		err = w.WriteFile(f.Path, r, f.Size, opt.Time)
		r.Close()
		if err != nil {
			return fmt.Errorf("writing %s to the tools partition: %w", f.Path, err)
		}
		done += f.Size
		killpoint.Here("tools: " + f.Path)
	}
	prog(total, total)
	if err := w.Close(); err != nil {
		return err
	}
	return durable.Flush(tools)
}

// ToolsFit says whether files fit on the tools partition as WriteTools lays them out: an
// error (from the same FAT32 layout, run without writing) when they do not. Nothing is
// written, so a change can refuse before the partition is cleared.
func ToolsFit(tools *image.Section, when time.Time, files []ToolsFile) error {
	specs := make([]fat32.Spec, 0, len(files))
	for _, f := range files {
		specs = append(specs, fat32.Spec{Path: f.Path, Size: f.Size})
	}
	specs = toolsOrder(specs, func(s fat32.Spec) string { return s.Path })
	_, err := fat32.Expect(tools.Size(), toolsOptions(tools, when), specs)
	return err
}

// ToolsTime is the time a kit's tools partition was written with, from its manifest: when
// it was last written (a refresh or a key change), else when the kit was built.
func ToolsTime(m *kit.Manifest) time.Time {
	if !m.ToolsWritten.IsZero() {
		return m.ToolsWritten
	}
	return m.Created
}

// CheckTools rebuilds the metadata WriteTools wrote for the trusted manifest (and the
// trusted manifest.json and SHA256SUMS themselves, by size) and compares the tools
// partition with it: any difference beyond what operating systems change on their own is
// listed. File contents are not compared here (kit.Verify hashes them).
func (d *Drive) CheckTools(m *kit.Manifest, manifestJSON, sums []byte) ([]fat32.Mismatch, error) {
	specs := make([]fat32.Spec, 0, len(m.Files)+2)
	for _, f := range m.Files {
		specs = append(specs, fat32.Spec{Path: f.Path, Size: f.Size})
	}
	specs = append(specs, fat32.Spec{Path: kit.ManifestName, Size: int64(len(manifestJSON))},
		fat32.Spec{Path: kit.SumsName, Size: int64(len(sums))})
	specs = toolsOrder(specs, func(s fat32.Spec) string { return s.Path })
	exp, err := fat32.Expect(d.Tools.Size(), toolsOptions(d.Tools, ToolsTime(m)), specs)
	if err != nil {
		return nil, fmt.Errorf("the trusted manifest does not describe a tools partition of %d bytes: %w", d.Tools.Size(), err)
	}
	return exp.Compare(d.Tools)
}
