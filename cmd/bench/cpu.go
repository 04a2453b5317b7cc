package main

import (
	"os"

	"github.com/prometheus/procfs"
)

// userHZ is the unit of a process's CPU times in /proc on Linux.
const userHZ = 100

// part names the processes a run's CPU time is told by: the API server, etcd,
// PostgreSQL (its backends included, the ones that exited too), the operator, and the
// benchmark itself (the floor's bare client, the operator run's harness).
func part(comm string, pid int) string {
	switch {
	case pid == os.Getpid():
		return "bench"
	case comm == "kube-apiserver", comm == "etcd", comm == "postgres":
		return comm
	case comm == "manager":
		return "operator"
	}
	return ""
}

// procCPU is a process's part and the CPU seconds it and its exited children used.
type procCPU struct {
	part    string
	seconds float64
}

// readCPU reads the CPU time of every process of a part, by process ID.
func readCPU() map[int]procCPU {
	out := map[int]procCPU{}
	procs, err := procfs.AllProcs()
	if err != nil {
		return out
	}
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue
		}
		if name := part(st.Comm, p.PID); name != "" {
			// An exited PostgreSQL backend's time moves to the postmaster's children.
			out[p.PID] = procCPU{name, st.CPUTime() + float64(st.CUTime+st.CSTime)/userHZ}
		}
	}
	return out
}

// cpuSince is the CPU seconds by part used since before.
func cpuSince(before map[int]procCPU) map[string]float64 {
	out := map[string]float64{}
	for pid, p := range readCPU() {
		out[p.part] += p.seconds - before[pid].seconds
	}
	return out
}
