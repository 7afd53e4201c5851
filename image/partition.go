package image

import (
	"fmt"

	"travelkit/image/gpt"
)

// Partition returns the window of dev holding GPT partition number index
// (1-based) of table t.
func Partition(dev Device, t *gpt.Table, index int) (*Section, error) {
	for _, p := range t.Partitions {
		if p.Index == index {
			return NewSection(dev, t.Offset(p), t.Length(p))
		}
	}
	return nil, fmt.Errorf("image: no partition %d", index)
}
