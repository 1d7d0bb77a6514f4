// Command rssmap explains a Linux process's resident memory: VmRSS split
// into anonymous and file pages, the mappings that hold them, how much of
// each section of the executable is resident (from /proc/PID/pagemap),
// and which packages' code those resident pages hold.
//
// A resident page of the executable was not necessarily executed: the
// kernel maps the page-cache pages around a faulting address too (fault
// around, large folios), so a package's figure counts its code on pages
// that are resident for any reason, and the total depends on how the file
// entered the page cache (a copy made with cp, written with write(2),
// is mapped differently from the linker's output).
//
//	go run ./bench/serve/rssmap -pid PID [-top 40] [-by package|module]
package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	pid := flag.Int("pid", 0, "the process to explain")
	top := flag.Int("top", 40, "how many packages (or modules) to list")
	by := flag.String("by", "package", "group code by package or module")
	flag.Parse()
	if *pid <= 0 || (*by != "package" && *by != "module") {
		fmt.Fprintln(os.Stderr, "usage: rssmap -pid PID [-top N] [-by package|module]")
		os.Exit(2)
	}
	if err := run(os.Stdout, *pid, *top, *by); err != nil {
		fmt.Fprintln(os.Stderr, "rssmap:", err)
		os.Exit(1)
	}
}

type mapping struct {
	lo, hi uint64
	perm   string
	offset uint64
	path   string
	rssKB  int
}

func run(w io.Writer, pid, top int, by string) error {
	proc := fmt.Sprintf("/proc/%d/", pid)
	status, err := os.ReadFile(proc + "status")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "Rss") {
			fmt.Fprintln(w, strings.Join(strings.Fields(l), " "))
		}
	}
	exe, err := os.Readlink(proc + "exe")
	if err != nil {
		return err
	}
	maps, err := readSmaps(proc + "smaps")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nmappings with 64 KB or more resident (KB):")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, m := range maps {
		if m.rssKB < 64 {
			continue
		}
		what := m.path
		switch {
		case what == "":
			what = "[anonymous]"
			if m.hi-m.lo >= 4<<20 && m.lo >= 0xc000000000 {
				what = "[anonymous: Go heap arena]"
			}
		case what == exe:
			what = fmt.Sprintf("executable %s at file offset %#x", m.perm, m.offset)
		}
		fmt.Fprintf(tw, "%d\t of %d\t  %s\n", m.rssKB, (m.hi-m.lo)>>10, what)
	}
	tw.Flush()

	present, err := residentPages(proc+"pagemap", maps, exe)
	if err != nil {
		return err
	}
	f, err := elf.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(w, "\nsections of the executable, resident KB of KB:")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, s := range f.Sections {
		if s.Addr == 0 || s.Type == elf.SHT_NOBITS || s.Size < 64<<10 {
			continue
		}
		res, all := 0, 0
		for a := s.Addr &^ 4095; a < s.Addr+s.Size; a += 4096 {
			all++
			if present[a] {
				res++
			}
		}
		fmt.Fprintf(tw, "%d\t of %d\t  %s\n", res*4, all*4, s.Name)
	}
	tw.Flush()

	mods := modulePaths(exe)
	group := func(pkg string) string {
		if by == "package" {
			return pkg
		}
		best := ""
		for _, m := range mods {
			if (pkg == m || strings.HasPrefix(pkg, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		if best == "" {
			if first, _, _ := strings.Cut(pkg, "/"); !strings.Contains(first, ".") {
				return "std"
			}
			return "other"
		}
		return best
	}
	syms, err := f.Symbols()
	if err != nil {
		return err
	}
	type agg struct{ res, all uint64 }
	sums := map[string]*agg{}
	var totRes, totAll uint64
	text := f.Section(".text")
	for _, s := range syms {
		if text == nil || s.Size == 0 || elf.ST_TYPE(s.Info) != elf.STT_FUNC ||
			s.Value < text.Addr || s.Value >= text.Addr+text.Size {
			continue
		}
		a := sums[group(packageOf(s.Name))]
		if a == nil {
			a = &agg{}
			sums[group(packageOf(s.Name))] = a
		}
		for off := uint64(0); off < s.Size; {
			addr := s.Value + off
			end := min((addr&^4095)+4096, s.Value+s.Size)
			if present[addr&^4095] {
				a.res += end - addr
				totRes += end - addr
			}
			a.all += end - addr
			totAll += end - addr
			off = end - s.Value
		}
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if sums[names[i]].res != sums[names[j]].res {
			return sums[names[i]].res > sums[names[j]].res
		}
		return names[i] < names[j]
	})
	fmt.Fprintf(w, "\ncode (.text) by %s: %d %ss, %d KB of %d KB on resident pages; top %d:\n",
		by, len(names), by, totRes>>10, totAll>>10, min(top, len(names)))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	for i, n := range names {
		if i == top {
			break
		}
		fmt.Fprintf(tw, "%d\t of %d\t  %s\n", sums[n].res>>10, sums[n].all>>10, n)
	}
	return tw.Flush()
}

func readSmaps(path string) ([]mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && len(fs[1]) == 4 {
			lo, hi, _ := strings.Cut(fs[0], "-")
			m := mapping{perm: fs[1]}
			m.lo, _ = strconv.ParseUint(lo, 16, 64)
			m.hi, _ = strconv.ParseUint(hi, 16, 64)
			m.offset, _ = strconv.ParseUint(fs[2], 16, 64)
			if len(fs) >= 6 {
				m.path = fs[5]
			}
			out = append(out, m)
			continue
		}
		if len(fs) >= 2 && fs[0] == "Rss:" && len(out) > 0 {
			out[len(out)-1].rssKB, _ = strconv.Atoi(fs[1])
		}
	}
	return out, sc.Err()
}

// residentPages reads the present bit (63) of each page of the
// executable's mappings.
func residentPages(path string, maps []mapping, exe string) (map[uint64]bool, error) {
	pm, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer pm.Close()
	present := map[uint64]bool{}
	for _, m := range maps {
		if m.path != exe {
			continue
		}
		n := (m.hi - m.lo) / 4096
		buf := make([]byte, n*8)
		if _, err := pm.ReadAt(buf, int64(m.lo/4096*8)); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		for p := uint64(0); p < n; p++ {
			if binary.LittleEndian.Uint64(buf[p*8:])&(1<<63) != 0 {
				present[m.lo+p*4096] = true
			}
		}
	}
	return present, nil
}

// packageOf is the import path of a Go symbol: "k8s.io/api/core/v1.(*Pod).Reset"
// is k8s.io/api/core/v1.
func packageOf(sym string) string {
	sym, _, _ = strings.Cut(sym, "[")
	slash := strings.LastIndex(sym, "/")
	if dot := strings.Index(sym[slash+1:], "."); dot >= 0 {
		return sym[:slash+1+dot]
	}
	return sym
}

func modulePaths(exe string) []string {
	bi, err := buildinfo.ReadFile(exe)
	if err != nil {
		return nil
	}
	out := []string{bi.Main.Path}
	for _, d := range bi.Deps {
		out = append(out, d.Path)
	}
	return out
}
