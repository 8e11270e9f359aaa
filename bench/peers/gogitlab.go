// Benchmark peer: go-gitlab (Debian golang-github-xanzy-go-gitlab-dev).
//
// Natural configuration: gitlab.NewClient with WithBaseURL and nothing else,
// which gives go-gitlab's pooled keep-alive transport (HTTP/2 through ALPN
// over HTTPS), its retrying client and its rate limiter (unlimited here: the
// server sends no RateLimit-* headers). Over HTTPS the CA comes the way Go
// programs take one without code: SSL_CERT_FILE (crypto/x509 reads it in
// place of the system roots); the runner sets it.
//
// W4: 16 goroutines share the one client and take project ids 1..1000 from
// a channel.
//
// usage: gogitlab WORKLOAD URL
// prints: "<seconds> <count> <checksum> <HTTP version>" (checksum: sum of ids
// or iids; the version is resp.Proto of the answers, "mixed" if they differ)
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	gitlab "github.com/xanzy/go-gitlab"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gogitlab WORKLOAD URL")
		os.Exit(2)
	}
	workload := os.Args[1]
	start := time.Now()
	gl, err := gitlab.NewClient("glpat-bench", gitlab.WithBaseURL(os.Args[2]+"/api/v4"))
	if err != nil {
		fail(err)
	}
	count, sum := 0, 0
	proto := ""
	seen := func(resp *gitlab.Response) {
		p := "?"
		switch resp.ProtoMajor {
		case 1:
			p = fmt.Sprintf("1.%d", resp.ProtoMinor)
		case 2:
			p = "2"
		}
		if proto == "" {
			proto = p
		} else if proto != p {
			proto = "mixed"
		}
	}
	switch workload {
	case "w0", "w1", "w1s":
		n := 2000
		if workload == "w0" {
			n = 1
		}
		for i := 0; i < n; i++ {
			p, resp, err := gl.Projects.GetProject(1, nil)
			if err != nil {
				fail(err)
			}
			count++
			sum += p.ID
			seen(resp)
		}
	case "w4":
		ids := make(chan int, 1000)
		for i := 1; i <= 1000; i++ {
			ids <- i
		}
		close(ids)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					p, resp, err := gl.Projects.GetProject(id, nil)
					if err != nil {
						fail(err)
					}
					mu.Lock()
					count++
					sum += p.ID
					seen(resp)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	default:
		// go-gitlab's documented way to list everything: loop on NextPage
		opt := &gitlab.ListProjectIssuesOptions{
			ListOptions: gitlab.ListOptions{PerPage: 100, Page: 1},
		}
		for {
			issues, resp, err := gl.Issues.ListProjectIssues(1, opt)
			if err != nil {
				fail(err)
			}
			for _, is := range issues {
				count++
				sum += is.IID
			}
			seen(resp)
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
	}
	fmt.Printf("%.6f %d %d %s\n", time.Since(start).Seconds(), count, sum, proto)
}
