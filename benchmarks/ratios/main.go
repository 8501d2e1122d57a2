// Command ratios reads `go test -bench` output and prints, for each group of
// sub-benchmarks, the median ns/op, B/op and allocs/op of each, and their
// ratios to baselines measured in the same run. It is what the tables in
// docs/benchmarks.md are made with:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./benchmarks | go run ./benchmarks/ratios
//
// A group is a benchmark name without its last element: the results of
// BenchmarkOverhead/nonet/resty and BenchmarkOverhead/nonet/axios are in
// group Overhead/nonet. -base names the baselines (last elements), first
// found first; a group without any of them gets no ratio columns.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	base := flag.String("base", "resty,nethttp", "comma-separated baseline names, as the last element of a benchmark name")
	flag.Parse()
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(res.order) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results on stdin")
		os.Exit(1)
	}
	write(os.Stdout, res, strings.Split(*base, ","))
}

// line matches "BenchmarkGet/nonet/resty-2  185407  6528 ns/op  3954 B/op  29 allocs/op".
var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

type samples struct{ ns, bytes, allocs []float64 }

type results struct {
	order []string // benchmark names, first seen first
	by    map[string]*samples
}

func parse(r io.Reader) (*results, error) {
	res := &results{by: map[string]*samples{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := m[1]
		s := res.by[name]
		if s == nil {
			s = new(samples)
			res.by[name] = s
			res.order = append(res.order, name)
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	return res, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func split(name string) (group, leaf string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

func write(w io.Writer, res *results, bases []string) {
	var groups []string
	members := map[string][]string{}
	for _, name := range res.order {
		g, _ := split(name)
		if _, ok := members[g]; !ok {
			groups = append(groups, g)
		}
		members[g] = append(members[g], name)
	}
	for _, g := range groups {
		var present []string
		for _, b := range bases {
			if b = strings.TrimSpace(b); b != "" && slices.Contains(members[g], join(g, b)) {
				present = append(present, b)
			}
		}
		fmt.Fprintf(w, "\n%s\n\n", g)
		fmt.Fprint(w, "| client | runs | ns/op | B/op | allocs/op |")
		sep := "|---|--:|--:|--:|--:|"
		for _, b := range present {
			fmt.Fprintf(w, " time × %s | allocs × %s |", b, b)
			sep += "--:|--:|"
		}
		fmt.Fprintf(w, "\n%s\n", sep)
		for _, name := range members[g] {
			_, leaf := split(name)
			s := res.by[name]
			ns, by, al := median(s.ns), median(s.bytes), median(s.allocs)
			fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f |", leaf, len(s.ns), ns, by, al)
			for _, b := range present {
				bs := res.by[join(g, b)]
				fmt.Fprintf(w, " %s | %s |", ratio(ns, median(bs.ns)), ratio(al, median(bs.allocs)))
			}
			fmt.Fprintln(w)
		}
	}
}

func join(group, leaf string) string {
	if group == "" {
		return leaf
	}
	return group + "/" + leaf
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
}
