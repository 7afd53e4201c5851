package main

import (
	"fmt"
	"os"
	"strconv"

	"travelkit/internal/homedata"
)

func arg(i int, def uint64) uint64 {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.ParseUint(os.Args[i], 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkhome: %q is not a number\n", os.Args[i])
		os.Exit(2)
	}
	return v
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mkhome make FILES DIR [SEED] | mutate DIR [SEED] [ROUND] | digest DIR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "make":
		if len(os.Args) < 4 {
			fmt.Fprintln(os.Stderr, "usage: mkhome make FILES DIR [SEED]")
			os.Exit(2)
		}
		var n int64
		n, err = homedata.Make(os.Args[3], int(arg(2, 0)), arg(4, 42))
		if err == nil {
			fmt.Printf("%d files, %d bytes in %s\n", arg(2, 0), n, os.Args[3])
		}
	case "mutate":
		var c int
		c, err = homedata.Mutate(os.Args[2], arg(3, 42), int(arg(4, 1)))
		if err == nil {
			fmt.Printf("%d files changed, added or removed\n", c)
		}
	case "digest":
		var d string
		d, err = homedata.Digest(os.Args[2])
		if err == nil {
			fmt.Println(d)
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkhome:", err)
		os.Exit(1)
	}
}
