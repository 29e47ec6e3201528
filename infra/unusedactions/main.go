// Command unusedactions reports, after a full test run that recorded AWS
// calls (make test sets AWSCALLS_DIR; infra/testenv stores each package's
// used actions there), every action a function's policy in template.yaml
// allows that no recorded call of that function used. Each must be removed
// or carry a comment on its line in template.yaml saying why it stays; an
// uncommented unused action fails the run.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	"identityservice/infra/iam"
	"identityservice/infra/testenv/awscalls"
)

func main() {
	dir := flag.String("dir", ".local/awscalls", "directory of the recorded used actions")
	tplPath := flag.String("template", "template.yaml", "the SAM template")
	flag.Parse()
	tpl, err := iam.LoadTemplate(*tplPath)
	if err != nil {
		fail(err)
	}
	unused, files, err := awscalls.Unused(tpl, *dir)
	if err != nil {
		fail(err)
	}
	if files == 0 {
		fail(fmt.Errorf("no recorded calls in %s: run the tests with AWSCALLS_DIR=%s first", *dir, *dir))
	}
	bad := 0
	var fns []string
	for fn := range unused {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	for _, fn := range fns {
		var actions []string
		for a := range unused[fn] {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		for _, a := range actions {
			why := unused[fn][a]
			if why == "" {
				bad++
				why = "NO COMMENT: remove it, or say on its line in template.yaml why it stays"
			}
			fmt.Printf("unused action %s %s: %s\n", fn, a, why)
		}
	}
	fmt.Printf("unused actions: %d (from the calls recorded by %d test packages)\n", countAll(unused), files)
	if bad > 0 {
		fail(fmt.Errorf("%d unused actions without a comment in template.yaml", bad))
	}
}

func countAll(m map[string]map[string]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "unusedactions:", err)
	os.Exit(1)
}
