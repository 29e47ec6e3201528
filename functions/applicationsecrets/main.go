// Command applicationsecrets is the Lambda function serving the Key Rotation API.
package main

import (
	"identityservice/shared/keyrotationapi"
	"identityservice/shared/lambdafn"
)

func main() { lambdafn.Main(lambdafn.ServiceRoutes(keyrotationapi.Routes)) }
