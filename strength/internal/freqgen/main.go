package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/trustelem/zxcvbn/frequency"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	names := make([]string, 0, len(frequency.FrequencyLists))
	for n := range frequency.FrequencyLists {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "list: %s\n", n)
		for _, word := range frequency.FrequencyLists[n] {
			if word == "" || strings.ContainsAny(word, " \n") {
				fmt.Fprintf(os.Stderr, "freqgen: list %s: the word %q cannot be written one a line\n", n, word)
				os.Exit(1)
			}
			fmt.Fprintf(w, "%s\n", word)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "freqgen:", err)
		os.Exit(1)
	}
}
