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
// found first; a group without any of them gets no ratio columns. With
// -paired, each ratio is the median of the per-run ratios, which cancels
// drift in the machine's speed between the rounds of an interleaved run.
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
	flag.BoolVar(&paired, "paired", false, "ratios are medians of per-run ratios (the i-th result of each benchmark against the i-th of its baseline: the same round of an interleaved run), not ratios of medians")
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

// paired makes ratios medians of per-run ratios.
var paired bool

// line matches "BenchmarkGet/nonet/resty-2  185407  6528 ns/op  3954 B/op  29 allocs/op".
var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

type samples struct{ ns, cpu, bytes, allocs []float64 }

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
			case "cpu-ns/op":
				s.cpu = append(s.cpu, v)
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
		hasCPU := false
		for _, name := range members[g] {
			hasCPU = hasCPU || len(res.by[name].cpu) > 0
		}
		fmt.Fprintf(w, "\n%s\n\n", g)
		head, sep := "| client | runs | ns/op |", "|---|--:|--:|"
		if hasCPU {
			head, sep = head+" cpu-ns/op |", sep+"--:|"
		}
		head, sep = head+" B/op | allocs/op |", sep+"--:|--:|"
		for _, b := range present {
			head += " time × " + b + " |"
			sep += "--:|"
			if hasCPU {
				head += " cpu × " + b + " |"
				sep += "--:|"
			}
			head += " allocs × " + b + " |"
			sep += "--:|"
		}
		fmt.Fprintf(w, "%s\n%s\n", head, sep)
		for _, name := range members[g] {
			_, leaf := split(name)
			s := res.by[name]
			ns, cpu, by, al := median(s.ns), median(s.cpu), median(s.bytes), median(s.allocs)
			fmt.Fprintf(w, "| %s | %d | %.0f |", leaf, len(s.ns), ns)
			if hasCPU {
				fmt.Fprintf(w, " %.0f |", cpu)
			}
			fmt.Fprintf(w, " %.0f | %.0f |", by, al)
			for _, b := range present {
				bs := res.by[join(g, b)]
				fmt.Fprintf(w, " %s |", ratioOf(s.ns, bs.ns))
				if hasCPU {
					fmt.Fprintf(w, " %s |", ratioOf(s.cpu, bs.cpu))
				}
				fmt.Fprintf(w, " %s |", ratio(al, median(bs.allocs)))
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

// ratioOf is median(a)/median(b), or with -paired the median of a[i]/b[i].
func ratioOf(a, b []float64) string {
	if !paired || len(a) != len(b) || len(a) == 0 {
		return ratio(median(a), median(b))
	}
	r := make([]float64, 0, len(a))
	for i := range a {
		if b[i] != 0 {
			r = append(r, a[i]/b[i])
		}
	}
	if len(r) == 0 {
		return "–"
	}
	return strconv.FormatFloat(median(r), 'f', 2, 64) + "x"
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
}
