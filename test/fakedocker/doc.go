// Package fakedocker stands in for the Docker daemon in tests, at the
// level every part of userdocker talks to it: the Engine API on a unix
// socket, through the real Docker client.
//
// A Daemon answers from an in-memory model of containers (with processes
// that print, read their stdin, take signals and exit), images and
// execs, records every call, and lets a test replace its answer to any
// operation (On), run something before or after one (Before, After), or
// let a container misbehave (a process that ignores SIGTERM, one nothing
// kills, a removal that fails or hangs). Start makes a socket that
// misbehaves as a whole: one that hangs, one that hangs up.
//
// Operations are named after the Docker client's methods:
// "ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerStart",
// "ContainerKill", "ContainerStop", "ContainerResize", "ContainerInspect",
// "ContainerRemove", "ContainerList", "ContainerLogs",
// "ContainerExecCreate", "ContainerExecStart" (detached),
// "ContainerExecAttach", "ContainerExecInspect", "ContainerExecResize",
// "ImageInspect", "ImagePull", "ImageList", "ImageLoad", "Info",
// "ServerVersion" and "Ping".
package fakedocker
