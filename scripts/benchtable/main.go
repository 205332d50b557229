// Command benchtable reruns every benchmark of mesa (make bench) and writes
// one table of the results, with the machine they ran on, into
// docs/BENCHMARKS.md between the markers below; the sections after the
// table explain each figure. It exits 1 when a command fails, after writing
// the table; a missed target is a NO in the table and a line on stderr, not
// a failure (some have a known floor, such as Dovecot's IDLE latency).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	docPath = "docs/BENCHMARKS.md"
	begin   = "<!-- make bench: begin -->"
	end     = "<!-- make bench: end -->"
)

// row is one line of the table.
type row struct {
	name, throughput, latency, memory, target string
	met                                       string // yes, NO, or "—" without a target
}

func main() {
	var rows []row
	var cmds []string
	failed := false
	add := func(r row) {
		rows = append(rows, r)
		if r.met == "NO" {
			fmt.Fprintf(os.Stderr, "benchtable: target missed: %s: %s %s (target %s)\n", r.name, r.throughput, r.latency, r.target)
		}
	}
	// run executes one command, echoing its output, and returns it.
	run := func(argv ...string) string {
		cmds = append(cmds, strings.Join(argv, " "))
		fmt.Fprintf(os.Stderr, "$ %s\n", strings.Join(argv, " "))
		var buf bytes.Buffer
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout = io.MultiWriter(os.Stdout, &buf)
		cmd.Stderr = io.MultiWriter(os.Stderr, &buf)
		if err := cmd.Run(); err != nil {
			failed = true
			add(row{name: "`" + strings.Join(argv, " ") + "`", throughput: "failed: " + err.Error(), met: "NO"})
		}
		return buf.String()
	}
	gobench := func(pkg, pattern string, extra ...string) map[string]map[string]float64 {
		argv := append([]string{"go", "test", "-run", "^$", "-bench", pattern, "-benchmem"}, extra...)
		return parseBench(run(append(argv, pkg)...))
	}

	// The daemon's engine (no explanations); BENCHMARKS.md's section has
	// BenchmarkClassify, with them, beside it.
	b := gobench("./rules", "^BenchmarkClassifyDaemon$")
	perSecond(add, b, "BenchmarkClassifyDaemon", "Classification, daemon engine (rules)", "msgs/s per core", 20000)
	b = gobench("./sla", "^BenchmarkDue$")
	perSecond(add, b, "BenchmarkDue", "SLA due time (sla)", "calls/s", 1e6)
	b = gobench("./mailin", "^BenchmarkParse")
	perSecond(add, b, "BenchmarkParse5KB", "MIME parsing, 5 KB Outlook mail (mailin)", "msgs/s per core", 5000)
	perSecond(add, b, "BenchmarkParseCorpus", "MIME parsing, 60-mail corpus (mailin)", "msgs/s per core", 0)
	b = gobench("./mailout", "^BenchmarkOutbox$", "-benchtime", "5000x")
	if m, ok := b["BenchmarkOutbox"]; ok {
		add(row{name: "Outbox to a local SMTP sink (mailout)", throughput: fmt.Sprintf("%s mails/s", num(m["mails/s"])),
			latency: fmt.Sprintf("%s µs/mail", num(m["ns/op"]/1e3)), memory: mem(m), target: "≥ 200 mails/s", met: yes(m["mails/s"] >= 200)})
	}
	b = gobench("./web", "^BenchmarkLookupLoad$", "-benchtime", "5000x")
	for _, k := range []string{"sqlite/page", "sqlite/api", "postgres/page", "postgres/api"} {
		m, ok := b["BenchmarkLookupLoad/"+k]
		if !ok {
			continue
		}
		add(row{name: "Status " + strings.Replace(k, "/", " ", 1) + ", 32 clients (web)", throughput: fmt.Sprintf("%s req/s", num(m["req/s"])),
			latency: fmt.Sprintf("p50 %.1f ms / p99 %.1f ms", m["p50_ms"], m["p99_ms"]), memory: mem(m),
			target: "≥ 5,000 req/s, p99 ≤ 20 ms", met: yes(m["req/s"] >= 5000 && m["p99_ms"] <= 20)})
	}
	b = gobench("./desk", "^BenchmarkSLAWatch$", "-benchtime", "20x")
	if m, ok := b["BenchmarkSLAWatch"]; ok {
		add(row{name: "SLA watch, 1,000,000 tickets in PostgreSQL (desk)", throughput: "50 alerts per run",
			latency: fmt.Sprintf("%.1f ms/run (%.1f ms when nothing is due)", m["ms/run"], m["quiet_ms/run"]), memory: mem(m),
			target: "≤ 200 ms per run", met: yes(m["ms/run"] > 0 && m["ms/run"] <= 200)})
	}
	out := run("bin/mesa-bench", "bench", "intake", "--messages", "2000", "--latency", "50") // built by make bench
	intake(add, out)
	out = run("bin/mesa", "rules", "test", "--json", "rules/testdata/corpus")
	if m := accuracyRE.FindStringSubmatch(out); m != nil {
		cat, _ := strconv.ParseFloat(m[2], 64)
		typ, _ := strconv.ParseFloat(m[3], 64)
		crit, _ := strconv.ParseFloat(m[4], 64)
		add(row{name: "Classification accuracy, " + m[1] + " mails of the frozen test split (rules + model)",
			throughput: fmt.Sprintf("category %.1f %%, type %.1f %%, criticidad %.1f %%", cat, typ, crit),
			latency:    "—", memory: "—", target: "≥ 90 %, 90 %, 80 %", met: yes(cat >= 90 && typ >= 90 && crit >= 80)})
	}

	if err := write(rows, cmds); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "benchtable: %d rows written to %s\n", len(rows), docPath)
	if failed {
		fmt.Fprintln(os.Stderr, "benchtable: a command failed (see the table)")
		os.Exit(1)
	}
}

