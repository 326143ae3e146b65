//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/harness"
)

// ownImagesConfig is ownConfig with images of one's own on (for everyone,
// or, with group, only in an override for that group) and the image
// subcommands allowed.
func ownImagesConfig(group string) string {
	c := strings.Replace(ownConfig, `"rm", "kill", "wait", "exec"]`, `"rm", "kill", "wait", "exec", "inspect", "tag", "rmi"]`, 1)
	if group == "" {
		return strings.Replace(c, `pull = "never"`, "own_images = true\npull = \"never\"", 1)
	}
	return c + fmt.Sprintf("\n[[override]]\ngroup = %q\n[override.run]\nown_images = true\n", group)
}

// Tags of the own-images tests: alice's and bob's namespaces.
const (
	aliceNS = "local/" + alice + "/"
	bobNS   = "local/" + bob + "/"
)

// uniqueImage builds an image that no other test has (so that the daemon
// holds it under no other tag), returns its docker save, entry by entry,
// and its ID, and removes it from the daemon again.
func uniqueImage(t *testing.T) ([]tarItem, string) {
	t.Helper()
	tag := fmt.Sprintf("udtest-probe/unique:%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := harness.BuildImage(ctx, tag, "FROM "+testImage+"\nCOPY f /f\n",
		harness.File{Name: "f", Mode: 0o644, ModTime: time.Unix(1e9, 0), Data: []byte(tag)}); err != nil {
		t.Fatal(err)
	}
	entries, id := savedEntries(t, tag), imageID(tag)
	docker(t, "rmi", tag)
	if imageID(id) != "" {
		t.Fatalf("%s is still on the daemon under another name", id)
	}
	return entries, id
}

// refused fails the test unless r is a refusal (exit 125) whose stderr
// is want.
func refused(t *testing.T, what string, r result, want string) {
	t.Helper()
	if r.code != 125 || r.stderr != want {
		t.Errorf("%s: exit %d, stderr %q; want 125, %q", what, r.code, r.stderr, want)
	}
}

