package main

import "testing"

func TestParseBench(t *testing.T) {
	out := "goos: linux\nBenchmarkLookupLoad/postgres/page-2   \t    5000\t    198809 ns/op\t 7.5 p50_ms\t 15.81 p99_ms\t 5030 req/s\t 4096 B/op\t 50 allocs/op\nPASS\n"
	b := parseBench(out)
	m, ok := b["BenchmarkLookupLoad/postgres/page"]
	if !ok || m["req/s"] != 5030 || m["p99_ms"] != 15.81 || m["ns/op"] != 198809 || m["allocs/op"] != 50 {
		t.Fatalf("parsed %v", b)
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{1234567: "1,234,567", 999.6: "1,000", 5000: "5,000", 1.5: "1.50", 68318.2: "68,318"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestIntakeRows(t *testing.T) {
	var rows []row
	intake(func(r row) { rows = append(rows, r) }, "throughput: 2000 messages of 5120 bytes appended in 3.969s, all committed in PostgreSQL after 6.977s: 287 msgs/s\n"+
		"latency APPEND→commit while idle, 50 messages: p50 512ms, p99 518ms, max 518ms\n"+
		"large message: 35 MB; RSS before 57 MB, peak 100 MB: peak growth 43 MB = 1.2× the message\n")
	if len(rows) != 3 || rows[0].met != "NO" || rows[1].met != "NO" || rows[2].met != "yes" || rows[1].latency != "p50 512ms / p99 518ms" {
		t.Fatalf("rows %+v", rows)
	}
}
