//go:build !bench

package main

// benchIntakeCommand is nil in the production binary: the intake benchmark
// links the test servers, so it is a separate build (bench.go, -tags bench).
var benchIntakeCommand func() command