var (
	benchLineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)
	accuracyRE  = regexp.MustCompile(`accuracy test\s+(\d+) messages: category\s+([\d.]+) %, type\s+([\d.]+) %, criticidad\s+([\d.]+) %`)
	throughRE   = regexp.MustCompile(`throughput: .*: (\d+) msgs/s`)
	latencyRE   = regexp.MustCompile(`latency .*: p50 (\S+), p99 (\S+), max`)
	largeRE     = regexp.MustCompile(`large message: (\d+) MB; .*peak growth (\d+) MB = ([\d.]+)×`)
)

// parseBench reads `go test -bench` output: each benchmark's values by unit.
func parseBench(out string) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		vals := map[string]float64{}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				vals[f[i+1]] = v
			}
		}
		res[m[1]] = vals
	}
	return res
}

// perSecond adds the row of a one-op-per-item benchmark; target 0: none.
func perSecond(add func(row), b map[string]map[string]float64, bench, name, unit string, target float64) {
	m, ok := b[bench]
	if !ok || m["ns/op"] == 0 {
		add(row{name: name, throughput: "no result (see the output above)", met: "NO"})
		return
	}
	rate := 1e9 / m["ns/op"]
	r := row{name: name, throughput: fmt.Sprintf("%s %s", num(rate), unit), memory: mem(m), target: "—", met: "—"}
	if m["ns/op"] >= 1e3 {
		r.latency = fmt.Sprintf("%.1f µs/op", m["ns/op"]/1e3)
	} else {
		r.latency = fmt.Sprintf("%.0f ns/op", m["ns/op"])
	}
	if target > 0 {
		r.target, r.met = "≥ "+num(target)+" "+strings.TrimSuffix(unit, " per core"), yes(rate >= target)
	}
	add(r)
}

// intake adds the rows of `mesa bench` (intake through Dovecot and
// PostgreSQL).
func intake(add func(row), out string) {
	if m := throughRE.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		add(row{name: "Intake, Dovecot → PostgreSQL, 2,000 mails (mesa bench)", throughput: m[1] + " msgs/s", latency: "—", memory: "—",
			target: "≥ 300 msgs/s", met: yes(v >= 300)})
	}
	if m := latencyRE.FindStringSubmatch(out); m != nil {
		p50, _ := time.ParseDuration(m[1])
		p99, _ := time.ParseDuration(m[2])
		add(row{name: "Intake latency APPEND → commit while idle (mesa bench)", throughput: "—", latency: "p50 " + m[1] + " / p99 " + m[2], memory: "—",
			target: "p50 ≤ 200 ms, p99 ≤ 1 s", met: yes(p50 <= 200*time.Millisecond && p99 <= time.Second)})
	}
	if m := largeRE.FindStringSubmatch(out); m != nil {
		x, _ := strconv.ParseFloat(m[3], 64)
		add(row{name: "Peak memory for a " + m[1] + " MB mail (mesa bench)", throughput: "—", latency: "—", memory: "+" + m[2] + " MB RSS = " + m[3] + "×",
			target: "≤ 2× the message", met: yes(x <= 2)})
	}
}

func mem(m map[string]float64) string {
	if _, ok := m["B/op"]; !ok {
		return "—"
	}
	return fmt.Sprintf("%s B/op, %s allocs/op", num(m["B/op"]), num(m["allocs/op"]))
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// num prints a number with thousands separators and no decimals, or with
// two significant decimals under 10.
func num(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// machine describes where the benchmarks ran.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			cpu = string(m[1])
		}
	}
	memGiB := 0.0
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			memGiB = kb / (1 << 20)
		}
	}
	osName := runtime.GOOS
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := regexp.MustCompile(`(?m)^PRETTY_NAME="?([^"\n]+)"?`).FindSubmatch(b); m != nil {
			osName = string(m[1])
		}
	}
	gover, _ := exec.Command("go", "env", "GOVERSION").Output()
	return fmt.Sprintf("%d × %s, %.0f GiB RAM, %s, %s %s/%s", runtime.NumCPU(), cpu, memGiB, osName,
		strings.TrimSpace(string(gover)), runtime.GOOS, runtime.GOARCH)
}

func write(rows []row, cmds []string) error {
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## All benchmarks (`make bench`)\n\nLast run %s, commit `%s`, on %s.\n\n",
		begin, time.Now().UTC().Format("2006-01-02 15:04 MST"), strings.TrimSpace(string(commit)), machine())
	b.WriteString("| Benchmark | Throughput | Latency | Memory | Target | Met |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.name, dash(r.throughput), dash(r.latency), dash(r.memory), dash(r.target), dash(r.met))
	}
	b.WriteString("\nCommands, in order:\n\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "- `%s`\n", c)
	}
	b.WriteString(end)
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	s := string(doc)
	if i, j := strings.Index(s, begin), strings.Index(s, end); i >= 0 && j > i {
		s = s[:i] + b.String() + s[j+len(end):]
	} else if k := strings.Index(s, "\n## "); k >= 0 {
		s = s[:k+1] + b.String() + "\n\n" + s[k+1:]
	} else {
		s += "\n" + b.String() + "\n"
	}
	return os.WriteFile(docPath, []byte(s), 0o644)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