// TestOwnImages: alice loads an image into her own namespace, runs it,
// inspects it and removes it again (the daemon no longer has it); bob can
// neither run, inspect, remove, re-tag nor overwrite it, nor pull under
// her name; alice can neither load nor tag into bob's namespace nor over a
// site tag. After each refusal the daemon's tags point where they did.
func TestOwnImages(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownImagesConfig(""))
	entries, id := uniqueImage(t)
	mine, hers := aliceNS+"tool:1", aliceNS+"bb:1"
	bobsCopy, bobsNew := bobNS+"tool:1", bobNS+"new:1"
	t.Cleanup(func() { exec.Command("docker", "rmi", mine, hers, bobsCopy, bobsNew, id).Run() })
	siteID := imageID(testImage)

	r := ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(entries, mine)))
	if r.code != 0 || !strings.Contains(r.stdout, "Loaded image: "+mine) || imageID(mine) != id {
		t.Fatalf("alice's load: exit %d, stdout %q, stderr %q; %s is %q, want %s", r.code, r.stdout, r.stderr, mine, imageID(mine), id)
	}
	if r := ud(t, alice, nil, "run", "--rm", mine, "cat", "/f"); r.code != 0 || !strings.HasPrefix(r.stdout, "udtest-probe/unique:") {
		t.Fatalf("alice runs her image: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var inspected []struct{ Id string }
	if r := ud(t, alice, nil, "inspect", mine); r.code != 0 || json.Unmarshal([]byte(r.stdout), &inspected) != nil || len(inspected) != 1 || inspected[0].Id != id {
		t.Fatalf("alice inspects her image: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// What alice calls her images is hers: bob's listing does not show
	// them, however he asks; hers does.
	repo := strings.TrimSuffix(mine, ":1")
	for _, args := range [][]string{{"images"}, {"images", "-a", "--no-trunc"}, {"images", repo}, {"images", "--filter", "reference=" + aliceNS + "*"}, {"images", "-q", repo}, {"images", "--tree"}} {
		if r := ud(t, bob, nil, args...); r.code != 0 || strings.Contains(r.stdout, aliceNS) || args[len(args)-1] == repo && strings.Contains(r.stdout, id[7:19]) {
			t.Errorf("bob's %q: exit %d, stdout %q, stderr %q; want alice's images hidden", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := ud(t, alice, nil, "images", repo); r.code != 0 || !strings.Contains(r.stdout, aliceNS+"tool") {
		t.Errorf("alice's images %s: exit %d, stdout %q, stderr %q; want her image", repo, r.code, r.stdout, r.stderr)
	}

	t.Run("bob", func(t *testing.T) {
		before := len(containersOf(t, bob))
		refused(t, "run", ud(t, bob, nil, "run", "--rm", mine, "true"),
			"userdocker: image docker.io/"+mine+" is not allowed: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may run it\n")
		if n := len(containersOf(t, bob)); n != before {
			t.Errorf("bob has %d containers after the refused run, %d before", n, before)
		}
		if r := ud(t, bob, nil, "inspect", "--type", "image", mine); r.code != 1 || r.stdout != "[]\n" || r.stderr != "userdocker: inspect: image docker.io/"+mine+": it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may run it; inspect shows only images you may run\n" {
			t.Errorf("inspect: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if r := ud(t, bob, nil, "rmi", mine); r.code != 1 || r.stderr != "userdocker: rmi: docker.io/"+mine+" is refused: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may remove it\n" {
			t.Errorf("rmi: exit %d, stderr %q", r.code, r.stderr)
		}
		refused(t, "tag over hers", ud(t, bob, nil, "tag", testImage, mine),
			"userdocker: tag: docker.io/"+mine+" is refused: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may tag into it\n")
		refused(t, "tag hers as his", ud(t, bob, nil, "tag", mine, bobsCopy),
			"userdocker: tag: image docker.io/"+mine+" cannot be tagged: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may run it; only images you may run can be tagged\n")
		refused(t, "load over hers", ud(t, bob, nil, "load", "-i", hijackArchive(t, mine)),
			"userdocker: load: tag docker.io/"+mine+" is refused: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may load into it\n")
		if got := imageID(mine); got != id {
			t.Errorf("%s is %q after bob's attempts, want %s", mine, got, id)
		}
		if got := imageID(bobsCopy); got != "" {
			t.Errorf("bob got %s (%s)", bobsCopy, got)
		}
	})

	t.Run("alice outside her namespace", func(t *testing.T) {
		refused(t, "tag into bob's", ud(t, alice, nil, "tag", mine, bobsNew),
			"userdocker: tag: docker.io/"+bobsNew+" is refused: it is in the image namespace of user "+bob+" ("+bobNS+"): only they may tag into it\n")
		refused(t, "load into bob's", ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(entries, bobsNew))),
			"userdocker: load: tag docker.io/"+bobsNew+" is refused: it is in the image namespace of user "+bob+" ("+bobNS+"): only they may load into it\n")
		refused(t, "tag over a site tag", ud(t, alice, nil, "tag", mine, testImage),
			"userdocker: tag: docker.io/"+testImage+" is refused: you may tag only into your own image namespace "+aliceNS+" (as "+aliceNS+"NAME:TAG)\n")
		refused(t, "load over a site tag", ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(entries, testImage))),
			"userdocker: load: tag docker.io/"+testImage+" is refused: you may load only into your own image namespace "+aliceNS+" (as "+aliceNS+"NAME:TAG)\n")
		if r := ud(t, alice, nil, "rmi", testImage); r.code != 1 || r.stderr != "userdocker: rmi: docker.io/"+testImage+" is not in your own image namespace "+aliceNS+": rmi removes only your own tags\n" {
			t.Errorf("rmi of a site tag: exit %d, stderr %q", r.code, r.stderr)
		}
		if got := imageID(testImage); got != siteID {
			t.Errorf("%s is %q after alice's attempts, want %s", testImage, got, siteID)
		}
		if got := imageID(bobsNew); got != "" {
			t.Errorf("alice made %s (%s)", bobsNew, got)
		}
	})

	t.Run("rmi untags what others still name", func(t *testing.T) {
		// A site image under her name: rmi takes her tag, never the image.
		if r := ud(t, alice, nil, "tag", testImage, hers); r.code != 0 || imageID(hers) != siteID {
			t.Fatalf("alice tags %s as %s: exit %d, %q; it is %q", testImage, hers, r.code, r.stderr, imageID(hers))
		}
		if r := ud(t, alice, nil, "rmi", hers); r.code != 0 || r.stdout != "Untagged: "+hers+"\n" {
			t.Errorf("alice's rmi %s: exit %d, stdout %q, stderr %q", hers, r.code, r.stdout, r.stderr)
		}
		if imageID(hers) != "" || imageID(testImage) != siteID {
			t.Errorf("after the rmi: %s is %q, %s is %q; want gone and %s", hers, imageID(hers), testImage, imageID(testImage), siteID)
		}
		// Her image under bob's name too (he loaded the same archive):
		// her rmi leaves it to him.
		if r := ud(t, bob, nil, "load", "-i", writeArchive(t, withTags(entries, bobsCopy))); r.code != 0 || imageID(bobsCopy) != id {
			t.Fatalf("bob loads the same image: exit %d, %q", r.code, r.stderr)
		}
		if r := ud(t, alice, nil, "rmi", mine); r.code != 0 || r.stdout != "Untagged: "+mine+"\n" {
			t.Errorf("alice's rmi %s: exit %d, stdout %q, stderr %q", mine, r.code, r.stdout, r.stderr)
		}
		if imageID(mine) != "" || imageID(bobsCopy) != id {
			t.Errorf("after alice's rmi: %s is %q, %s is %q; want gone and %s", mine, imageID(mine), bobsCopy, imageID(bobsCopy), id)
		}
		// His was the last tag: his rmi deletes the image.
		if r := ud(t, bob, nil, "rmi", bobsCopy); r.code != 0 || !strings.Contains(r.stdout, "Untagged: "+bobsCopy+"\n") || !strings.Contains(r.stdout, "Deleted: "+id+"\n") {
			t.Errorf("bob's rmi %s: exit %d, stdout %q, stderr %q", bobsCopy, r.code, r.stdout, r.stderr)
		}
		if imageID(id) != "" {
			t.Errorf("%s is still on the daemon after its last tag went", id)
		}
	})

	t.Run("never pulled", func(t *testing.T) {
		writeConfig(t, strings.Replace(ownImagesConfig(""), `pull = "never"`, `pull = "always"`, 1))
		refused(t, "bob pulls hers", ud(t, bob, nil, "pull", mine),
			"userdocker: image docker.io/"+mine+" is not pulled: names under local/ are users' own images, made on this node by load or tag, never pulled\n")
		refused(t, "alice runs hers, gone", ud(t, alice, nil, "run", "--rm", mine, "true"),
			"userdocker: image docker.io/"+mine+" is not on node "+hostname(t)+": images of your own are never pulled; load or tag it on this node first\n")
		if got := imageID(mine); got != "" {
			t.Errorf("%s came back: %s", mine, got)
		}
	})
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestOwnImagesPrePlanted: where images of one's own are on only for a
// group (alice's), bob, outside it, still cannot put an image into her
// namespace, by load or tag, nor run one of hers; before this rule, a
// tag no pattern of bob's allowed and that did not exist loaded.
func TestOwnImagesPrePlanted(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownImagesConfig("udtest-gpu"))
	planted := aliceNS + "planted:1"
	t.Cleanup(func() { exec.Command("docker", "rmi", planted).Run() })
	refused(t, "bob's load", ud(t, bob, nil, "load", "-i", hijackArchive(t, planted)),
		"userdocker: load: tag docker.io/"+planted+" is refused: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may load into it\n")
	refused(t, "bob's tag", ud(t, bob, nil, "tag", testImage, planted),
		"userdocker: \"tag\" is not allowed on this system: it tags into your own image namespace (local/USER/), which this system does not enable (run.own_images)\n")
	refused(t, "bob's own namespace", ud(t, bob, nil, "load", "-i", hijackArchive(t, bobNS+"x:1")),
		"userdocker: load: tag docker.io/"+bobNS+"x:1 is refused: it is in your own image namespace "+bobNS+", which this system does not enable (run.own_images)\n")
	if got := imageID(planted); got != "" {
		t.Fatalf("bob planted %s (%s)", planted, got)
	}
	// Planted by root (the one way in): alice's, and bob still may not run it.
	docker(t, "tag", deniedImage, planted)
	refused(t, "bob's run", ud(t, bob, nil, "run", "--rm", planted, "true"),
		"userdocker: image docker.io/"+planted+" is not allowed: it is in the image namespace of user "+alice+" ("+aliceNS+"): only they may run it\n")
	if r := ud(t, alice, nil, "run", "--rm", planted, "echo", "ok"); r.code != 0 || r.stdout != "ok\n" {
		t.Errorf("alice's run of %s: exit %d, stdout %q, stderr %q", planted, r.code, r.stdout, r.stderr)
	}
}

// TestInspectAndNotOffered: inspect shows alice's own container and not
// bob's; a docker command userdocker does not offer says so.
func TestInspectAndNotOffered(t *testing.T) {
	requireSetup(t)
	writeConfig(t, ownImagesConfig(""))
	id := startAs(t, alice, testImage, "sleep", "60")
	r := ud(t, alice, nil, "inspect", "--format", "{{.Id}} {{.Config.User}}", id[:12])
	if want := id + " " + uidOf(t, alice) + ":"; r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("alice inspects her container: exit %d, stdout %q, stderr %q; want %q…", r.code, r.stdout, r.stderr, want)
	}
	if r := ud(t, bob, nil, "inspect", "--type", "container", id); r.code != 1 || r.stdout != "[]\n" || r.stderr != "userdocker: no container "+id+" of yours\n" {
		t.Errorf("bob inspects alice's container: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	refused(t, "cp", ud(t, alice, nil, "cp", id+":/etc/passwd", "/tmp/x"),
		"userdocker: \"cp\" is not available through userdocker: mount a directory with -v to share files with a container\n")
	refused(t, "commit", ud(t, alice, nil, "commit", id, aliceNS+"c:1"),
		"userdocker: \"commit\" is not available through userdocker: 'userdocker -h' lists what you may use\n")
	if got := imageID(aliceNS + "c:1"); got != "" {
		t.Errorf("commit made %s", got)
	}
}

// udOnNode2 runs `sudo -n userdocker ARGS` as who on vm2, as a job step of
// vm2 would (its mount and UTS namespaces, the host's network).
func udOnNode2(t *testing.T, who string, args ...string) result {
	t.Helper()
	u, err := user.Lookup(who)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", append([]string{"--mount=" + node2MountNS, "--uts=" + node2UTSNS, "--",
		"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "sudo", "-n", testBinary}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + u.HomeDir, "LANG=C"}
	return collect(t, cmd)
}

// TestOwnImagesNeverPulled: local/… is a name on Docker Hub, where anyone
// may publish. Here someone did (pushed to the registry behind vm2's Hub
// mirror), and plain docker on vm2 pulls it; through userdocker on vm2,
// alice's run of that name and bob's pull of it are refused, the run
// naming the node, and neither asks the mirror for it: vm2's daemon does
// not have it afterwards.
func TestOwnImagesNeverPulled(t *testing.T) {
	requireNode2(t)
	writeConfig(t, strings.Replace(ownImagesConfig(""), `pull = "never"`, `pull = "missing"`, 1))
	published := aliceNS + "published:1"
	pushed := registryAddr + "/" + published
	docker(t, "tag", deniedImage, pushed)
	t.Cleanup(func() {
		exec.Command("docker", "-H", "unix://"+node2Socket, "rmi", published).Run()
		// The registries' copies: nothing else is under local/ there.
		for _, dir := range []string{"/var/lib/userdocker-test/registry", "/var/lib/userdocker-test/registry-mirror"} {
			os.RemoveAll(dir + "/docker/registry/v2/repositories/local")
		}
	})
	out, err := exec.Command("docker", "push", pushed).CombinedOutput()
	exec.Command("docker", "rmi", pushed).Run()
	if err != nil {
		t.Fatalf("docker push %s: %v\n%s", pushed, err, out)
	}
	asked := "/v2/local/" + alice + "/published/"
	before := logLines(t, mirrorLog, asked) // from earlier runs of this test
	r := udOnNode2(t, alice, "run", "--rm", published, "true")
	refused(t, "alice's run on vm2", r,
		"userdocker: image docker.io/"+published+" is not on node "+node2+": images of your own are never pulled; load or tag it on this node first\n")
	refused(t, "bob's pull on vm2", udOnNode2(t, bob, "pull", published),
		"userdocker: image docker.io/"+published+" is not pulled: names under local/ are users' own images, made on this node by load or tag, never pulled\n")
	if n := logLines(t, mirrorLog, asked) - before; n != 0 {
		t.Errorf("the mirror was asked for %s %d times", asked, n)
	}
	if id := imageIDOn(node2Socket, published); id != "" {
		t.Errorf("vm2 has %s: %s", published, id)
	}
	// The attack is real: plain docker on vm2 pulls the name through the mirror.
	if out, err := onNode2(t, false, "docker", "pull", published); err != nil {
		t.Fatalf("plain docker pull %s on vm2: %v\n%s; the name no longer reaches the mirror", published, err, out)
	}
	if id, want := imageIDOn(node2Socket, published), imageID(deniedImage); id != want {
		t.Errorf("plain docker pull on vm2 gave %s %q, want %s", published, id, want)
	}
	if n := waitLogLines(t, mirrorLog, asked, before+1) - before; n == 0 {
		t.Errorf("the mirror's log has no request for %s after plain docker's pull: the count above proves nothing", asked)
	}
}

// imageIDOn is imageID on the daemon at socket.
func imageIDOn(socket, ref string) string {
	out, err := exec.Command("docker", "-H", "unix://"+socket, "image", "inspect", "--format", "{{.Id}}", ref).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
