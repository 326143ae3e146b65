package gpuuse

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Row is one line of the --gpu-used and --gpu-mine tables.
type Row struct {
	GPU       string // Unit.Name, or the GPU's index for a whole GPU in MIG mode
	UUID      string
	Memory    string // "1536MiB"; "-" for a hold without processes
	Container string // short ID, "host" for processes outside containers, "-" for none
	User      string
	Job       string
	uid       string
}

// FreeRow is one line of the --gpu-free table.
type FreeRow struct {
	GPU    string
	UUID   string
	Model  string
	Memory string // total memory
}

// Used lists, per GPU or MIG device, each container (or the host) running
// compute processes on it, with the memory they use together and the
// owner and job from the container's labels. Rows follow NVML order.
func Used(s Snapshot) []Row {
	var rows []Row
	for _, d := range s.ordered() {
		mem := map[string]uint64{}
		var order []string
		for _, p := range s.Processes[d.uuid] {
			c, ok := s.ContainerOf[p.PID]
			if !ok {
				c = ""
			}
			if _, seen := mem[c]; !seen {
				order = append(order, c)
			}
			mem[c] += p.UsedMemoryMiB
		}
		for _, c := range order {
			r := Row{GPU: d.name, UUID: d.uuid, Memory: mib(mem[c]), Container: "host", User: "-", Job: "-"}
			if c != "" {
				info := s.Containers[c]
				r.Container, r.User, r.Job, r.uid = short(c), orDash(info.User), orDash(info.Job), info.UID
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// Mine lists what the user with uid holds or uses: the rows of Used whose
// container is theirs, then their job allocations, reservations and
// containers' grants that have no such row.
func Mine(s Snapshot, uid uint32) []Row {
	want := strconv.FormatUint(uint64(uid), 10)
	var rows []Row
	covered := map[[2]string]bool{}
	for _, r := range Used(s) {
		if r.uid == want {
			rows = append(rows, r)
			covered[[2]string{r.UUID, r.Container}] = true
		}
	}
	names := s.names()
	for _, h := range s.AllHolds() {
		if h.UID != want {
			continue
		}
		c := "-"
		if h.Container != "" {
			c = short(h.Container)
		}
		if covered[[2]string{h.UUID, c}] {
			continue
		}
		covered[[2]string{h.UUID, c}] = true
		rows = append(rows, Row{GPU: orDash(names[h.UUID]), UUID: h.UUID, Memory: "-", Container: c,
			User: orDash(h.User), Job: orDash(h.Job), uid: h.UID})
	}
	return rows
}

// Free lists the units that no job, reservation or active container holds
// and no process runs on.
func Free(s Snapshot) []FreeRow {
	busy := s.Busy()
	var rows []FreeRow
	for _, u := range Units(s.Devices) {
		if _, b := busy[u.UUID]; !b {
			rows = append(rows, FreeRow{GPU: u.Name, UUID: u.UUID, Model: u.Model, Memory: mib(u.MemoryTotalMiB)})
		}
	}
	return rows
}

type named struct{ name, uuid string }

// ordered lists every GPU and MIG device with its display name, in NVML
// order, each GPU before its MIG devices.
func (s Snapshot) ordered() []named {
	var out []named
	for _, d := range s.Devices {
		idx := strconv.Itoa(d.Index)
		out = append(out, named{idx, d.UUID})
		for _, m := range d.MIG {
			out = append(out, named{idx + ":" + strconv.Itoa(m.Index), m.UUID})
		}
	}
	return out
}

func (s Snapshot) names() map[string]string {
	out := map[string]string{}
	for _, n := range s.ordered() {
		out[n.uuid] = n.name
	}
	return out
}

func mib(n uint64) string { return strconv.FormatUint(n, 10) + "MiB" }

// WriteRows renders rows as the --gpu-used / --gpu-mine table.
func WriteRows(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "GPU\tUUID\tMEMORY USED\tCONTAINER\tUSER\tJOB")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.GPU, r.UUID, r.Memory, r.Container, r.User, r.Job)
	}
	return tw.Flush()
}

// WriteFree renders rows as the --gpu-free table.
func WriteFree(w io.Writer, rows []FreeRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "GPU\tUUID\tMODEL\tMEMORY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.GPU, r.UUID, r.Model, r.Memory)
	}
	return tw.Flush()
}
