package bootenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"travelkit/boot"
	"travelkit/internal/version"
	"travelkit/menu"
)

// Main runs the boot environment as PID 1 and never returns normally: it powers the
// computer off (or restarts it) when the menu ends, also after a panic.
func Main() int {
	log := &consoleLog{}
	defer func() {
		if r := recover(); r != nil {
			log.printf("internal error: %v\n%s", r, debug.Stack())
			log.printf("the computer powers off in 30 seconds")
			time.Sleep(30 * time.Second)
			halt(false)
		}
	}()
	mountBasics(log)
	// Console log level 4 (warnings and worse), as `dmesg -n 4`: device messages no
	// longer scribble over the menu. syslog(2) takes the level as its length argument.
	unix.Klogctl(unix.SYSLOG_ACTION_CONSOLE_LEVEL, make([]byte, 4))
	cfg := loadConfig(log)
	loadModules(log, cfg.Modules)
	mountFirmware(log)
	cons := openConsoles(log)
	log.w = cons.serial
	loadFont(log, cons.screenFile, cfg.Fonts)
	sys := &linuxSystem{log: log}
	sb, lockdown := sys.SecureBoot()
	log.printf("travelkit %s boot environment, kernel %s; Secure Boot: %s; lockdown: %s", version.Version, cfg.KernelVersion, orUnknown(sb), orUnknown(lockdown))
	lang := ""
	if l := cmdlineValue("travelkit.lang"); l != "" {
		lang = l
	}
	var wait time.Duration
	if w, err := time.ParseDuration(cmdlineValue("travelkit.wait")); err == nil && w > 0 && w < time.Hour {
		wait = w // how long to look for the kit before saying it is missing (tests)
	}
	var display menu.Display = menu.NewTextDisplay(cons.outputs...)
	if d := openScreen(log, cons, cfg.ScreenFonts); d != nil {
		display = d
	}
	act, err := menu.Run(context.Background(), menu.Options{
		FindWait: wait,
		System:   sys,
		Display:  display,
		Keys:     menu.NewKeys(cons.inputs...),
		Config:   cfg,
		Lang:     lang,
		Log:      log,
		Version:  version.Version,
	})
	if err != nil {
		log.printf("menu: %v", err)
	}
	unix.Sync()
	// A moment for the person to read the last screen.
	time.Sleep(2 * time.Second)
	halt(act == menu.Reboot)
	return 0
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// consoleLog writes log lines to the serial console (or the kernel's console before it
// is open). They never hold a secret.
type consoleLog struct{ w io.Writer }

func (l *consoleLog) Write(p []byte) (int, error) {
	w := l.w
	if w == nil {
		w = os.Stderr
	}
	s := strings.ReplaceAll(strings.TrimRight(string(p), "\n"), "\n", "\r\n")
	_, err := io.WriteString(w, s+"\r\n")
	return len(p), err
}

func (l *consoleLog) printf(format string, args ...any) {
	fmt.Fprintf(l, "travelkit-init: "+format+"\n", args...)
}

// mountBasics mounts the kernel's own filesystems: nothing on a disk.
func mountBasics(log *consoleLog) {
	for _, m := range []struct{ src, dir, fs, data string }{
		{"devtmpfs", "/dev", "devtmpfs", "mode=0755"},
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fs, unix.MS_NOSUID, m.data); err != nil && err != unix.EBUSY {
			log.printf("mount %s: %v", m.dir, err)
		}
	}
	os.Setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
}

// mountFirmware mounts efivarfs (read-only: the Secure Boot state) and securityfs (the
// lockdown mode), after the efivarfs module is loaded.
func mountFirmware(log *consoleLog) {
	if _, err := os.Stat("/sys/firmware/efi"); err == nil {
		if err := unix.Mount("efivarfs", "/sys/firmware/efi/efivars", "efivarfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil && err != unix.EBUSY {
			log.printf("mount efivarfs: %v", err)
		}
	}
	if err := unix.Mount("securityfs", "/sys/kernel/security", "securityfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil && err != unix.EBUSY {
		log.printf("mount securityfs: %v", err)
	}
}

func loadConfig(log *consoleLog) *boot.Config {
	b, err := os.ReadFile(boot.ConfigPath)
	if err == nil {
		var c *boot.Config
		if c, err = boot.ParseConfig(b); err == nil {
			return c
		}
	}
	log.printf("%s: %v", boot.ConfigPath, err)
	return &boot.Config{}
}

// loadModules loads each module with finit_module, in order. One that is already loaded,
// or whose hardware is absent, is not an error worth more than a log line.
func loadModules(log *consoleLog, mods []string) {
	start := time.Now()
	loaded := 0
	for _, m := range mods {
		f, err := os.Open(m)
		if err != nil {
			log.printf("module %s: %v", m, err)
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		switch err {
		case nil:
			loaded++
		case unix.EEXIST:
		default:
			log.printf("module %s: %v", m, err)
		}
	}
	log.printf("loaded %d of %d kernel modules in %v", loaded, len(mods), time.Since(start).Round(time.Millisecond))
}

// cmdlineValue returns the value of key=value on the kernel command line.
func cmdlineValue(key string) string {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// halt syncs and powers off or restarts. PID 1 must never exit: the kernel would panic.
func halt(reboot bool) {
	unix.Sync()
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	if reboot {
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	}
	unix.Reboot(cmd)
	for {
		time.Sleep(time.Hour)
	}
}
