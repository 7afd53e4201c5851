package main

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/image"
	"travelkit/image/gpt"
	"travelkit/target"
)

// A kit's LUKS volume is partition 2 of its image file or disk. The luks commands
// address it as KIT:2 (KIT:N for partition N), or with --target KIT, on every OS: on
// Windows and macOS there is no partition path to give instead.

// splitPartition recognizes KIT:N: a path that does not exist itself, whose part
// before the last colon is an existing file or a disk, and N a partition number.
func splitPartition(path string) (base string, part int, ok bool) {
	i := strings.LastIndexByte(path, ':')
	if i <= 0 || i == len(path)-1 {
		return "", 0, false
	}
	n, err := strconv.Atoi(path[i+1:])
	if err != nil || n < 1 || n > 128 || path[i+1] == '+' || path[i+1] == '-' {
		return "", 0, false
	}
	if _, err := os.Stat(path); err == nil {
		return "", 0, false // a file with a colon in its name
	}
	base = path[:i]
	if _, err := os.Stat(base); err != nil && !target.NeedsAlignment(base) {
		return "", 0, false
	}
	return base, n, true
}

// openPartition opens partition part of the kit image or disk base: through package
// target, with its checks (never the system disk; for writing, nothing mounted on that
// partition), for reading or for reading and writing.
func openPartition(path, base string, part int, write bool) (*device, error) {
	opt := target.Options{Write: write}
	if write && part == drive.DataPartition {
		opt.Partition = part // the tools partition may stay mounted
	}
	tg, err := target.Open(base, opt)
	if err != nil {
		var ref *target.RefusedError
		switch {
		case errors.As(err, &ref):
			return nil, refusedError(err, ref)
		case errors.Is(err, target.ErrNeedAdmin):
			return nil, withCode(ExitError, err, "")
		}
		return nil, wrapT(err, "cli.luks.open_failed", base, describeError(err))
	}
	var t *gpt.Table
	for _, ss := range []int{512, 4096} {
		if t, err = gpt.Read(tg, tg.Size(), ss); err == nil {
			break
		}
	}
	if t == nil {
		tg.Close()
		return nil, withCodeT(ExitNotLUKS, errorT("cli.luks.no_table", base, part), "cli.luks.no_table_hint", part)
	}
	sec, err := image.Partition(tg, t, part)
	if err != nil {
		tg.Close()
		return nil, withCode(ExitNotLUKS, wrapT(err, "cli.luks.no_partition", base, part), "")
	}
	return &device{kit: tg, io: sec, path: path, size: sec.Size(), writable: write, block: true}, nil
}

// isKit reports whether path is a travel kit (given as DEVICE, whose LUKS volume is
// its partition drive.DataPartition).
func isKit(path string) bool {
	tg, err := target.Open(path, target.Options{})
	if err != nil {
		return false
	}
	defer tg.Close()
	_, err = drive.Open(tg)
	return err == nil
}

// addTargetFlag gives a luks command (and those below it) --target KIT, which stands
// for DEVICE KIT:2.
func addTargetFlag(c *cobra.Command) {
	if c.HasSubCommands() {
		for _, sub := range c.Commands() {
			addTargetFlag(sub)
		}
		return
	}
	if c.Args == nil || c.RunE == nil || c.Flags().Lookup("target") != nil {
		return // no DEVICE argument, or a --target of its own (header-backup)
	}
	var kit string
	c.Flags().StringVar(&kit, "target", "", "")
	args, run := c.Args, c.RunE
	withDevice := func(a []string) []string {
		if kit == "" {
			return a
		}
		return append([]string{kit + ":" + strconv.Itoa(drive.DataPartition)}, a...)
	}
	c.Args = func(cmd *cobra.Command, a []string) error {
		err := args(cmd, withDevice(a))
		if err != nil && kit != "" {
			return usageErrorT("cli.luks.target_device", kit, drive.DataPartition, describeError(err))
		}
		return err
	}
	c.RunE = func(cmd *cobra.Command, a []string) error { return run(cmd, withDevice(a)) }
}
