// Benchmark peer: go-gitlab (Debian golang-github-xanzy-go-gitlab-dev).
//
// Natural configuration: gitlab.NewClient with WithBaseURL and nothing else,
// which gives go-gitlab's pooled keep-alive transport, its retrying client and
// its rate limiter (unlimited here: the server sends no RateLimit-* headers).
//
// usage: gogitlab w1|w2|w3 http://127.0.0.1:PORT
// prints: "<seconds> <count> <checksum>" (checksum: sum of ids or iids)
package main

import (
	"fmt"
	"os"
	"time"

	gitlab "github.com/xanzy/go-gitlab"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gogitlab w1|w2|w3 URL")
		os.Exit(2)
	}
	start := time.Now()
	gl, err := gitlab.NewClient("glpat-bench", gitlab.WithBaseURL(os.Args[2]+"/api/v4"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	count, sum := 0, 0
	switch os.Args[1] {
	case "w1":
		for i := 0; i < 2000; i++ {
			p, _, err := gl.Projects.GetProject(1, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			count++
			sum += p.ID
		}
	default:
		// go-gitlab's documented way to list everything: loop on NextPage
		opt := &gitlab.ListProjectIssuesOptions{
			ListOptions: gitlab.ListOptions{PerPage: 100, Page: 1},
		}
		for {
			issues, resp, err := gl.Issues.ListProjectIssues(1, opt)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			for _, is := range issues {
				count++
				sum += is.IID
			}
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
	}
	fmt.Printf("%.6f %d %d\n", time.Since(start).Seconds(), count, sum)
}
