// Package label names the io.userdocker.* labels that userdocker puts on
// every container it creates. They are how the run, the listings, the GPU
// views and the Slurm epilog agree on whose a container is, which job it
// belongs to and what it was granted (DESIGN.md §3.5): the owner is
// compared by these labels, the epilog removes a job's containers by them.
//
// Users cannot set any io.userdocker.* label themselves, and images that
// carry one of another key are refused (internal/plan).
package label

// The keys.
const (
	Prefix = "io.userdocker."
	// UID is the owner's uid, in decimal: what ownership is checked by.
	UID = "io.userdocker.uid"
	// User is the owner's user name, for listings.
	User = "io.userdocker.user"
	// Job is the Slurm job the container belongs to; empty outside a job.
	Job = "io.userdocker.job"
	// GPUs are the granted GPU IDs, comma-separated; empty for none.
	GPUs = "io.userdocker.gpus"
	// Image is the image reference the user asked for, normalized: the
	// container is created from the checked image's ID, which is all the
	// daemon then shows as its image.
	Image = "io.userdocker.image"
	// Staging names the run's staging directory (the last element of
	// its path, under slurm.state_dir/mounts) when the container mounts
	// directories under run.mounts.user_roots; empty otherwise. The
	// sweep removes a staging directory once no container names it.
	Staging = "io.userdocker.staging"
	// Digest is the repository digest of the image the container runs
	// ("registry/name@sha256:…"), as the daemon knew it at the run: what
	// a tag named then, which the tag may no longer name. Empty for an
	// image that came from no registry (built or loaded here).
	Digest = "io.userdocker.image.digest"
)

// Own are the io.userdocker.* labels userdocker sets. Every container gets
// each of them, empty where it does not apply (no job, no GPUs): Docker
// adds the image's labels that the request lacks, so a key left out could
// be filled in by an image.
var Own = []string{UID, User, Job, GPUs, Image, Staging, Digest}
