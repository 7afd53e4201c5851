//go:build unix && !linux

package beneath

// fdTimes sets the times of the open file fd, which is name in d: through name, without
// following a link.
func (d *Dir) fdTimes(fd int, name string, m Meta) error { return d.Chtimes(name, m) }
