package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/internal/demo"
)

// TestDemo starts the demo, looks up a seeded ticket, writes a mail through
// the demo page and finds its ticket on the status page.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- runDemo(ctx, &env{cfg: config.Default(), stdout: &out, stderr: &errs, now: time.Now}, "127.0.0.1:0", ready)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("demo ended: %v\n%s", err, errs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("demo not ready after 60 s\n%s", errs.String())
	}
	t.Logf("demo ready in %s", time.Since(start).Round(time.Millisecond))
	links := regexp.MustCompile(`http://\S+/t/MS-\d{4}-\d{6}\?clave=\S+`).FindAllString(out.String(), -1)
	if len(links) != len(demo.Seed) {
		t.Fatalf("got %d ticket links, want %d:\n%s", len(links), len(demo.Seed), out.String())
	}
	body := get(t, links[0])
	if !strings.Contains(body, "MS-") || !strings.Contains(body, "Historial") {
		t.Errorf("seeded ticket page:\n%s", body)
	}
	// A newcomer writes as an employee through the demo page.
	resp, err := http.PostForm(base+"/demo/enviar", url.Values{"de": {"nuevo.empleado"}, "asunto": {"El wifi no funciona"},
		"mensaje": {"En la sala 3 no hay wifi desde la mañana."}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var link string
	for deadline := time.Now().Add(30 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		page := get(t, base+"/demo?de=nuevo.empleado")
		if m := regexp.MustCompile(`http://\S+/t/MS-\d{4}-\d{6}\?clave=[a-z0-9]+`).FindString(page); m != "" {
			link = m
		}
	}
	if link == "" {
		t.Fatal("the acknowledgement never reached the employee's demo mailbox")
	}
	if page := get(t, strings.Replace(link, regexp.MustCompile(`http://[^/]+`).FindString(link), base, 1)); !strings.Contains(page, "El wifi no funciona") {
		t.Errorf("status page of the new ticket:\n%s", page)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && err != context.Canceled {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
