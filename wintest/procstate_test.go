package wintest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// groupState describes, from Linux's /proc, every process of process group pgid and each of
// its threads: state, CPU time, the kernel function it waits in and its system call. It is
// what the harness can still tell of a Wine program that neither ended nor printed Go's
// timeout panic (a runtime that cannot stop the world prints nothing) before it kills it.
func groupState(pgid int) string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f := statFields(filepath.Join(d, "stat")); len(f) > 4 && f[4] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	var b strings.Builder
	for _, pid := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		fmt.Fprintf(&b, "process %d: %s\n", pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/[0-9]*", pid))
		for _, task := range tasks {
			f := statFields(filepath.Join(task, "stat"))
			if len(f) < 15 {
				continue
			}
			wchan, _ := os.ReadFile(filepath.Join(task, "wchan"))
			sys, _ := os.ReadFile(filepath.Join(task, "syscall"))
			syscall := strings.Fields(string(sys))
			if len(syscall) > 0 {
				sys = []byte(syscall[0])
			}
			fmt.Fprintf(&b, "  thread %s %s state %s utime %s stime %s (ticks) wchan %s syscall %s\n",
				filepath.Base(task), f[1], f[2], f[13], f[14], wchan, sys)
		}
	}
	if b.Len() == 0 {
		return "(no process of the group found in /proc)\n"
	}
	return b.String()
}

// statFields splits a /proc stat file into its fields: pid, (comm), state, ppid, pgrp, ...
// The command name may hold spaces; it ends at the last ')'.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return nil
	}
	return append([]string{strings.TrimSpace(s[:open]), s[open : end+1]}, strings.Fields(s[end+1:])...)
}
