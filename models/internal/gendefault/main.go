// Command gendefault trains the default model exactly as
// `evsnn train --seed 1 -o models/default.evsnn` does (same settings, same
// provenance string, same file), for use before the CLI has a train
// command. Run from the repository root:
//
//	go run ./models/internal/gendefault -o models/default.evsnn
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/network/modelfile"
	"github.com/evsnn/evsnn/network/train"
)

func main() {
	out := flag.String("o", "models/default.evsnn", "output model file")
	seed := flag.Uint64("seed", 1, "seed")
	epochs := flag.Int("epochs", 0, "epochs (0: default)")
	workers := flag.Int("threads", 0, "workers (0: GOMAXPROCS)")
	images := flag.Int("images", 0, "training images (0: all)")
	noTest := flag.Bool("notest", false, "skip the per-epoch test evaluation")
	resume := flag.String("resume", "", "continue from this checkpoint")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := mnist.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	tr, err := mnist.LoadN(dir, "train", *images)
	if err != nil {
		log.Fatal(err)
	}
	te, err := mnist.Load(dir, "test")
	if err != nil {
		log.Fatal(err)
	}
	cfg := train.Config{Seed: *seed, Epochs: *epochs, Workers: *workers, Checkpoint: *out + ".ckpt"}
	if !*noTest {
		cfg.Test = &train.Dataset{Images: te.Images, Labels: te.Labels}
	}
	var t *train.Trainer
	if *resume != "" {
		cfg.Seed = 0
		t, err = train.Resume(*resume, cfg)
	} else {
		net := train.DefaultArchitecture(*seed)
		net.Meta.Source = train.Source(cfg, tr.N, net)
		t, err = train.New(net, cfg)
	}
	if err != nil {
		log.Fatal(err)
	}
	net := t.Net()
	log.Printf("source: %s", net.Meta.Source)
	start := time.Now()
	last := time.Now()
	err = t.Run(ctx, train.Dataset{Images: tr.Images, Labels: tr.Labels}, func(p train.Progress) {
		if p.EpochDone {
			log.Printf("epoch %d/%d: loss %.4f train %.2f%% test loss %.4f test %.2f%% epoch %.1fs elapsed %.1fs",
				p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.TestLoss, 100*p.TestAccuracy, p.EpochTime.Seconds(), p.Elapsed.Seconds())
			return
		}
		if time.Since(last) > 15*time.Second {
			last = time.Now()
			log.Printf("epoch %d batch %d/%d loss %.4f acc %.2f%% lr %.3g eta %s",
				p.Epoch, p.Batch, p.Batches, p.Loss, 100*p.Accuracy, p.LR, p.ETA.Round(time.Second))
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := modelfile.Save(*out, net); err != nil {
		log.Fatal(err)
	}
	os.Remove(cfg.Checkpoint)
	data, _ := os.ReadFile(*out)
	fmt.Printf("%x  %s  (%.1fs)\n", sha256.Sum256(data), *out, time.Since(start).Seconds())
}
