//go:build !windows

package wizard

import (
	"context"
	"os"
	"os/exec"

	"travelkit/repo"
)

// runCommand runs a program and waits; an interactive one (sudo asking for the password)
// gets the terminal.
func runCommand(ctx context.Context, interactive bool, name string, args ...string) error {
	c := exec.CommandContext(ctx, name, args...)
	if interactive {
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	} else {
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
	}
	return c.Run()
}

// startCommand starts a program (a browser, a file manager) and lets it run.
func startCommand(name string, args ...string) error {
	c := exec.Command(name, args...)
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait()
	return nil
}

// chown gives a folder made for the restore to the person.
func chown(path string, o *repo.Owner) error { return os.Lchown(path, o.UID, o.GID) }
