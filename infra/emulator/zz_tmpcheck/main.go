package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"identityservice/infra/emulator"
)

func main() {
	ctx := context.Background()
	switch os.Args[1] {
	case "time":
		for i := 0; i < 3; i++ {
			b := time.Now()
			d, err := emulator.StartDynamoDB(ctx, "127.0.0.1:0")
			if err != nil {
				panic(err)
			}
			td := time.Since(b)
			b = time.Now()
			m, err := emulator.StartSecretsManager(ctx, "127.0.0.1:0")
			if err != nil {
				panic(err)
			}
			tm := time.Since(b)
			b = time.Now()
			d.Stop()
			sd := time.Since(b)
			b = time.Now()
			m.Stop()
			fmt.Printf("dynamodb start %s stop %s; moto start %s stop %s\n", td, sd, tm, time.Since(b))
		}
	case "stack":
		s, err := emulator.StartStack(ctx, os.Args[2], os.Args[3])
		fmt.Println("err:", err)
		if err == nil {
			fmt.Println(s.Env())
			if len(os.Args) > 4 {
				fmt.Println("pid", os.Getpid(), "sleeping")
				time.Sleep(time.Hour)
			}
			s.Stop()
		}
	}
}
