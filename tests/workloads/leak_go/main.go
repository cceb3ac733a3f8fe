// Leaks COUNT blocks of KIB KiB each and keeps them, then says "leaked N"
// and waits to be killed (or exits with -x); -w: waits for SIGUSR1 before
// starting (attach a tracer first), as the C workloads do.
// usage: leak_go heap|mmap COUNT KIB [-w] [-x]
//
//	leak_go sock COUNT PORT [-w] [-x]
//
//	heap: slices from leakChunk (the Go heap grows: the runtime maps
//	      more arena, a few MiB at a time, and the pages are first
//	      touched by the runtime clearing them, under leakChunk)
//	mmap: anonymous mappings from leakMapping, written (syscall.Mmap
//	      is called through a variable: inlined, its lines would be
//	      leakMapping's, and the pc-line table does not expand inlining)
//	sock: TCP connections to 127.0.0.1:PORT from leakConn (net.Dial),
//	      kept open
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

var kept [][]byte

var mmap = syscall.Mmap

var conns []net.Conn

//go:noinline
func leakChunk(kib int) []byte {
	b := make([]byte, kib*1024)
	// Used, as leaked data is: its pages resident, not just reserved.
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

//go:noinline
func leakMapping(kib int) []byte {
	b, err := mmap(-1, 0, kib*1024, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		os.Exit(1)
	}
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

//go:noinline
func leakConn(port int) []byte {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		os.Exit(1)
	}
	conns = append(conns, c)
	return nil
}

func main() {
	if len(os.Args) < 4 {
		os.Exit(2)
	}
	count, _ := strconv.Atoi(os.Args[2])
	kib, _ := strconv.Atoi(os.Args[3])
	wait, quit := false, false
	for _, a := range os.Args[4:] {
		wait = wait || a == "-w"
		quit = quit || a == "-x"
	}
	if wait {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		<-usr1
	}
	leak := leakChunk
	switch os.Args[1] {
	case "mmap":
		leak = leakMapping
	case "sock":
		leak = leakConn
	}
	kept = make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		kept = append(kept, leak(kib))
	}
	fmt.Printf("leaked %d\n", count)
	if quit {
		return
	}
	for {
		time.Sleep(time.Hour)
	}
}
