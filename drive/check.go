package drive

import (
	"fmt"

	"travelkit/image/gpt"
)

// CheckLayout lists every way the drive's partition tables differ from what a build
// writes: an MBR that is not exactly protective (a hybrid or ordinary MBR makes Linux and
// firmware see other partitions than the GPT's), primary and backup GPT that are damaged
// or disagree, partitions other than the two a build places. Each finding says how to
// repair it when that is safe.
func (d *Drive) CheckLayout() []string {
	var out []string
	if err := gpt.CheckProtectiveMBR(d.Dev, d.Table); err != nil {
		out = append(out, err.Error()+" (the partitions may have been changed to show another tools partition; do not trust this drive's tools)")
	}
	if err := gpt.CheckCopies(d.Dev, d.Dev.Size(), d.Table.SectorSize); err != nil {
		out = append(out, err.Error()+" (repair on Linux: sudo sgdisk -e DEVICE rewrites both copies from the intact one)")
	}
	l, err := PlanLayout(d.Dev.Size(), d.Table.SectorSize, d.Tools.Size())
	if err != nil {
		return append(out, fmt.Sprintf("the partitions are not where a build puts them: %v", err))
	}
	want := l.Table
	if len(d.Table.Partitions) != len(want.Partitions) {
		out = append(out, fmt.Sprintf("the GPT has %d partitions; a kit has %d", len(d.Table.Partitions), len(want.Partitions)))
		return out
	}
	for i, p := range d.Table.Partitions {
		w := want.Partitions[i]
		if p.Index != w.Index || p.Type != w.Type || p.First != w.First || p.Last != w.Last || p.Name != w.Name || p.Attributes != w.Attributes {
			out = append(out, fmt.Sprintf("partition %d (%q, sectors %d..%d, attributes 0x%x) is not where or what a build puts (%q, sectors %d..%d)",
				p.Index, p.Name, p.First, p.Last, p.Attributes, w.Name, w.First, w.Last))
		}
	}
	if d.Table.FirstUsable != want.FirstUsable || d.Table.LastUsable != want.LastUsable || d.Table.NumEntries != want.NumEntries {
		out = append(out, fmt.Sprintf("the GPT's usable range %d..%d (%d entries) is not a build's %d..%d (%d entries)",
			d.Table.FirstUsable, d.Table.LastUsable, d.Table.NumEntries, want.FirstUsable, want.LastUsable, want.NumEntries))
	}
	return out
}
