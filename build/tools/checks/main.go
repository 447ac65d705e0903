// Command checks holds the small assertions that build/check.sh and
// build/windows/smoke-wine.sh need and that shell tools do badly:
//
//	checks pe -arch amd64|arm64 FILE.exe   PE32+ GUI exe with icon, manifest and version resources
//	checks plist FILE                      well-formed Info.plist with the keys the bundle needs
//	checks freeport                        prints a free TCP port on 127.0.0.1
//	checks http [flags] URL                polls URL until it gives the expected answer
//
// Every subcommand exits non-zero with a message on failure.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "pe":
		err = cmdPE(os.Args[2:])
	case "plist":
		err = cmdPlist(os.Args[2:])
	case "freeport":
		err = cmdFreePort()
	case "http":
		err = cmdHTTP(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "checks %s: FAIL: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: checks pe|plist|freeport|http ...")
	os.Exit(2)
}
