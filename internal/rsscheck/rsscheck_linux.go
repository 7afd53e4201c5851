package rsscheck

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Bound is the memory bound of issue 13: peak RSS at most 1 GiB for every command on any
// input.
const Bound = 1 << 30

// killDefault stops a child that has clearly broken the bound; TRAVELKIT_RSS_KILL (bytes)
// raises it for measurements.
const killDefault = 1536 << 20

const env = "TRAVELKIT_RSS_CHILD"

// Result is what one child did.
type Result struct {
	MaxRSS int64 // bytes
	Killed bool  // stopped by the watchdog
	Output string
	Err    error // the child's exit
	Wall   time.Duration
}

func (r Result) String() string {
	s := fmt.Sprintf("peak RSS %.1f MiB", float64(r.MaxRSS)/(1<<20))
	if r.Killed {
		s = fmt.Sprintf("killed by the watchdog at peak RSS %.1f MiB", float64(r.MaxRSS)/(1<<20))
	}
	out := strings.Split(strings.TrimSpace(r.Output), "\n")
	if len(out) > 3 {
		out = out[len(out)-3:]
	}
	return fmt.Sprintf("%s, %.1fs, exit %v: %s", s, r.Wall.Seconds(), r.Err, strings.Join(out, " | "))
}

// Args returns the arguments Run gave this process, and whether it is such a child.
func Args() ([]string, bool) {
	v, ok := os.LookupEnv(env)
	if !ok {
		return nil, false
	}
	return strings.Split(v, "\x1f"), true
}

// Run starts this test binary again running only the test named test, with args for
// Args, and measures it. The child's own test function reads Args and exits.
func Run(t testing.TB, test string, args ...string) Result {
	t.Helper()
	// a guard against a hang, far above any expected time; not a speed assertion
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$", "-test.timeout=15m")
	cmd.Env = append(os.Environ(), env+"="+strings.Join(args, "\x1f"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := watch(func() []*os.Process { return []*os.Process{cmd.Process} })
	err := cmd.Wait()
	seen, killed := stop()
	res := Result{Killed: killed, Output: out.String(), Err: err, Wall: time.Since(start)}
	// The child's own report of its peak (VmHWM, counted from its exec), or what the
	// watchdog saw. Not getrusage's ru_maxrss: across exec Linux keeps the high-water
	// mark of the forked copy of this (parent) process.
	res.MaxRSS = max(seen, reported(res.Output))
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish in 10 minutes: unbounded time? (%s)", args, res)
	}
	return res
}

// watch is the watchdog of Run and RunProgram: every 10 ms it reads the resident memory
// of the processes procs returns, keeps the highest peak (VmHWM) seen, and kills a
// process whose resident set passes the limit (killDefault, or TRAVELKIT_RSS_KILL bytes),
// then stops. stop ends the watch (call it once the child has exited) and returns the
// peak seen and whether the watchdog killed.
func watch(procs func() []*os.Process) (stop func() (peak int64, killed bool)) {
	kill := int64(killDefault)
	if v, err := strconv.ParseInt(os.Getenv("TRAVELKIT_RSS_KILL"), 10, 64); err == nil && v > 0 {
		kill = v
	}
	killedc := make(chan bool, 1)
	done := make(chan struct{})
	var hwm atomic.Int64
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				killedc <- false
				return
			case <-tick.C:
				for _, p := range procs() {
					rss, peak := procMem(p.Pid)
					if peak > hwm.Load() {
						hwm.Store(peak)
					}
					if rss > kill {
						p.Kill()
						killedc <- true
						return
					}
				}
			}
		}
	}()
	return func() (int64, bool) {
		close(done)
		killed := <-killedc
		return hwm.Load(), killed
	}
}

// procMem reads a process's resident set size and its peak (VmRSS, VmHWM).
func procMem(pid int) (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rss = kib(v)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			peak = kib(v)
		}
	}
	return rss, peak
}

func kib(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
	return n * 1024
}

const hwmPrefix = "rsscheck-peak-bytes: "

// Exit ends a child: it reports its peak resident memory for Run, then exits with code.
func Exit(code int) {
	_, peak := procMem(os.Getpid())
	fmt.Fprintf(os.Stderr, "\n%s%d\n", hwmPrefix, peak)
	os.Exit(code)
}

func reported(out string) int64 {
	i := strings.LastIndex(out, hwmPrefix)
	if i < 0 {
		return 0
	}
	v, _ := strconv.ParseInt(strings.Fields(out[i+len(hwmPrefix):] + " ")[0], 10, 64)
	return v
}

const timePrefix = "rsscheck-time-kib: "

// RunProgram runs argv under /usr/bin/time (GNU time: the peak RSS of its child, which it
// forked from a process of its own size, so nothing of this test process is counted) and
// measures it the same way as Run. A program that grows past the watchdog limit is killed.
func RunProgram(t testing.TB, env []string, argv ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", timePrefix + "%M"}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("/usr/bin/time (Debian package time) is needed: %v", err)
	}
	// the program is /usr/bin/time's child
	stop := watch(func() []*os.Process {
		var ps []*os.Process
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			if p, err := os.FindProcess(pid); err == nil {
				ps = append(ps, p)
			}
		}
		return ps
	})
	err := cmd.Wait()
	seen, killed := stop()
	res := Result{Killed: killed, Output: out.String(), Err: err, Wall: time.Since(start)}
	if i := strings.LastIndex(res.Output, timePrefix); i >= 0 {
		kib, _ := strconv.ParseInt(strings.Fields(res.Output[i+len(timePrefix):] + " ")[0], 10, 64)
		res.MaxRSS = kib * 1024
	}
	res.MaxRSS = max(res.MaxRSS, seen)
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish in 10 minutes: unbounded time? (%s)", argv, res)
	}
	return res
}
